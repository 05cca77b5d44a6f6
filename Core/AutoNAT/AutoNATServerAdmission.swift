/// Rate limits of the AutoNAT server.
public struct AutoNATServerAdmissionConfiguration: Hashable, Sendable {
    /// Dial backs for all peers together per `interval` (go-libp2p's `throttleGlobalMax`).
    public var globalDialBacks = 30
    /// Dial backs for one peer per `interval` (go-libp2p's `throttlePeerMax`).
    public var dialBacksPerPeer = 3
    /// The interval both rates refer to; the buckets refill smoothly over it.
    public var interval: Duration = .seconds(60)
    /// The most peers whose rate is tracked at once. A peer whose bucket is full again is
    /// forgotten to make room; when none is, new peers are refused (`tooManyPeers`).
    public var maximumTrackedPeers = 1024

    /// The defaults.
    public init() {}
}

/// Why the AutoNAT server does not dial back: answered with `E_DIAL_REFUSED`, or (for a
/// relayed connection) by not serving the stream at all.
public enum AutoNATAdmissionRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// The request came over a relayed connection, whose IP cannot be checked.
    case relayedConnection
    /// All peers together used up `globalDialBacks`.
    case globalRateExceeded
    /// This peer used up `dialBacksPerPeer`.
    case peerRateExceeded
    /// `maximumTrackedPeers` peers are being rate limited.
    case tooManyPeers

    /// The status to answer with.
    public var status: AutoNATResponseStatus { .dialRefused }

    public var description: String {
        switch self {
        case .relayedConnection: "AutoNAT over a relayed connection"
        case .globalRateExceeded: "too many dial backs"
        case .peerRateExceeded: "too many dial backs for this peer"
        case .tooManyPeers: "too many peers asking for dial backs"
        }
    }
}

/// The AutoNAT server's admission control, a pure value the swarm keeps: relayed
/// connections are refused outright, dial backs are limited globally and per peer by
/// token buckets on injected time.
///
/// The swarm asks `admitsStream(onRelayedConnection:)` before starting an `AutoNATServer`
/// (none is started over a relayed connection), and `admitDialBack(for:now:)` on its
/// `dialBackRequested`, so only well-formed requests that would really dial use up tokens.
/// Concurrency needs no limit of its own: the global rate times the server's timeout bounds
/// the dial backs in flight (30 per minute × 60 s).
public struct AutoNATServerAdmission: Sendable {
    /// The limits.
    public let configuration: AutoNATServerAdmissionConfiguration
    private var global: TokenBucket
    private var peers: [PeerID: TokenBucket] = [:]

    /// Admission with full buckets at `now`.
    public init(configuration: AutoNATServerAdmissionConfiguration = .init(), now: Instant) {
        self.configuration = configuration
        global = TokenBucket(
            capacity: configuration.globalDialBacks, refillAmount: configuration.globalDialBacks,
            every: configuration.interval, now: now)
    }

    /// How many peers are being rate limited.
    public var trackedPeerCount: Int { peers.count }

    /// Whether an AutoNAT stream may be served on a connection: not on a relayed one.
    public func admitsStream(onRelayedConnection relayed: Bool) -> AutoNATAdmissionRefusal? {
        relayed ? .relayedConnection : nil
    }

    /// Takes a dial back for `peer` at `now` from both buckets, or says why not (taking
    /// nothing).
    public mutating func admitDialBack(for peer: PeerID, relayed: Bool = false, now: Instant) -> AutoNATAdmissionRefusal? {
        if relayed { return .relayedConnection }
        var bucket: TokenBucket
        if let existing = peers[peer] {
            bucket = existing
        } else {
            if peers.count >= max(0, configuration.maximumTrackedPeers) { forgetRestedPeers(now: now) }
            guard peers.count < max(0, configuration.maximumTrackedPeers) else { return .tooManyPeers }
            bucket = TokenBucket(
                capacity: configuration.dialBacksPerPeer, refillAmount: configuration.dialBacksPerPeer,
                every: configuration.interval, now: now)
        }
        guard bucket.available(now: now) >= 1 else {
            peers[peer] = bucket
            return .peerRateExceeded
        }
        guard global.take(now: now) else {
            peers[peer] = bucket
            return .globalRateExceeded
        }
        _ = bucket.take(now: now)
        peers[peer] = bucket
        return nil
    }

    /// Forgets the peers whose buckets are full at `now` (they are as good as new). The
    /// swarm may call it now and then; admission calls it when the table is full.
    public mutating func forgetRestedPeers(now: Instant) {
        for (peer, var bucket) in peers where bucket.isFull(now: now) {
            peers[peer] = nil
        }
    }
}
