/// AutoRelay: which relays a node keeps reservations on, and moving them when a relay
/// fails.
public struct AutoRelayConfiguration: Sendable {
    /// Whether the swarm manages reservations itself. Off by default: a node that wants
    /// relays names them (`relays`) or lets identify find them (`discoversRelays`).
    public var isEnabled = false
    /// Relays to use (each address ends with `/p2p/RELAY`), in order of preference.
    public var relays: [Multiaddr] = []
    /// Whether peers whose identify lists the hop protocol and a direct address become
    /// candidates too.
    public var discoversRelays = true
    /// Relays to hold reservations on at once (at most
    /// `relay.client.maximumConcurrentReservations`).
    public var reservations = 2
    /// How often reserved relays are checked (a Yamux ping on their connection) and
    /// missing reservations made.
    public var healthCheckInterval: Duration = .seconds(5)
    /// Consecutive failures after which a relay is unhealthy and its reservation moves.
    public var unhealthyAfterFailures = 2
    /// The half-life of a relay's recorded successes and failures.
    public var failureHalfLife: Duration = .seconds(600)
    /// The most candidates kept (discovered ones beyond it are ignored).
    public var maximumCandidates = 32
    /// Whether reservations are kept once AutoNAT finds this node publicly reachable. Off
    /// by default: relays are for nodes that are private or not known to be reachable,
    /// and reservations are made again if that changes.
    public var keepsReservationsWhenPublic = false

    /// The defaults (off).
    public init() {}
}

/// A relay AutoRelay may reserve on.
struct AutoRelayCandidate {
    var addresses: [Multiaddr]
    let isStatic: Bool
    var performance = RelayPerformance()
    /// Not tried again before this (after a failure: 1 s doubling to 60 s).
    var retryAfter: Instant?
    /// A health check was sent at this time and not answered yet.
    var healthCheckSentAt: Instant?
}

/// AutoRelay's state in the swarm.
struct SwarmAutoRelayState {
    var candidates: [PeerID: AutoRelayCandidate] = [:]
    /// Candidates in the order they became known (preference for ties).
    var order: [PeerID] = []
    /// The next health check and reservation upkeep.
    var nextCheck: Instant?

    mutating func add(_ peer: PeerID, addresses: [Multiaddr], isStatic: Bool, limit: Int) {
        if candidates[peer] != nil {
            if isStatic { return }
            candidates[peer]?.addresses = addresses
            return
        }
        guard candidates.count < limit else { return }
        candidates[peer] = AutoRelayCandidate(addresses: addresses, isStatic: isStatic)
        order.append(peer)
    }
}

extension SwarmConfiguration {
    /// Circuit relay in one call, as the seed's API has it: keep reservations on the best
    /// of `relays` (AutoRelay, with discovery from identify) and accept relayed connections;
    /// with `hop`, also relay for other peers.
    public mutating func enableCircuitRelay(relays: [Multiaddr], hop: Bool = false) {
        relay.roles.insert(.stop)
        relay.roles.insert(.client)
        if hop { relay.roles.insert(.hop) }
        autoRelay.isEnabled = true
        autoRelay.relays = relays
    }
}
