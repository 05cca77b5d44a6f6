import Testing
@testable import TraverseCore

/// AutoRelay on the in-memory network: nodes 0–2 are relays at 10.0.0.1–3:4001, node 3 (B)
/// keeps reservations through AutoRelay, node 4 (A) dials B through them.
@Suite struct SwarmAutoRelayTests {
    static func network(reservations: Int = 2) throws -> (SwarmNetwork, [Multiaddr]) {
        var network = SwarmNetwork()
        for seed in 1...3 { try network.addNode(seed: UInt8(seed), configuration: RelayTestBed.relayConfiguration(.init())) }
        var relayAddresses: [Multiaddr] = []
        for node in 0..<3 {
            _ = try network.nodes[node].swarm.listen(on: Multiaddr("/ip4/10.0.0.\(node + 1)/tcp/4001"), now: network.now)
            network.settle()
            relayAddresses.append(try #require(network.listenAddress(node)))
        }
        var configuration = SwarmConfiguration()
        configuration.autoRelay.isEnabled = true
        configuration.autoRelay.relays = relayAddresses
        configuration.autoRelay.reservations = reservations
        try network.addNode(seed: 4, configuration: configuration)
        try network.addNode(seed: 5)
        return (network, relayAddresses)
    }

    static func reservedRelays(_ network: SwarmNetwork, _ node: Int) -> Set<PeerID> {
        Set(network.nodes[node].swarm.activeReservations.map(\.relay))
    }

    /// Kills relay `node`: its sockets drop and its port no longer answers.
    static func kill(_ node: Int, in network: inout SwarmNetwork) {
        network.listeners = network.listeners.filter { $0.value.node != node }
        for (endpoint, _) in network.links where endpoint.node == node {
            if network.links[endpoint] != nil { network.dropSocket(node: node, connection: endpoint.connection) }
        }
    }

    @Test func reservationsAreReleasedOnceAutoNATFindsTheNodePublic() throws {
        var network = SwarmNetwork()
        var relayConfiguration = RelayTestBed.relayConfiguration(.init())
        relayConfiguration.autoNAT = SwarmAutoNATTests.configuration().autoNAT
        for seed in 1...3 { try network.addNode(seed: UInt8(seed), configuration: relayConfiguration) }
        var relayAddresses: [Multiaddr] = []
        for node in 0..<3 {
            _ = try network.nodes[node].swarm.listen(on: Multiaddr("/ip4/10.0.0.\(node + 1)/tcp/4001"), now: network.now)
            network.settle()
            relayAddresses.append(try #require(network.listenAddress(node)))
        }
        var configuration = SwarmAutoNATTests.configuration()
        // One probe at a time (90 s apart): the reservations come first.
        configuration.autoNAT.concurrentProbesWhileUnknown = 1
        configuration.autoRelay.isEnabled = true
        configuration.autoRelay.relays = relayAddresses
        configuration.autoRelay.reservations = 3
        configuration.relay.client.maximumConcurrentReservations = 3
        try network.addNode(seed: 4, configuration: configuration)
        _ = try network.nodes[3].swarm.listen(on: Multiaddr("/ip4/10.0.0.4/tcp/4001"), now: network.now)
        network.advance(by: .milliseconds(10))
        // Not known to be reachable yet: reservations on all three, circuit addresses advertised.
        #expect(Self.reservedRelays(network, 3).count == 3)
        #expect(network.nodes[3].swarm.listenAddresses.contains { $0.isCircuit })
        // The relays also serve AutoNAT; their dial backs reach B's listening port.
        network.run(until: .seconds(600)) { $0.nodes[3].swarm.status(now: $0.now).reachability == .public }
        network.advance(by: .milliseconds(10))
        #expect(network.nodes[3].swarm.status(now: network.now).reachability == .public)
        #expect(Self.reservedRelays(network, 3).isEmpty)
        #expect(!network.nodes[3].swarm.listenAddresses.contains { $0.isCircuit })
        // Health checks go on without taking reservations again.
        network.advance(by: .seconds(30))
        #expect(Self.reservedRelays(network, 3).isEmpty)
    }

    @Test func reservesOnTheConfiguredRelaysUpToTheCount() throws {
        var (network, _) = try Self.network()
        network.advance(by: .milliseconds(10))
        network.settle()
        #expect(Self.reservedRelays(network, 3) == [network.peer(0), network.peer(1)])
        let health = network.nodes[3].swarm.relayHealthStatus(now: network.now)
        #expect(health.map(\.relay) == [network.peer(0), network.peer(1), network.peer(2)])
        #expect(health.filter(\.isReserved).count == 2 && health.allSatisfy(\.isHealthy) && health.allSatisfy(\.isStatic))
    }

    @Test func aKilledRelayIsReplacedWithinTenSecondsAndDialsGoThroughTheOthers() throws {
        var (network, relays) = try Self.network()
        network.advance(by: .milliseconds(10))
        #expect(Self.reservedRelays(network, 3) == [network.peer(0), network.peer(1)])
        _ = network.takeEvents(3)
        let killedAt = network.now
        Self.kill(0, in: &network)
        network.run(until: .seconds(10)) { network in
            Self.reservedRelays(network, 3) == [network.peer(1), network.peer(2)]
        }
        #expect(network.now - killedAt <= .seconds(10))
        let health = network.nodes[3].swarm.relayHealthStatus(now: network.now)
        #expect(health.first { $0.relay == network.peer(0) }?.consecutiveFailures == 1)
        #expect(health.first { $0.relay == network.peer(0) }?.isReserved == false)
        // B's circuit addresses now name relays 1 and 2; A reaches B through relay 2.
        let circuit = try relays[2].encapsulate(.p2pCircuit).encapsulate(.p2p(network.peer(3)))
        let outcome = RelayTestBed.dial(from: 4, circuit, in: &network)
        #expect((try? outcome.get()) != nil)
        #expect(network.nodes[3].swarm.listenAddresses.filter(\.isCircuit).allSatisfy { !$0.description.contains(network.peer(0).description) })
    }

    @Test func healthChecksMeasureTheRelays() throws {
        var (network, _) = try Self.network(reservations: 1)
        network.advance(by: .seconds(6))
        let health = try #require(network.nodes[3].swarm.relayHealthStatus(now: network.now).first)
        // The health check is a Yamux ping on the relay's connection: answered, measured.
        #expect(health.isReserved && health.isHealthy && health.consecutiveFailures == 0)
        #expect(health.latency != nil)
        #expect(health.successRate == 1)
    }

    @Test func relayPerformanceAveragesLatencyAndFadesFailures() throws {
        let halfLife = Duration.seconds(600)
        var performance = RelayPerformance()
        let start = Instant(nanoseconds: 1_000_000_000)
        performance.recordSuccess(latency: .milliseconds(100), now: start, halfLife: halfLife)
        performance.recordSuccess(latency: .milliseconds(200), now: start, halfLife: halfLife)
        // EMA with α 0.3: 100 + 0.3 × (200 − 100) = 130 ms.
        let latency = try #require(performance.latency)
        #expect(abs(Double((latency - .milliseconds(130)).components.attoseconds)) < 1e12)
        performance.recordFailure(now: start, halfLife: halfLife)
        #expect(performance.consecutiveFailures == 1)
        #expect(abs(performance.successRate(at: start, halfLife: halfLife) - 2.0 / 3.0) < 1e-9)
        // Ten half-lives later the old record weighs 1/1024: one new success dominates it.
        let later = start + .seconds(6000)
        performance.recordSuccess(latency: nil, now: later, halfLife: halfLife)
        #expect(performance.consecutiveFailures == 0)
        #expect(performance.successRate(at: later, halfLife: halfLife) > 0.999)
        // A relay with failures scores below one without.
        var failing = RelayPerformance()
        failing.recordFailure(now: start, halfLife: halfLife)
        #expect(failing.score(at: start, halfLife: halfLife, activeCircuits: 0)
            < RelayPerformance().score(at: start, halfLife: halfLife, activeCircuits: 0))
    }
}

@Suite struct CircuitRelaySwitchTests {
    @Test func enableCircuitRelaySetsTheRolesAndAutoRelay() throws {
        let relay = try Multiaddr("/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq")
        var configuration = SwarmConfiguration()
        #expect(!configuration.autoRelay.isEnabled && !configuration.relay.enablesHop)
        configuration.enableCircuitRelay(relays: [relay], hop: true)
        #expect(configuration.autoRelay.isEnabled && configuration.autoRelay.relays == [relay])
        #expect(configuration.relay.enablesHop && configuration.relay.enablesStop && configuration.relay.enablesClient)
        var client = SwarmConfiguration()
        client.enableCircuitRelay(relays: [relay])
        #expect(!client.relay.enablesHop && client.relay.enablesClient)
    }
}
