import Testing
@testable import TraverseCore

/// Per-peer metrics and the node's counters by tier, on the in-memory network.
@Suite struct SwarmPeerMetricsTests {
    static func completed(_ events: [SwarmEvent], _ request: RequestID) -> RequestOutcome? {
        events.lazy.compactMap { if case .requestCompleted(request, let outcome) = $0 { outcome } else { nil } }.first
    }

    @Test func directRequestsDialsAndLatencyAreCounted() throws {
        var (network, _) = try SwarmTests.connectedPair()
        let b = network.peer(1)
        let ping = network.nodes[0].swarm.ping(b, count: 3, now: network.now)
        let refused = network.nodes[0].swarm.openStream(to: b, protocols: ["/nobody/1", "/nobody/2"], now: network.now)
        network.settle()
        let events = network.takeEvents(0)
        #expect(Self.completed(events, ping).map { if case .pinged(let times) = $0 { times.count } else { 0 } } == 3)
        #expect(Self.completed(events, refused).map { if case .failed = $0 { true } else { false } } == true)
        let metrics = try #require(network.nodes[0].swarm.metrics(for: b, now: network.now))
        #expect(metrics.tier == .direct && metrics.openTiers == [.direct])
        #expect(metrics.requests.succeeded == 1 && metrics.requests.failed == 1)
        #expect(metrics.requestsByTier[.direct]?.total == 2)
        #expect(metrics.successRate == 0.5)
        #expect(metrics.dialsSucceeded == 1 && metrics.dialsFailed == 0)
        #expect(metrics.connectionsEstablished == [.direct: 1])
        #expect(metrics.latestRoundTrip != nil && metrics.averageRoundTrip != nil)
        let totals = network.nodes[0].swarm.nodeStatistics(now: network.now)
        #expect(totals.connectionsOpen == [.direct: 1])
        #expect(totals.requestsByTier[.direct] == {
            var counts = RequestCounts()
            counts.succeeded = 1
            counts.failed = 1
            return counts
        }())
        // The listener never dialed A nor asked it anything: A is in its totals only.
        #expect(network.nodes[1].swarm.metrics(for: network.peer(0), now: network.now) == nil)
        #expect(network.nodes[1].swarm.nodeStatistics(now: network.now).connectionsEstablished == [.direct: 1])
    }

    @Test func aRequestThatNeverConnectsFailsUnconnected() throws {
        var network = SwarmNetwork()
        try network.addNode(seed: 1)
        let stranger = try PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32)).peerID
        let dial = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.9/tcp/4001/p2p/\(stranger)"), now: network.now)
        network.settle()
        #expect(network.takeEvents(0).contains { if case .dialFailed(dial, _) = $0 { true } else { false } })
        let ping = network.nodes[0].swarm.ping(stranger, now: network.now)
        network.settle()
        #expect(Self.completed(network.takeEvents(0), ping) != nil)
        let metrics = try #require(network.nodes[0].swarm.metrics(for: stranger, now: network.now))
        #expect(metrics.dialsFailed == 1 && metrics.tier == nil)
        let totals = network.nodes[0].swarm.nodeStatistics(now: network.now)
        #expect(totals.dialsFailed == 1)
        #expect(totals.requestsFailedUnconnected == 1)
    }

    @Test func aHolePunchMovesTheTierFromRelayToDirect() throws {
        var (network, circuit) = try SwarmHolePunchTests.relayedPair()
        let b = network.peer(1), a = network.peer(2)
        _ = network.nodes[2].swarm.dial(circuit, now: network.now)
        network.run(until: .seconds(5)) { network in
            network.directConnection(2, to: b) != nil && network.relayedConnection(2, to: b) == nil
        }
        let ping = network.nodes[2].swarm.ping(b, now: network.now)
        network.settle()
        #expect(Self.completed(network.takeEvents(2), ping) != nil)
        let metrics = try #require(network.nodes[2].swarm.metrics(for: b, now: network.now))
        #expect(metrics.tier == .direct && metrics.openTiers == [.direct])
        #expect(metrics.connectionsEstablished[.relay] == 1 && metrics.connectionsEstablished[.direct] == 1)
        #expect(metrics.holePunchesSucceeded == 1 && metrics.holePunchesFailed == 0)
        #expect(metrics.requestsByTier[.direct]?.succeeded == 1)
        let byB = try #require(network.nodes[1].swarm.metrics(for: a, now: network.now))
        #expect(byB.holePunchesSucceeded == 1)
        #expect(network.nodes[1].swarm.nodeStatistics(now: network.now).holePunchesSucceeded == 1)
    }

    @Test func theTableIsBoundedAndKeepsConnectedPeers() throws {
        var configuration = SwarmConfiguration()
        configuration.maximumPeerMetrics = 2
        var network = SwarmNetwork()
        try network.addNode(seed: 1, configuration: configuration)
        for seed in UInt8(2)...4 { try network.addNode(seed: seed) }
        for node in 1...3 {
            _ = try network.nodes[node].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/4001"), now: network.now)
        }
        network.settle()
        // Peers 1 and 2 connect; peer 1 goes away; peer 3 takes its record.
        for node in 1...2 {
            _ = network.nodes[0].swarm.dial(try #require(network.listenAddress(node)), now: network.now)
            network.settle()
            network.now = network.now + .seconds(1)
        }
        network.nodes[0].swarm.disconnect(network.peer(1), now: network.now)
        network.settle()
        _ = network.nodes[0].swarm.dial(try #require(network.listenAddress(3)), now: network.now)
        network.settle()
        let swarm = network.nodes[0].swarm
        #expect(swarm.metrics(for: network.peer(1), now: network.now) == nil)
        #expect(swarm.metrics(for: network.peer(2), now: network.now) != nil)
        #expect(swarm.metrics(for: network.peer(3), now: network.now) != nil)
        #expect(swarm.nodeStatistics(now: network.now).trackedPeers == 2)
        // Full of connected peers: a new peer is not recorded (the totals still count it).
        _ = try network.addNode(seed: 5)
        _ = try network.nodes[4].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/4001"), now: network.now)
        network.settle()
        _ = network.nodes[0].swarm.dial(try #require(network.listenAddress(4)), now: network.now)
        network.settle()
        #expect(network.nodes[0].swarm.metrics(for: network.peer(4), now: network.now) == nil)
        #expect(network.nodes[0].swarm.nodeStatistics(now: network.now).connectionsEstablished[.direct] == 4)
    }

    @Test func prometheusTextHasEveryTier() throws {
        var (network, _) = try SwarmTests.connectedPair()
        _ = network.nodes[0].swarm.ping(network.peer(1), now: network.now)
        network.settle()
        let text = network.nodes[0].swarm.nodeStatistics(now: network.now).prometheusText
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("# TYPE traverse_requests_total counter"))
        #expect(lines.contains(#"traverse_requests_total{tier="direct",outcome="succeeded"} 1"#))
        #expect(lines.contains(#"traverse_requests_total{tier="relay",outcome="succeeded"} 0"#))
        #expect(lines.contains(#"traverse_requests_total{tier="nats",outcome="failed"} 0"#))
        #expect(lines.contains(#"traverse_connections_open{tier="direct"} 1"#))
        #expect(lines.contains(#"traverse_connections_established_total{tier="direct"} 1"#))
        #expect(lines.contains(#"traverse_dials_total{outcome="succeeded"} 1"#))
        #expect(lines.contains(#"traverse_reachability{state="unknown"} 1"#))
        #expect(lines.contains(#"traverse_nat_type{type="unknown"} 1"#))
        #expect(lines.contains("traverse_relay_required 0"))
    }
}
