import Testing
@testable import TraverseCore

/// The relay's admission through the swarm: each limit refuses with its `RelayRefusal` on
/// the relay and its status on the client, and gives its resources back.
@Suite struct SwarmRelayLimitTests {
    typealias Bed = RelayTestBed

    /// A shared host for the per-IP limits (the relay sees every node behind it as one IP).
    static let sharedHost = IPv4Address(10, 0, 0, 9)

    // MARK: Targets that cannot take the circuit

    @Test func targetThatLeftTheRelayLosesItsReservation() throws {
        var (network, relayAddress) = try Bed.network(clientCount: 2)
        let relay = network.peer(0), listener = network.peer(1), dialer = network.peer(2)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
        _ = network.takeEvents(0)

        network.nodes[1].swarm.disconnect(relay, now: network.now)
        network.settle()
        #expect(network.takeEvents(0).contains(.relayReservationExpired(listener)))
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 0)
        #expect(network.nodes[1].swarm.connections(to: relay).isEmpty)

        // Before the listener's retry (no time passed), a CONNECT finds no reservation.
        let outcome = Bed.dial(from: 2, circuit, in: &network)
        #expect(Bed.attemptReasons(outcome) == [.relay(.refused(.noReservation))])
        let refusals = Bed.refusals(network.takeEvents(0))
        #expect(refusals.count == 1)
        #expect(refusals.first?.0 == dialer && refusals.first?.1 == .noReservation)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
    }

    @Test func targetWithoutTheStopRoleRefusesAndTheCircuitIsReleased() throws {
        var hop = RelayHopConfiguration()
        hop.limits.maximumCircuitConnections = 1
        var clientOnly = SwarmConfiguration()
        clientOnly.relay.roles = [.client]
        var (network, relayAddress) = try Bed.network(hop: hop, clients: [(clientOnly, nil), (.init(), nil)])
        let listener = network.peer(1)
        // The relay cannot tell: it grants the reservation.
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        _ = network.takeEvents(0)

        // Twice: with room for one circuit, the second is only refused the same way if the
        // first one's resources were given back.
        for _ in 0..<2 {
            let outcome = Bed.dial(from: 2, circuit, in: &network)
            #expect(Bed.attemptReasons(outcome) == [.relay(.refused(.connectionFailed))])
            let relayEvents = network.takeEvents(0)
            let ends = Bed.circuitEnds(relayEvents)
            #expect(ends.count == 1)
            if case .stopFailed? = ends.first?.reason {} else { Issue.record("circuit ends: \(ends)") }
            #expect(ends.first?.sourceToTargetBytes == 0 && ends.first?.targetToSourceBytes == 0)
            #expect(!relayEvents.contains { if case .relayCircuitOpened = $0 { true } else { false } })
            #expect(Bed.refusals(relayEvents).isEmpty)
            #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
        }
        #expect(network.nodes[1].swarm.connections(to: network.peer(2)).isEmpty)
        #expect(network.nodes[2].swarm.connections(to: listener).isEmpty)
        // The relay keeps both connections and the reservation.
        #expect(network.directConnection(0, to: listener) != nil)
        #expect(network.directConnection(0, to: network.peer(2)) != nil)
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
    }

    // MARK: Circuit counts and rate

    @Test func totalCircuitsAreLimitedAndGivenBack() throws {
        var hop = RelayHopConfiguration()
        hop.limits.maximumCircuitConnections = 1
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 3)
        let listener = network.peer(1)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)

        let first = try Bed.dial(from: 2, circuit, in: &network).get()
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
        _ = network.takeEvents(0)
        let second = Bed.dial(from: 3, circuit, in: &network)
        #expect(Bed.attemptReasons(second) == [.relay(.refused(.resourceLimitExceeded))])
        let refusals = Bed.refusals(network.takeEvents(0))
        #expect(refusals.count == 1)
        #expect(refusals.first?.0 == network.peer(3) && refusals.first?.1 == .circuitsTotalExceeded)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)

        // The first circuit ends: its place is free again.
        network.nodes[2].swarm.closeConnection(first, now: network.now)
        network.settle()
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
        let third = Bed.dial(from: 3, circuit, in: &network)
        #expect(throws: Never.self) { try third.get() }
        #expect(network.relayedConnection(3, to: listener) != nil)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
    }

    @Test func circuitsPerPeerAreLimited() throws {
        var hop = RelayHopConfiguration()
        hop.maximumCircuitsPerPeer = 1
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 4)
        let listener = network.peer(1)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let other = try Bed.reserved(4, on: relayAddress, in: &network)

        #expect(throws: Never.self) { try Bed.dial(from: 2, circuit, in: &network).get() }
        _ = network.takeEvents(0)
        // A second circuit to the same target: the target is at its limit.
        let second = Bed.dial(from: 3, circuit, in: &network)
        #expect(Bed.attemptReasons(second) == [.relay(.refused(.resourceLimitExceeded))])
        let refusals = Bed.refusals(network.takeEvents(0))
        #expect(refusals.count == 1)
        #expect(refusals.first?.0 == network.peer(3) && refusals.first?.1 == .circuitsPerPeerExceeded(listener))
        // A second circuit from the same source: the source is at its limit.
        let fromSame = Bed.dial(from: 2, other, in: &network)
        #expect(Bed.attemptReasons(fromSame) == [.relay(.refused(.resourceLimitExceeded))])
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.circuitsPerPeerExceeded(network.peer(2))])
        // Another pair is not affected.
        #expect(throws: Never.self) { try Bed.dial(from: 3, other, in: &network).get() }
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 2)
    }

    @Test func circuitsPerIPAreLimited() throws {
        var hop = RelayHopConfiguration()
        hop.maximumCircuitsPerIP = 1
        var (network, relayAddress) = try Bed.network(
            hop: hop, clients: [(.init(), nil), (.init(), Self.sharedHost), (.init(), Self.sharedHost), (.init(), nil)])
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)

        #expect(throws: Never.self) { try Bed.dial(from: 2, circuit, in: &network).get() }
        _ = network.takeEvents(0)
        // Another peer behind the same address.
        let sameIP = Bed.dial(from: 3, circuit, in: &network)
        #expect(Bed.attemptReasons(sameIP) == [.relay(.refused(.resourceLimitExceeded))])
        let refusals = Bed.refusals(network.takeEvents(0))
        #expect(refusals.count == 1)
        #expect(refusals.first?.0 == network.peer(3) && refusals.first?.1 == .circuitsPerIPExceeded)
        // A peer at its own address gets through.
        #expect(throws: Never.self) { try Bed.dial(from: 4, circuit, in: &network).get() }
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 2)
    }

    @Test func circuitRatePerIPRefillsWithTime() throws {
        var hop = RelayHopConfiguration()
        hop.circuitRatePerIP = 2
        hop.rateInterval = .seconds(60)
        var (network, relayAddress) = try Bed.network(
            hop: hop,
            clients: [(.init(), nil), (.init(), Self.sharedHost), (.init(), Self.sharedHost), (.init(), Self.sharedHost)])
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)

        let first = try Bed.dial(from: 2, circuit, in: &network).get()
        #expect(throws: Never.self) { try Bed.dial(from: 3, circuit, in: &network).get() }
        _ = network.takeEvents(0)
        let third = Bed.dial(from: 4, circuit, in: &network)
        #expect(Bed.attemptReasons(third) == [.relay(.refused(.resourceLimitExceeded))])
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.circuitRateExceeded])

        // Closing a circuit gives back its count, not the rate.
        network.nodes[2].swarm.closeConnection(first, now: network.now)
        network.settle()
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
        let again = Bed.dial(from: 4, circuit, in: &network)
        #expect(Bed.attemptReasons(again) == [.relay(.refused(.resourceLimitExceeded))])
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.circuitRateExceeded])

        // Not yet a token after 29 s (one every 30 s)…
        network.advance(by: .seconds(29))
        let early = Bed.dial(from: 4, circuit, in: &network)
        #expect(Bed.attemptReasons(early) == [.relay(.refused(.resourceLimitExceeded))])
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.circuitRateExceeded])
        // …one after 30 s.
        network.advance(by: .seconds(1))
        #expect(throws: Never.self) { try Bed.dial(from: 4, circuit, in: &network).get() }
        #expect(network.relayedConnection(4, to: network.peer(1)) != nil)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 2)
    }

    // MARK: Reservations per IP and rate

    @Test func reservationsPerIPAreLimited() throws {
        var hop = RelayHopConfiguration()
        hop.maximumReservationsPerIP = 1
        var (network, relayAddress) = try Bed.network(
            hop: hop, clients: [(.init(), Self.sharedHost), (.init(), Self.sharedHost), (.init(), nil)])
        _ = try Bed.reserved(1, on: relayAddress, in: &network)
        _ = network.takeEvents(0)

        try network.nodes[2].swarm.reserve(on: relayAddress, now: network.now)
        network.settle()
        let failures = network.takeEvents(2).compactMap { event -> (RelayReservationFailure, Instant?)? in
            if case .reservationFailed(_, let failure, let retryAt) = event { (failure, retryAt) } else { nil }
        }
        #expect(failures.count == 1)
        #expect(failures.first?.0 == .refused(.refused(.reservationRefused)))
        #expect(failures.first?.1 == nil)
        #expect(network.nodes[2].swarm.activeReservations.isEmpty)
        #expect(!network.nodes[2].swarm.listenAddresses.contains { $0.isCircuit })
        let refusals = Bed.refusals(network.takeEvents(0))
        #expect(refusals.count == 1)
        #expect(refusals.first?.0 == network.peer(2) && refusals.first?.1 == .reservationsPerIPExceeded)

        // Another address has its own count.
        #expect(throws: Never.self) { try Bed.reserved(3, on: relayAddress, in: &network) }
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 2)
        // Refusals are final: no retry comes.
        network.advance(by: .seconds(120))
        #expect(!network.takeEvents(2).contains { if case .reservationAccepted = $0 { true } else { false } })
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 2)
    }

    @Test func reservationRatePerIPRefillsWithTime() throws {
        var hop = RelayHopConfiguration()
        hop.reservationRatePerIP = 2
        hop.rateInterval = .seconds(60)
        var (network, relayAddress) = try Bed.network(
            hop: hop, clients: Array(repeating: (SwarmConfiguration(), Self.sharedHost), count: 3))
        _ = try Bed.reserved(1, on: relayAddress, in: &network)
        _ = try Bed.reserved(2, on: relayAddress, in: &network)
        _ = network.takeEvents(0)

        let third = try Bed.reserve(3, on: relayAddress, in: &network)
        #expect(third == .failure(.refused(.refused(.reservationRefused))))
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.reservationRateExceeded])

        network.advance(by: .seconds(29))
        #expect(try Bed.reserve(3, on: relayAddress, in: &network) == .failure(.refused(.refused(.reservationRefused))))
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.reservationRateExceeded])
        network.advance(by: .seconds(1))
        #expect(throws: Never.self) { try Bed.reserved(3, on: relayAddress, in: &network) }
        #expect(network.takeEvents(0).contains(.relayReservationGranted(network.peer(3))))
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 3)
    }

    // MARK: Allow and deny lists

    @Test func deniedPeersCanNeitherReserveNorConnect() throws {
        var hop = RelayHopConfiguration()
        let denied = try Bed.peer(ofNode: 2)
        hop.deniedPeers = [denied]
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 3)
        #expect(network.peer(2) == denied)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        _ = network.takeEvents(0)

        let dial = Bed.dial(from: 2, circuit, in: &network)
        #expect(Bed.attemptReasons(dial) == [.relay(.refused(.permissionDenied))])
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.peerNotPermitted(denied)])
        let reservation = try Bed.reserve(2, on: relayAddress, in: &network)
        #expect(reservation == .failure(.refused(.refused(.permissionDenied))))
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.peerNotPermitted(denied)])
        // Others are not affected.
        #expect(throws: Never.self) { try Bed.dial(from: 3, circuit, in: &network).get() }
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
    }

    @Test func onlyAllowedPeersMayUseTheRelay() throws {
        var hop = RelayHopConfiguration()
        hop.allowedPeers = [try Bed.peer(ofNode: 1), try Bed.peer(ofNode: 2)]
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 4)
        let outsider = network.peer(3)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        _ = network.takeEvents(0)

        #expect(try Bed.reserve(3, on: relayAddress, in: &network) == .failure(.refused(.refused(.permissionDenied))))
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.peerNotPermitted(outsider)])
        let dial = Bed.dial(from: 3, circuit, in: &network)
        #expect(Bed.attemptReasons(dial) == [.relay(.refused(.permissionDenied))])
        #expect(Bed.refusals(network.takeEvents(0)).map(\.1) == [.peerNotPermitted(outsider)])
        #expect(throws: Never.self) { try Bed.dial(from: 2, circuit, in: &network).get() }
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
    }

    // MARK: Duration

    @Test func durationLimitClosesTheCircuitOnBothSides() throws {
        var hop = RelayHopConfiguration()
        // Not a multiple of the Yamux keepalive (30 s): the circuit outlives a keepalive
        // round on every connection it uses.
        hop.limits.duration = .seconds(45)
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 2)
        let listener = network.peer(1), dialer = network.peer(2)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, circuit, in: &network).get()
        let summary = try #require(network.relayedConnection(2, to: listener))
        #expect(summary.id == relayed)
        #expect(summary.relay?.limit?.durationSeconds == 45)
        #expect(network.relayedConnection(1, to: dialer)?.relay?.limit?.durationSeconds == 45)
        _ = network.takeEvents(0)
        _ = network.takeEvents(1)

        network.advance(by: .seconds(44))
        #expect(network.relayedConnection(2, to: listener) != nil)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
        #expect(Bed.circuitEnds(network.takeEvents(0)).isEmpty)

        network.advance(by: .seconds(2))
        let dialerEvents = network.takeEvents(2)
        #expect(dialerEvents.contains(.circuitLimitReached(relayed, .durationLimitReached)))
        #expect(Bed.closedConnections(dialerEvents).map(\.id) == [relayed])
        #expect(Bed.closedConnections(network.takeEvents(1)).map { $0.isRelayed && $0.peer == dialer } == [true])
        let ends = Bed.circuitEnds(network.takeEvents(0))
        #expect(ends.map(\.reason) == [.limitReached(.durationLimitReached)])
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
        #expect(network.relayedConnection(2, to: listener) == nil)
        #expect(network.relayedConnection(1, to: dialer) == nil)
        // The connections to the relay stay, and so does the reservation.
        #expect(network.directConnection(1, to: network.peer(0)) != nil)
        #expect(network.directConnection(2, to: network.peer(0)) != nil)
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
    }
}
