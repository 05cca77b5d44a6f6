import Testing
@testable import TraverseCore

/// Network helpers for the relay tests: nodes sharing an IP address, sockets that drop,
/// and the usual relay set-ups and outcomes.
extension SwarmNetwork {
    /// Adds a node with an Ed25519 key from `seed` at `host` (several nodes may share one).
    @discardableResult
    mutating func addNode(seed: UInt8, configuration: SwarmConfiguration = .init(), host: IPv4Address) throws -> Int {
        let key = try PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32))
        let swarm = try Swarm(
            identityKey: key, configuration: configuration, now: now,
            using: SeededRandomNumberGenerator(seed: UInt64(seed)))
        nodes.append(Node(swarm: swarm, host: host))
        return nodes.count - 1
    }

    /// Drops the socket of `connection` on `node` abruptly: both ends see the transport
    /// close with a reset, nothing in flight is delivered.
    mutating func dropSocket(node: Int, connection: ConnectionID) {
        let local = Endpoint(node: node, connection: connection)
        guard let remote = links.removeValue(forKey: local) else {
            Issue.record("no socket \(connection) on node \(node)")
            return
        }
        links[remote] = nil
        inFlight[local] = nil
        inFlight[remote] = nil
        nodes[node].swarm.transportClosed(connection, .connectionReset, now: now)
        nodes[remote.node].swarm.transportClosed(remote.connection, .connectionReset, now: now)
    }

    /// The direct (socket) connection `node` has to `peer`.
    func directConnection(_ node: Int, to peer: PeerID) -> ConnectionSummary? {
        nodes[node].swarm.connections(to: peer).first { !$0.isRelayed }
    }

    /// The relayed connection `node` has to `peer`.
    func relayedConnection(_ node: Int, to peer: PeerID) -> ConnectionSummary? {
        nodes[node].swarm.connections(to: peer).first { $0.isRelayed }
    }
}

/// Set-ups and outcome readers shared by the relay suites.
enum RelayTestBed {
    /// The peer ID node `node` of `network(…)` will have (its key comes from seed `node + 1`).
    static func peer(ofNode node: Int) throws -> PeerID {
        try PrivateKey(ed25519Seed: [UInt8](repeating: UInt8(node + 1), count: 32)).peerID
    }

    /// A configuration of a relay (hop role only) under `hop`.
    static func relayConfiguration(_ hop: RelayHopConfiguration) -> SwarmConfiguration {
        var configuration = SwarmConfiguration()
        configuration.relay.roles = [.hop]
        configuration.relay.hop = hop
        return configuration
    }

    /// Node 0 is a relay listening on 10.0.0.1:4001; nodes 1… are clients, one per entry
    /// of `clients` (its configuration and, when given, its host). Returns the relay's
    /// full address.
    static func network(
        hop: RelayHopConfiguration = .init(),
        clients: [(configuration: SwarmConfiguration, host: IPv4Address?)]
    ) throws -> (SwarmNetwork, Multiaddr) {
        var network = SwarmNetwork()
        try network.addNode(seed: 1, configuration: relayConfiguration(hop))
        for (index, client) in clients.enumerated() {
            let seed = UInt8(index + 2)
            if let host = client.host {
                try network.addNode(seed: seed, configuration: client.configuration, host: host)
            } else {
                try network.addNode(seed: seed, configuration: client.configuration)
            }
        }
        _ = try network.nodes[0].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/4001"), now: network.now)
        network.settle()
        let relayAddress = try #require(network.listenAddress(0))
        return (network, relayAddress)
    }

    /// A relay and `count` default clients at their own hosts.
    static func network(hop: RelayHopConfiguration = .init(), clientCount count: Int) throws -> (SwarmNetwork, Multiaddr) {
        try network(hop: hop, clients: Array(repeating: (SwarmConfiguration(), nil), count: count))
    }

    /// Reserves for `node` on the relay at `relayAddress` and returns its reservation's
    /// outcome (the node's events are taken).
    static func reserve(
        _ node: Int, on relayAddress: Multiaddr, in network: inout SwarmNetwork
    ) throws -> Result<Multiaddr, RelayReservationFailure> {
        try network.nodes[node].swarm.reserve(on: relayAddress, now: network.now)
        network.settle()
        for event in network.takeEvents(node) {
            switch event {
            case .reservationAccepted(_, _, let addresses):
                return .success(try #require(addresses.first))
            case .reservationFailed(_, let failure, _):
                return .failure(failure)
            default:
                continue
            }
        }
        Issue.record("node \(node) got no reservation outcome")
        return .failure(.connectionLost)
    }

    /// Reserves for `node` and requires it to be granted; returns its circuit address.
    static func reserved(_ node: Int, on relayAddress: Multiaddr, in network: inout SwarmNetwork) throws -> Multiaddr {
        try reserve(node, on: relayAddress, in: &network).get()
    }

    /// Dials `address` from `node`, settles, and returns the dial's outcome (the node's
    /// events are taken).
    static func dial(
        from node: Int, _ address: Multiaddr, reusingConnection: Bool = true, in network: inout SwarmNetwork
    ) -> Result<ConnectionID, DialFailure> {
        let dial = network.nodes[node].swarm.dial(address, reusingConnection: reusingConnection, now: network.now)
        network.settle()
        for event in network.takeEvents(node) {
            switch event {
            case .dialSucceeded(dial, _, let connection): return .success(connection)
            case .dialFailed(dial, let failure): return .failure(failure)
            default: continue
            }
        }
        Issue.record("dial from node \(node) to \(address) did not finish")
        return .failure(.timedOut)
    }

    /// The reasons of a dial's failed attempts (empty for a success or another failure).
    static func attemptReasons(_ outcome: Result<ConnectionID, DialFailure>) -> [DialAttemptFailureReason] {
        guard case .failure(.allAttemptsFailed(let attempts)) = outcome else { return [] }
        return attempts.map(\.reason)
    }

    /// The refusals among `events` (a relay's).
    static func refusals(_ events: [SwarmEvent]) -> [(PeerID, RelayRefusal)] {
        events.compactMap { event in
            if case .relayRequestRefused(let peer, let refusal) = event { (peer, refusal) } else { nil }
        }
    }

    /// The circuit ends among `events` (a relay's).
    static func circuitEnds(_ events: [SwarmEvent]) -> [RelayCircuitEnd] {
        events.compactMap { event in
            if case .relayCircuitClosed(_, let end) = event { end } else { nil }
        }
    }

    /// The closed connections among `events`.
    static func closedConnections(_ events: [SwarmEvent]) -> [ConnectionSummary] {
        events.compactMap { event in
            if case .connectionClosed(let summary, _) = event { summary } else { nil }
        }
    }
}
