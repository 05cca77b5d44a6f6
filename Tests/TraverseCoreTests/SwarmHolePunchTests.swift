import Testing
@testable import TraverseCore

/// DCUtR in the swarm, on the in-memory network: a relayed connection becomes direct.
/// Node 0 is the relay; node 1 (B) holds a reservation and accepts the relayed connection
/// (the DCUtR initiator); node 2 (A) dials through the relay (the responder). The network
/// has no NAT, so what is checked is the exchange, the roles, the attempts and what the
/// swarm does with the connections; real NATs are the NAT lab's (`NATLabTests`).
@Suite struct SwarmHolePunchTests {
    /// Clients that take the in-memory network's private addresses as dialable.
    static func clientConfiguration() -> SwarmConfiguration {
        var configuration = SwarmConfiguration()
        configuration.holePunch.exchange.addressSelection.acceptedScopes = [.global, .privateNetwork]
        return configuration
    }

    /// A relay, B listening at 10.0.0.2:4001 with a reservation, A listening at
    /// 10.0.0.3:4001 and a relayed connection from A to B. B's and A's events up to then are
    /// taken.
    static func relayedPair(
        _ configuration: SwarmConfiguration = clientConfiguration()
    ) throws -> (network: SwarmNetwork, circuit: Multiaddr) {
        var (network, relayAddress) = try RelayTestBed.network(clients: [(configuration, nil), (configuration, nil)])
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        _ = try network.nodes[2].swarm.listen(on: Multiaddr("/ip4/10.0.0.3/tcp/4001"), now: network.now)
        network.settle()
        let circuit = try RelayTestBed.reserved(1, on: relayAddress, in: &network)
        // A knows the relay too, so its identify reports an observed address.
        _ = network.nodes[2].swarm.dial(relayAddress, now: network.now)
        network.settle()
        _ = network.takeEvents(1)
        _ = network.takeEvents(2)
        return (network, circuit)
    }

    /// `relayedPair`, then A dials B through the relay while both listening ports are black
    /// holes (their connects held by the network): returns once B's session has punch dials
    /// hanging, with B's events up to then taken, and the circuit address.
    static func relayedPairWithHangingPunch(
        _ configuration: SwarmConfiguration = clientConfiguration()
    ) throws -> (network: SwarmNetwork, circuit: Multiaddr) {
        var (network, circuit) = try relayedPair(configuration)
        let b = network.peer(1)
        network.blackHoles = [.ipv4(IPv4Address(10, 0, 0, 2), port: 4001), .ipv4(IPv4Address(10, 0, 0, 3), port: 4001)]
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.run(until: .seconds(5)) { network in
            network.nodes[2].swarm.connections(to: b).contains(where: \.isRelayed)
                && network.nodes[1].swarm.holePunch.sessions.values.contains { !$0.dials.isEmpty }
        }
        _ = network.takeEvents(1)
        return (network, circuit)
    }

    static func successes(_ events: [SwarmEvent]) -> [(peer: PeerID, direct: ConnectionID, attempt: Int, time: Duration)] {
        events.compactMap { event in
            if case .holePunchSucceeded(let peer, let direct, _, let attempt, let time) = event {
                (peer, direct, attempt, time)
            } else { nil }
        }
    }

    static func failures(_ events: [SwarmEvent]) -> [HolePunchFailure] {
        events.compactMap { event in
            if case .holePunchFailed(_, let failure) = event { failure } else { nil }
        }
    }

    @Test func relayedConnectionBecomesDirectAndTheRelayedOneCloses() throws {
        var (network, circuit) = try Self.relayedPair()
        let b = network.peer(1), a = network.peer(2)
        network.now = network.now + .milliseconds(3)
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.run(until: .seconds(5)) { network in network.directConnection(2, to: b) != nil }
        // The relayed connection outlives the punch by its grace (2 s), then closes.
        let punchedAt = network.now
        #expect(network.relayedConnection(2, to: b) != nil && network.relayedConnection(1, to: a) != nil)
        network.run(until: .seconds(5)) { network in
            network.relayedConnection(2, to: b) == nil && network.relayedConnection(1, to: a) == nil
        }
        #expect(network.now - punchedAt >= .milliseconds(1900))
        let eventsB = network.takeEvents(1), eventsA = network.takeEvents(2)
        // Both sides report the upgrade, on the first attempt.
        let successB = try #require(Self.successes(eventsB).first)
        let successA = try #require(Self.successes(eventsA).first)
        #expect(successB.peer == a && successA.peer == b)
        #expect(successB.attempt == 1 && successA.attempt == 1)
        #expect(Self.failures(eventsB + eventsA).isEmpty)
        // The direct connection is a socket between their listening ports; the relayed one is gone.
        let direct = try #require(network.directConnection(2, to: b))
        #expect(direct.remoteAddress == (try Multiaddr("/ip4/10.0.0.2/tcp/4001")))
        #expect(network.relayedConnection(2, to: b) == nil && network.relayedConnection(1, to: a) == nil)
        // New streams use it.
        let ping = network.nodes[2].swarm.ping(b, now: network.now)
        network.settle()
        #expect(network.takeEvents(2).contains { if case .requestCompleted(ping, .pinged) = $0 { true } else { false } })
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
    }

    @Test func theInitiatorIsTheSecurityServerOfTheDirectConnection() throws {
        var (network, circuit) = try Self.relayedPair()
        let b = network.peer(1)
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.run(until: .seconds(5)) { network in network.directConnection(2, to: b) != nil }
        // A (responder) dialed B's listening port and upgraded as the client; B accepted the
        // socket or dialed A's port, and was the server either way: one direct connection
        // each way at most, every one authenticated.
        let directA = network.nodes[2].swarm.connections(to: b).filter { !$0.isRelayed }
        #expect(!directA.isEmpty)
        let eventsA = network.takeEvents(2)
        let success = try #require(Self.successes(eventsA).first)
        #expect(directA.contains { $0.id == success.direct })
    }

    @Test func unreachableAddressesUseEveryAttemptThenGiveUp() throws {
        var (network, circuit) = try Self.relayedPair()
        let b = network.peer(1), a = network.peer(2)
        // Neither listening port answers: every punch dial times out.
        network.blackHoles = [.ipv4(IPv4Address(10, 0, 0, 2), port: 4001), .ipv4(IPv4Address(10, 0, 0, 3), port: 4001)]
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.run(until: .seconds(60)) { network in
            network.nodes[1].events.contains { if case .holePunchFailed = $0 { true } else { false } }
                && network.nodes[2].events.contains { if case .holePunchFailed = $0 { true } else { false } }
        }
        let failureB = try #require(Self.failures(network.takeEvents(1)).first)
        let failureA = try #require(Self.failures(network.takeEvents(2)).first)
        #expect(failureB.attempts == 3 && failureA.attempts == 3)
        #expect(failureB.lastFailure == .dialTimedOut || failureB.lastFailure == .dialsFailed)
        // The relayed connection stays, and still carries streams.
        #expect(network.relayedConnection(2, to: b) != nil && network.relayedConnection(1, to: a) != nil)
        #expect(network.directConnection(2, to: b) == nil)
        let ping = network.nodes[2].swarm.ping(b, now: network.now)
        network.settle()
        #expect(network.takeEvents(2).contains { if case .requestCompleted(ping, .pinged) = $0 { true } else { false } })
    }

    @Test func aPeerWithoutDCUtRIsNotHolePunched() throws {
        var without = Self.clientConfiguration()
        without.holePunch.isEnabled = false
        var (network, relayAddress) = try RelayTestBed.network(clients: [(Self.clientConfiguration(), nil), (without, nil)])
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        network.settle()
        let circuit = try RelayTestBed.reserved(1, on: relayAddress, in: &network)
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        for _ in 0..<100 { network.advance(by: .milliseconds(100)) }
        let events = network.takeEvents(1) + network.takeEvents(2)
        #expect(Self.successes(events).isEmpty && Self.failures(events).isEmpty)
        #expect(network.relayedConnection(2, to: network.peer(1)) != nil)
    }

    @Test func dcutrIsRefusedOnDirectConnections() throws {
        var network = SwarmNetwork()
        try network.addNode(seed: 1, configuration: Self.clientConfiguration())
        try network.addNode(seed: 2, configuration: Self.clientConfiguration())
        _ = try network.nodes[0].swarm.listen(on: Multiaddr("/ip4/10.0.0.1/tcp/4001"), now: network.now)
        network.settle()
        _ = network.nodes[1].swarm.dial(try #require(network.listenAddress(0)), now: network.now)
        network.settle()
        let request = network.nodes[1].swarm.openStream(to: network.peer(0), protocols: [StreamProtocolID.dcutr], now: network.now)
        network.settle()
        let events = network.takeEvents(1)
        // The stream is reset (or refused): no hole punch over a direct connection.
        let opened = events.contains { if case .streamOpened(request, _, _) = $0 { true } else { false } }
        let reset = events.contains { if case .streamReset = $0 { true } else { false } }
        let refused = events.contains { if case .requestCompleted(request, .failed) = $0 { true } else { false } }
        #expect(refused || (opened && reset))
    }

    @Test func aRelayedConnectionLostMidPunchDoesNotBlockTheNextOne() throws {
        // The punch dials hang, and the relayed connection goes while they do.
        var (network, circuit) = try Self.relayedPairWithHangingPunch()
        let b = network.peer(1), a = network.peer(2)
        network.nodes[2].swarm.disconnect(b, now: network.now)
        network.settle()
        network.advance(by: .seconds(10))
        // The dials ended with the relayed connection: no session is left behind.
        #expect(network.nodes[1].swarm.holePunch.sessions.isEmpty && network.nodes[2].swarm.holePunch.sessions.isEmpty)
        #expect(network.nodes[1].swarm.holePunch.dialPeers.isEmpty && network.nodes[2].swarm.holePunch.dialPeers.isEmpty)
        // A new relayed connection is hole-punched again.
        network.blackHoles = []
        _ = network.takeEvents(1)
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.run(until: .seconds(10)) { network in network.directConnection(2, to: b) != nil }
        #expect(Self.successes(network.takeEvents(1)).contains { $0.peer == a })
    }

    @Test func aPunchThatConnectsAfterThePeerClosedTheRelayedConnectionStillSucceeds() throws {
        // B's dial to A hangs; A's own punch to B is held too.
        var (network, _) = try Self.relayedPairWithHangingPunch()
        let b = network.peer(1), a = network.peer(2)
        // The relayed connection ends first (as when A's side of the punch won and closed it),
        // then the held punch sockets connect.
        network.nodes[2].swarm.disconnect(b, now: network.now)
        network.settle()
        #expect(network.relayedConnection(1, to: a) == nil)
        #expect(Self.failures(network.nodes[1].events).isEmpty)
        network.releaseHeldConnects()
        network.settle()
        let eventsB = network.takeEvents(1)
        // B reports the punch that worked, not a failure, and keeps nothing of the session.
        #expect(Self.successes(eventsB).map(\.peer) == [a])
        #expect(Self.failures(eventsB).isEmpty)
        #expect(network.directConnection(1, to: a) != nil)
        #expect(network.nodes[1].swarm.holePunch.sessions.isEmpty && network.nodes[1].swarm.holePunch.dialPeers.isEmpty)
    }

    @Test func aDirectConnectionFromThePeerDuringAnAttemptIsTheSuccess() throws {
        var configuration = Self.clientConfiguration()
        configuration.reusesListenPortForDials = false
        var (network, _) = try Self.relayedPairWithHangingPunch(configuration)
        let b = network.peer(1), a = network.peer(2)
        // A's SYN reaches B's listening port (from a port B is not dialing) while B's own
        // punch dials still hang: that connection is the upgrade.
        network.blackHoles = []
        _ = network.nodes[2].swarm.dial(try Multiaddr("/ip4/10.0.0.2/tcp/4001/p2p/\(b)"), reusingConnection: false, now: network.now)
        network.settle()
        let eventsB = network.takeEvents(1)
        #expect(Self.successes(eventsB).map(\.peer) == [a])
        #expect(Self.failures(eventsB).isEmpty)
        // B's hanging dials are cancelled, and the relayed connection retires.
        #expect(network.nodes[1].swarm.holePunch.dialPeers.isEmpty)
        network.releaseHeldConnects()
        network.settle()
        // The relayed connection stays for its grace (A may not know of the direct one yet),
        // then closes.
        #expect(network.relayedConnection(1, to: a) != nil)
        network.advance(by: .seconds(3))
        #expect(network.relayedConnection(1, to: a) == nil)
        #expect(network.directConnection(1, to: a) != nil)
    }
}
