import Testing
@testable import TraverseCore

/// Circuit Relay v2 through the swarm on the in-memory network: a relay (hop), a node that
/// reserves on it and accepts relayed connections (stop), and a node that dials through it.
@Suite struct SwarmRelayTests {
    /// Node 0: the relay; node 1: reserves on it; node 2: dials node 1 through it.
    static func relayTriangle(
        hop: RelayHopConfiguration = .init(), clientConfiguration: SwarmConfiguration = .init()
    ) throws -> (SwarmNetwork, Multiaddr) {
        var network = SwarmNetwork()
        var relayConfiguration = SwarmConfiguration()
        relayConfiguration.relay.roles = [.hop]
        relayConfiguration.relay.hop = hop
        try network.addNode(seed: 1, configuration: relayConfiguration)
        try network.addNode(seed: 2, configuration: clientConfiguration)
        try network.addNode(seed: 3, configuration: clientConfiguration)
        _ = try network.nodes[0].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/4001"), now: network.now)
        network.settle()
        let relayAddress = try #require(network.listenAddress(0))
        return (network, relayAddress)
    }

    /// The triangle with node 1's reservation granted; returns node 1's circuit address.
    static func reserved(
        hop: RelayHopConfiguration = .init(), clientConfiguration: SwarmConfiguration = .init()
    ) throws -> (SwarmNetwork, Multiaddr) {
        var (network, relayAddress) = try relayTriangle(hop: hop, clientConfiguration: clientConfiguration)
        try network.nodes[1].swarm.reserve(on: relayAddress, now: network.now)
        network.settle()
        let accepted = network.takeEvents(1).compactMap { event -> [Multiaddr]? in
            if case .reservationAccepted(_, _, let addresses) = event { addresses } else { nil }
        }
        let circuit = try #require(accepted.first?.first)
        return (network, circuit)
    }

    @Test func reservationIsGrantedCheckedAndAdvertised() throws {
        var (network, relayAddress) = try Self.relayTriangle()
        let relay = network.peer(0), client = network.peer(1)
        try network.nodes[1].swarm.reserve(on: relayAddress, now: network.now)
        network.settle()
        let events = network.takeEvents(1)
        let accepted = events.compactMap { event -> (RelayReservationInfo, [Multiaddr])? in
            if case .reservationAccepted(relay, let info, let addresses) = event { (info, addresses) } else { nil }
        }
        let (info, addresses) = try #require(accepted.first)
        #expect(addresses.map(\.description) == ["/ip4/10.0.0.1/tcp/4001/p2p/\(relay)/p2p-circuit/p2p/\(client)"])
        #expect(info.voucher?.relay == relay && info.voucher?.peer == client)
        #expect(info.limit == RelayLimits().circuitLimit)
        // The circuit address is a listen address, in the signed record too.
        #expect(network.nodes[1].swarm.listenAddresses.contains { $0.isCircuit })
        #expect(network.takeEvents(0).contains { $0 == .relayReservationGranted(client) })
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
    }

    @Test func dialThroughRelayCarriesPingEchoAndPerf() throws {
        var (network, circuitAddress) = try Self.reserved()
        let relay = network.peer(0), listener = network.peer(1)
        let dial = network.nodes[2].swarm.dial(circuitAddress, now: network.now)
        network.settle()
        let events = network.takeEvents(2)
        #expect(events.contains { if case .dialSucceeded(dial, listener, _) = $0 { true } else { false } })
        let summary = try #require(network.nodes[2].swarm.connections(to: listener).first)
        #expect(summary.isRelayed && summary.relay?.relay == relay)
        #expect(summary.remoteAddress == circuitAddress)
        let inbound = try #require(network.nodes[1].swarm.connections(to: network.peer(2)).first)
        #expect(inbound.isRelayed && inbound.direction == .inbound)
        #expect(network.takeEvents(0).contains { if case .relayCircuitOpened(_, network.peer(2), listener) = $0 { true } else { false } })

        let ping = network.nodes[2].swarm.ping(listener, count: 2, now: network.now)
        let echo = network.nodes[2].swarm.echo(listener, byteCount: 300_000, now: network.now)
        let perf = network.nodes[2].swarm.perf(listener, uploadBytes: 200_000, downloadBytes: 100_000, now: network.now)
        network.run { network in
            network.nodes[2].events.filter { if case .requestCompleted = $0 { true } else { false } }.count == 3
        }
        var outcomes: [RequestID: RequestOutcome] = [:]
        for case .requestCompleted(let id, let outcome) in network.takeEvents(2) { outcomes[id] = outcome }
        if case .pinged(let times)? = outcomes[ping] { #expect(times.count == 2) } else { Issue.record("ping: \(String(describing: outcomes[ping]))") }
        if case .echoed(let count, _)? = outcomes[echo] { #expect(count == 300_000) } else { Issue.record("echo: \(String(describing: outcomes[echo]))") }
        if case .perf(let result)? = outcomes[perf] {
            #expect(result.uploadBytes == 200_000 && result.downloadBytes == 100_000)
        } else {
            Issue.record("perf: \(String(describing: outcomes[perf]))")
        }
        #expect(network.nodes[0].swarm.relayStatistics.bytesRelayed > 600_000)
    }

    @Test func dataLimitClosesTheCircuitOnBothSides() throws {
        var limits = RelayHopConfiguration()
        limits.limits.data = 64 * 1024
        limits.maximumBandwidthPerCircuit = 1 << 30
        var (network, circuitAddress) = try Self.reserved(hop: limits)
        let listener = network.peer(1)
        _ = network.nodes[2].swarm.dial(circuitAddress, now: network.now)
        network.settle()
        let echo = network.nodes[2].swarm.echo(listener, byteCount: 1 << 20, now: network.now)
        network.run { network in
            network.nodes[2].events.contains { if case .requestCompleted(echo, _) = $0 { true } else { false } }
        }
        let dialer = network.takeEvents(2)
        #expect(dialer.contains { if case .requestCompleted(echo, .failed) = $0 { true } else { false } })
        #expect(dialer.contains { if case .circuitLimitReached(_, .dataLimitReached) = $0 { true } else { false } })
        #expect(dialer.contains { if case .connectionClosed(let s, _) = $0 { s.isRelayed } else { false } })
        let relayEvents = network.takeEvents(0)
        let end = relayEvents.compactMap { event -> RelayCircuitEnd? in
            if case .relayCircuitClosed(_, let end) = event { end } else { nil }
        }.first
        #expect(end?.reason == .limitReached(.dataLimitReached(.sourceToTarget)))
        #expect(end?.sourceToTargetBytes == 64 * 1024)
        network.settle()
        #expect(network.nodes[1].swarm.connections(to: network.peer(2)).isEmpty)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
    }

    @Test func connectWithoutReservationIsRefused() throws {
        var (network, relayAddress) = try Self.relayTriangle()
        let listener = network.peer(1)
        // Node 1 is connected to the relay but holds no reservation.
        _ = network.nodes[1].swarm.dial(relayAddress, now: network.now)
        network.settle()
        let address = try relayAddress.encapsulate(.p2pCircuit).encapsulate(.p2p(listener))
        let dial = network.nodes[2].swarm.dial(address, now: network.now)
        network.settle()
        let failure = network.takeEvents(2).compactMap { event -> DialFailure? in
            if case .dialFailed(dial, let failure) = event { failure } else { nil }
        }.first
        guard case .allAttemptsFailed(let attempts)? = failure else {
            Issue.record("expected a failed dial, got \(String(describing: failure))")
            return
        }
        #expect(attempts.map(\.reason) == [.relay(.refused(.noReservation))])
        #expect(network.takeEvents(0).contains { if case .relayRequestRefused(network.peer(2), .noReservation) = $0 { true } else { false } })
    }

    @Test func reservationOverTheLimitIsRefusedAndNotRetried() throws {
        var hop = RelayHopConfiguration()
        hop.limits.maximumReservations = 1
        var (network, relayAddress) = try Self.relayTriangle(hop: hop)
        try network.nodes[1].swarm.reserve(on: relayAddress, now: network.now)
        network.settle()
        try network.nodes[2].swarm.reserve(on: relayAddress, now: network.now)
        network.settle()
        #expect(network.takeEvents(1).contains { if case .reservationAccepted = $0 { true } else { false } })
        let failed = network.takeEvents(2).compactMap { event -> (RelayReservationFailure, Instant?)? in
            if case .reservationFailed(_, let failure, let retryAt) = event { (failure, retryAt) } else { nil }
        }
        #expect(failed.first?.0 == .refused(.refused(.reservationRefused)))
        #expect(failed.first?.1 == nil)
        #expect(network.nodes[2].swarm.activeReservations.isEmpty)
    }

    @Test func reservationIsRefreshedBeforeItExpires() throws {
        var hop = RelayHopConfiguration()
        hop.reservationTTL = .seconds(100)
        var (network, _) = try Self.reserved(hop: hop)
        _ = network.takeEvents(0)
        network.advance(by: .seconds(85))
        #expect(network.takeEvents(1).contains { if case .reservationAccepted = $0 { true } else { false } })
        #expect(network.takeEvents(0).contains { $0 == .relayReservationGranted(network.peer(1)) })
        network.advance(by: .seconds(50))
        // Still held: the refresh moved the expiry.
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
    }
}
