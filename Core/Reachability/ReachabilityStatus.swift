/// Whether peers on the internet can dial this node.
public enum Reachability: Hashable, Sendable, CustomStringConvertible {
    /// Not known yet (too few AutoNAT results).
    case unknown
    /// Dialable from the internet.
    case `public`
    /// Not dialable from the internet (behind a NAT or firewall): a relay is needed.
    case `private`

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .public: "public"
        case .private: "private"
        }
    }
}

/// Settings of `ReachabilityStatus`.
public struct ReachabilityStatusConfiguration: Hashable, Sendable {
    /// How many agreeing AutoNAT results in a row, from distinct peers, it takes to adopt a
    /// reachability (from unknown, or flipping from the other one). The spec says "more
    /// than 3 peers"; go-libp2p's `maxConfidence` is 3.
    public var resultsToFlip = 3
    /// The highest confidence: how many agreeing results are remembered. At full confidence
    /// a contrary result lowers it by one; a flip still takes `resultsToFlip` contrary
    /// results in a row.
    public var maximumConfidence = 3
    /// How long a reachability holds without a new result before it decays to unknown
    /// (addresses and NATs change); `nil` never.
    public var lifetime: Duration? = .seconds(60 * 60)
    /// How often to probe while the reachability is unknown or not fully confident
    /// (go-libp2p's `retryInterval`).
    public var retryInterval: Duration = .seconds(90)
    /// How often to probe once fully confident (go-libp2p's `refreshInterval`).
    public var refreshInterval: Duration = .seconds(15 * 60)

    /// The defaults.
    public init() {}
}

/// This node's reachability as AutoNAT results from other peers say it is, with a
/// confidence so one odd result does not flip it (go-libp2p's ambient AutoNAT, as a value).
///
/// - `record(_:from:now:)` takes each AutoNAT outcome (`AutoNATClientEvent.observation`):
///   `public` (a dial back worked), `private` (dials back failed); refusals and failures
///   say nothing and are not recorded.
/// - A reachability is adopted once `resultsToFlip` results in a row, from distinct peers,
///   say it. A result agreeing with the current reachability raises the confidence (up to
///   `maximumConfidence`) and clears any contrary streak; a contrary result lowers it and
///   counts toward a flip. A second result from the same peer within a streak is ignored,
///   so one peer cannot flip the status alone.
/// - Without results for `lifetime`, the status decays to unknown.
///
/// No clock is read; the swarm passes `now`.
public struct ReachabilityStatus: Hashable, Sendable {
    /// The settings.
    public let configuration: ReachabilityStatusConfiguration
    /// The current reachability.
    public private(set) var reachability: Reachability = .unknown
    /// How many agreeing results back the current reachability, at most
    /// `maximumConfidence` (0 when unknown).
    public private(set) var confidence = 0
    /// When the last result that counted was recorded.
    public private(set) var lastResultAt: Instant?
    /// When the reachability last changed.
    public private(set) var changedAt: Instant?
    /// The address a successful dial back last reached.
    public private(set) var lastReachedAddress: Multiaddr?

    private var streak: Reachability = .unknown
    private var streakPeers: [PeerID] = []

    /// An unknown status.
    public init(configuration: ReachabilityStatusConfiguration = .init()) {
        self.configuration = configuration
    }

    /// Whether a relay is needed for inbound connections: the node is known to be private.
    public var relayRequired: Bool { reachability == .private }

    /// Records what an AutoNAT request to `peer` found; returns whether the reachability
    /// changed.
    @discardableResult
    public mutating func record(_ event: AutoNATClientEvent, from peer: PeerID, now: Instant) -> Bool {
        guard let observation = event.observation else { return expire(now: now) }
        if case .reachable(let address?) = event { lastReachedAddress = address }
        return record(observation, from: peer, now: now)
    }

    /// Records one observation (`public` or `private`; `unknown` is ignored) from `peer`;
    /// returns whether the reachability changed.
    @discardableResult
    public mutating func record(_ observation: Reachability, from peer: PeerID, now: Instant) -> Bool {
        let expired = expire(now: now)
        guard observation != .unknown else { return expired }
        lastResultAt = now
        let threshold = max(1, configuration.resultsToFlip)
        if observation == reachability {
            confidence = min(max(1, configuration.maximumConfidence), confidence + 1)
            streak = .unknown
            streakPeers.removeAll()
            return expired
        }
        if streak != observation {
            streak = observation
            streakPeers.removeAll()
        }
        guard !streakPeers.contains(peer) else { return expired }
        streakPeers.append(peer)
        if reachability != .unknown { confidence = max(0, confidence - 1) }
        guard streakPeers.count >= threshold else { return expired }
        reachability = observation
        confidence = min(max(1, configuration.maximumConfidence), streakPeers.count)
        streak = .unknown
        streakPeers.removeAll()
        changedAt = now
        return true
    }

    /// Forgets everything (the listen addresses changed): back to unknown. Returns whether
    /// the reachability changed.
    @discardableResult
    public mutating func reset(now: Instant) -> Bool {
        let changed = reachability != .unknown
        reachability = .unknown
        confidence = 0
        streak = .unknown
        streakPeers.removeAll()
        lastReachedAddress = nil
        if changed { changedAt = now }
        return changed
    }

    /// Decays to unknown when no result came for `lifetime`; returns whether the
    /// reachability changed. Call at `nextDeadline`.
    @discardableResult
    public mutating func expire(now: Instant) -> Bool {
        guard reachability != .unknown, let expiry = expiresAt, now >= expiry else { return false }
        return reset(now: now)
    }

    /// When the current reachability decays without a new result.
    public var expiresAt: Instant? {
        guard reachability != .unknown, let lifetime = configuration.lifetime, let lastResultAt else { return nil }
        return lastResultAt + lifetime
    }

    /// When to call `expire(now:)`.
    public var nextDeadline: Instant? { expiresAt }

    /// When the swarm should start its next AutoNAT request, given that the last one started
    /// at `lastProbeAt` (`nil`: none yet, so now): soon while unknown or unsure, rarely when
    /// fully confident.
    public func nextProbe(after lastProbeAt: Instant?, now: Instant) -> Instant {
        guard let lastProbeAt else { return now }
        let fullyConfident = reachability != .unknown && confidence >= max(1, configuration.maximumConfidence)
        return lastProbeAt + (fullyConfident ? configuration.refreshInterval : configuration.retryInterval)
    }
}
