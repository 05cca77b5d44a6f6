/// Requests that ended, by how.
public struct RequestCounts: Hashable, Sendable {
    /// Requests that completed (a ping answered, a stream opened, …).
    public var succeeded: UInt64 = 0
    /// Requests that failed (dial, refusal, reset, timeout, …).
    public var failed: UInt64 = 0

    /// Every request counted.
    public var total: UInt64 { succeeded + failed }

    /// `succeeded / total`, or `nil` before any request.
    public var successRate: Double? { total == 0 ? nil : Double(succeeded) / Double(total) }

    /// No requests.
    public init() {}

    /// Counts one request that ended.
    mutating func record(succeeded: Bool) {
        if succeeded { self.succeeded += 1 } else { failed += 1 }
    }
}

/// What this node measured of its traffic with one peer (`Swarm.metrics(for:now:)`,
/// `Node.metrics(for:)`): the tier that carries it, latency, requests and their outcomes,
/// dials and hole punches.
public struct PeerMetrics: Hashable, Sendable {
    /// The peer.
    public let peer: PeerID
    /// The tier new streams to the peer take now (direct before relay before NATS), or
    /// `nil` when no connection is open.
    public internal(set) var tier: ConnectionTier?
    /// The tiers of the open connections, best first, each once.
    public internal(set) var openTiers: [ConnectionTier] = []
    /// The latest round-trip time measured (ping, or the muxer's keepalive).
    public internal(set) var latestRoundTrip: Duration?
    /// The round-trip time as an exponential moving average (α 0.3).
    public internal(set) var averageRoundTrip: Duration?
    /// Requests this node made to the peer (ping, perf, echo, stream opens) that ended.
    public internal(set) var requests = RequestCounts()
    /// The same, by the tier of the connection they ran on (a request that never got a
    /// connection is in `requests` only).
    public internal(set) var requestsByTier: [ConnectionTier: RequestCounts] = [:]
    /// Dials to the peer that connected, and that failed.
    public internal(set) var dialsSucceeded: UInt64 = 0
    public internal(set) var dialsFailed: UInt64 = 0
    /// Hole punches with the peer that reached a direct connection, and that gave up.
    public internal(set) var holePunchesSucceeded: UInt64 = 0
    public internal(set) var holePunchesFailed: UInt64 = 0
    /// Connections established with the peer, by tier.
    public internal(set) var connectionsEstablished: [ConnectionTier: UInt64] = [:]
    /// When the peer was first and last seen doing anything counted here.
    public internal(set) var firstSeen: Instant
    public internal(set) var lastActivity: Instant

    /// `requests.successRate`: the share of requests that succeeded (`nil`: none yet).
    public var successRate: Double? { requests.successRate }

    init(peer: PeerID, now: Instant) {
        self.peer = peer
        firstSeen = now
        lastActivity = now
    }

    /// The weight of a new round trip in `averageRoundTrip` (as seed 000's tracker).
    static let roundTripSmoothing = 0.3

    mutating func recordRoundTrip(_ time: Duration) {
        latestRoundTrip = time
        guard let average = averageRoundTrip else {
            averageRoundTrip = time
            return
        }
        averageRoundTrip = average * (1 - Self.roundTripSmoothing) + time * Self.roundTripSmoothing
    }

    mutating func recordRequest(succeeded: Bool, tier: ConnectionTier?) {
        requests.record(succeeded: succeeded)
        if let tier { requestsByTier[tier, default: RequestCounts()].record(succeeded: succeeded) }
    }
}

/// The whole node's counters, by tier (`Swarm.nodeStatistics`, `Node.nodeStatistics()`;
/// `prometheusText` for scraping).
public struct NodeStatistics: Hashable, Sendable {
    /// Connections open now, by tier (established ones).
    public internal(set) var connectionsOpen: [ConnectionTier: Int] = [:]
    /// Connections established since the start, by tier.
    public internal(set) var connectionsEstablished: [ConnectionTier: UInt64] = [:]
    /// Requests to peers that ended, by the tier of the connection they ran on.
    public internal(set) var requestsByTier: [ConnectionTier: RequestCounts] = [:]
    /// Requests that failed before they had a connection (no address, dial failed, …).
    public internal(set) var requestsFailedUnconnected: UInt64 = 0
    /// Dials (to a peer, shared by the requests waiting on them) that connected and failed.
    public internal(set) var dialsSucceeded: UInt64 = 0
    public internal(set) var dialsFailed: UInt64 = 0
    /// Hole punches that reached a direct connection, and that gave up.
    public internal(set) var holePunchesSucceeded: UInt64 = 0
    public internal(set) var holePunchesFailed: UInt64 = 0
    /// What the node knows of its reachability now.
    public internal(set) var status: NodeStatus?
    /// Peers with a metrics record (at most `SwarmConfiguration.maximumPeerMetrics`).
    public internal(set) var trackedPeers = 0

    /// Zeros.
    public init() {}
}

/// The swarm's metrics: one record per peer (bounded) and the node's counters.
struct SwarmMetricsState {
    var peers: [PeerID: PeerMetrics] = [:]
    var totals = NodeStatistics()

    /// The record of `peer`, made (evicting the least recently active peer that is not
    /// connected when the table is full) if needed; `nil` when the table is full of
    /// connected peers.
    mutating func withRecord(
        of peer: PeerID, now: Instant, limit: Int, isConnected: (PeerID) -> Bool, _ body: (inout PeerMetrics) -> Void
    ) {
        if peers[peer] == nil {
            guard limit > 0 else { return }
            if peers.count >= limit {
                var evictable: PeerMetrics?
                for candidate in peers.values where !isConnected(candidate.peer) {
                    if evictable.map({ candidate.lastActivity < $0.lastActivity }) ?? true { evictable = candidate }
                }
                guard let evictable else { return }
                peers.removeValueReleasingEmptyStorage(forKey: evictable.peer)
            }
            peers[peer] = PeerMetrics(peer: peer, now: now)
        }
        body(&peers[peer]!)
        peers[peer]!.lastActivity = max(peers[peer]!.lastActivity, now)
    }
}
