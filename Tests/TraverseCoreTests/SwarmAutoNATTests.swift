import Testing
@testable import TraverseCore

/// AutoNAT and reachability in the swarm, on the in-memory network: real AutoNAT streams
/// and real dial-back sockets between swarms. The network's hosts are 10.0.0.N, so these
/// swarms count private addresses as public, and every host as its own observer group.
@Suite struct SwarmAutoNATTests {
    static func configuration() -> SwarmConfiguration {
        var configuration = SwarmConfiguration()
        configuration.autoNAT.publicScopes = [.privateNetwork]
        configuration.autoNAT.observedAddresses.ipv4ObserverPrefixLength = 32
        configuration.holePunch.exchange.addressSelection.acceptedScopes = [.global, .privateNetwork]
        return configuration
    }

    /// Node 0 (the client) and `servers` more nodes, each listening on port 4001 of its
    /// host; the client dials every server.
    static func network(servers: Int, client: SwarmConfiguration = configuration(), server: SwarmConfiguration = configuration()) throws -> SwarmNetwork {
        var network = SwarmNetwork()
        try network.addNode(seed: 1, configuration: client)
        for index in 0..<servers { try network.addNode(seed: UInt8(index + 2), configuration: server) }
        for node in network.nodes.indices {
            _ = try network.nodes[node].swarm.listen(on: Multiaddr("/ip4/10.0.0.\(node + 1)/tcp/4001"), now: network.now)
        }
        network.settle()
        return network
    }

    static func dialServers(_ network: inout SwarmNetwork) throws {
        for node in network.nodes.indices.dropFirst() {
            _ = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.\(node + 1)/tcp/4001"), now: network.now)
        }
        network.settle()
    }

    static func results(_ events: [SwarmEvent]) -> [(peer: PeerID, result: AutoNATClientEvent)] {
        events.compactMap { if case .autoNATResult(let peer, let result) = $0 { (peer, result) } else { nil } }
    }

    static func statuses(_ events: [SwarmEvent]) -> [NodeStatus] {
        events.compactMap { if case .reachabilityChanged(let status) = $0 { status } else { nil } }
    }

    @Test func aReachableNodeIsDialedBackAndBecomesPublic() throws {
        var network = try Self.network(servers: 3)
        try Self.dialServers(&network)
        network.run(until: .seconds(600)) { $0.nodes[0].swarm.status(now: $0.now).reachability == .public }
        let status = network.nodes[0].swarm.status(now: network.now)
        #expect(status.reachability == .public)
        #expect(status.confidence == 3)
        // Three observers saw the listening port as it is: no NAT.
        #expect(status.natType == .public)
        #expect(status.publicAddresses.contains(try Multiaddr("/ip4/10.0.0.1/tcp/4001")))
        #expect(!status.relayRequired)
        let events = network.takeEvents(0)
        let results = Self.results(events)
        // One verdict per server, each a dial back at the listening address.
        #expect(results.count == 3)
        #expect(Set(results.map(\.peer)) == Set((1...3).map { network.peer($0) }))
        #expect(results.allSatisfy { $0.result == .reachable(address: try! Multiaddr("/ip4/10.0.0.1/tcp/4001")) })
        #expect(Self.statuses(events).last == status)
        // The dial-back connections were closed at once: one connection per server is left.
        for server in 1...3 {
            #expect(network.nodes[server].swarm.connections(to: network.peer(0)).count == 1)
        }
        // Fully confident: the next probe is a refresh, 15 minutes on.
        let next = try #require(network.nodes[0].swarm.reachability.nextProbeAt)
        #expect(next - network.now > .seconds(10 * 60))
    }

    @Test func whileUnknownSeveralServersAreAskedAtOnce() throws {
        var network = try Self.network(servers: 3)
        try Self.dialServers(&network)
        // One round: the three servers dial back in parallel, the verdict comes at once.
        network.advance(by: .milliseconds(10))
        #expect(network.nodes[0].swarm.status(now: network.now).reachability == .public)
        #expect(Self.results(network.takeEvents(0)).count == 3)
        // Asked one at a time, the verdict takes two more retry intervals (90 s each).
        var configuration = Self.configuration()
        configuration.autoNAT.concurrentProbesWhileUnknown = 1
        var slow = try Self.network(servers: 3, client: configuration)
        try Self.dialServers(&slow)
        slow.advance(by: .seconds(60))
        #expect(slow.nodes[0].swarm.status(now: slow.now).reachability == .unknown)
        slow.advance(by: .seconds(150))
        #expect(slow.nodes[0].swarm.status(now: slow.now).reachability == .public)
    }

    @Test func serversThatAppearDuringARoundJoinIt() throws {
        var network = try Self.network(servers: 3)
        // The first server's dial back hangs (held by the network), so its probe stays open.
        network.blackHoles = [.ipv4(IPv4Address(10, 0, 0, 1), port: 4001)]
        _ = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        network.advance(by: .milliseconds(10))
        #expect(network.nodes[0].swarm.reachability.probes.values.map { $0 } == [network.peer(1)])
        #expect(network.heldConnects.count == 1)
        // Two more servers appear while it is open: they are asked at once (the verdict needs
        // three peers), not after the round.
        network.blackHoles = []
        for node in [2, 3] {
            _ = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.\(node + 1)/tcp/4001"), now: network.now)
        }
        network.advance(by: .milliseconds(10))
        #expect(Set(Self.results(network.takeEvents(0)).map(\.peer)) == [network.peer(2), network.peer(3)])
        // The held dial back answers: the third result, and the verdict.
        network.releaseHeldConnects()
        network.advance(by: .milliseconds(10))
        #expect(Self.results(network.takeEvents(0)).map(\.peer) == [network.peer(1)])
        #expect(network.nodes[0].swarm.status(now: network.now).reachability == .public)
    }

    @Test func anUnreachableNodeBecomesPrivateAndNeedsARelay() throws {
        var network = try Self.network(servers: 3)
        // Nothing reaches the client's listening port from outside (a firewall).
        network.blackHoles = [.ipv4(IPv4Address(10, 0, 0, 1), port: 4001)]
        try Self.dialServers(&network)
        network.run(until: .seconds(900)) { $0.nodes[0].swarm.status(now: $0.now).reachability == .private }
        let status = network.nodes[0].swarm.status(now: network.now)
        #expect(status.reachability == .private)
        #expect(status.relayRequired)
        let results = Self.results(network.takeEvents(0))
        #expect(results.count == 3)
        #expect(results.allSatisfy { if case .unreachable = $0.result { true } else { false } })
        // No dial-back socket is left behind on the servers.
        for server in 1...3 {
            #expect(network.nodes[server].swarm.reachability.dialBacks.isEmpty)
            #expect(network.nodes[server].swarm.connectionCount == 1)
        }
    }

    @Test func serversThatDoNotServeAutoNATAreNotAsked() throws {
        var server = Self.configuration()
        server.autoNAT.servesDialBacks = false
        var network = try Self.network(servers: 2, server: server)
        try Self.dialServers(&network)
        network.advance(by: .seconds(300))
        #expect(Self.results(network.takeEvents(0)).isEmpty)
        #expect(network.nodes[0].swarm.reachability.nextProbeAt == nil)
        #expect(network.nodes[0].swarm.status(now: network.now).reachability == .unknown)
        // Identify still confirmed the address two observers saw; two are not enough for a NAT type.
        #expect(network.nodes[0].swarm.status(now: network.now).natType == .unknown)
    }

    @Test func oneServerCannotFlipTheVerdictAlone() throws {
        var network = try Self.network(servers: 1)
        try Self.dialServers(&network)
        network.advance(by: .seconds(600))
        // The same server answered every probe, but one peer counts once per streak.
        #expect(Self.results(network.takeEvents(0)).count >= 3)
        #expect(network.nodes[0].swarm.status(now: network.now).reachability == .unknown)
    }

    @Test func aServerLimitsDialBacksPerPeer() throws {
        var client = Self.configuration()
        client.autoNAT.reachability.retryInterval = .seconds(1)
        client.autoNAT.reachability.resultsToFlip = 100
        var network = try Self.network(servers: 1, client: client)
        try Self.dialServers(&network)
        network.advance(by: .seconds(5))
        let results = Self.results(network.takeEvents(0)).map(\.result)
        // Three dial backs a minute for one peer (go-libp2p's limit), then refusals.
        #expect(results.prefix(3).allSatisfy { if case .reachable = $0 { true } else { false } })
        #expect(results.dropFirst(3).contains { if case .refused(.dialRefused, _) = $0 { true } else { false } })
    }

    @Test func autoNATIsNotServedOverARelayedConnection() throws {
        var configuration = Self.configuration()
        configuration.holePunch.isEnabled = false
        var (network, circuit) = try SwarmHolePunchTests.relayedPair(configuration)
        let b = network.peer(1)
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.settle()
        let relayed = try #require(network.relayedConnection(2, to: b))
        // A asks B over the relayed connection directly.
        let taken = network.nodes[2].swarm.connections.removeValue(forKey: relayed.id)
        var slot = try #require(taken)
        network.nodes[2].swarm.reachability.probes[relayed.id] = b
        network.nodes[2].swarm.openBuiltinStream(&slot, id: relayed.id, purpose: .autoNAT, now: network.now)
        network.nodes[2].swarm.settle(slot, id: relayed.id)
        network.settle()
        // B reset the stream: no verdict, and the probe ended.
        #expect(Self.results(network.takeEvents(2)).filter { $0.peer == b }.isEmpty)
        #expect(network.nodes[2].swarm.reachability.probes[relayed.id] == nil)
        #expect(network.nodes[1].swarm.reachability.dialBacks.isEmpty)
    }

    @Test func aSymmetricNATIsDetectedAndHolePunchingIsSkipped() throws {
        // Relay (0), B (1) behind a symmetric NAT, A (2), and two more observers of B.
        var (network, relayAddress) = try RelayTestBed.network(clients: [(Self.configuration(), nil), (Self.configuration(), nil)])
        network.symmetricNATs = [1]
        for seed in [UInt8(20), 21] {
            let node = try network.addNode(seed: seed, configuration: Self.configuration())
            _ = try network.nodes[node].swarm.listen(on: Multiaddr("/ip4/10.0.0.\(node + 1)/tcp/4001"), now: network.now)
        }
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        _ = try network.nodes[2].swarm.listen(on: Multiaddr("/ip4/10.0.0.3/tcp/4001"), now: network.now)
        network.settle()
        let circuit = try RelayTestBed.reserved(1, on: relayAddress, in: &network)
        for observer in [3, 4] {
            let address = try Multiaddr("/ip4/10.0.0.\(observer + 1)/tcp/4001")
            _ = network.nodes[1].swarm.dial(address, now: network.now)
        }
        network.settle()
        let status = network.nodes[1].swarm.status(now: network.now)
        #expect(status.natType == .symmetric)
        // Not known to be private yet, but no direct path is to be expected.
        #expect(status.relayRequired)
        _ = network.takeEvents(1)
        let a = network.peer(2), b = network.peer(1)
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.advance(by: .seconds(10))
        let failures = SwarmHolePunchTests.failures(network.takeEvents(1))
        #expect(failures.map(\.lastFailure) == [.symmetricNAT])
        #expect(failures.first?.attempts == 0)
        // No punch was tried; the relayed connection carries the traffic.
        #expect(network.directConnection(2, to: b) == nil)
        #expect(network.relayedConnection(1, to: a) != nil)
        let ping = network.nodes[2].swarm.ping(b, now: network.now)
        network.settle()
        #expect(network.takeEvents(2).contains { if case .requestCompleted(ping, .pinged) = $0 { true } else { false } })
    }
}
