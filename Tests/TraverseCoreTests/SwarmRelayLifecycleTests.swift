import Testing
@testable import TraverseCore

/// Circuit Relay v2 through the swarm over time: no relaying over a relayed connection,
/// reservations lost, retried and expired, and circuits closed from either end.
@Suite struct SwarmRelayLifecycleTests {
    typealias Bed = RelayTestBed

    /// The reservation failures among `events`.
    static func reservationFailures(_ events: [SwarmEvent]) -> [(RelayReservationFailure, Instant?)] {
        events.compactMap { event in
            if case .reservationFailed(_, let failure, let retryAt) = event { (failure, retryAt) } else { nil }
        }
    }

    static func accepted(_ events: [SwarmEvent]) -> Bool {
        events.contains { if case .reservationAccepted = $0 { true } else { false } }
    }

    // MARK: Never over a relayed connection

    /// Reads one length-prefixed hop message from an application stream.
    static func readHopMessage(_ stream: SwarmStreamID, node: Int, in network: inout SwarmNetwork) throws -> RelayHopMessage? {
        var bytes: [UInt8] = []
        while case .bytes = try network.nodes[node].swarm.read(stream, into: &bytes, now: network.now) {}
        var reader = RelayMessageReader()
        guard let payload = try reader.append(bytes.span) else { return nil }
        return try RelayHopMessage(payload: payload)
    }

    /// Opens a hop stream on `connection` of node `node` as an application stream.
    static func openHopStream(
        _ node: Int, on connection: ConnectionID, in network: inout SwarmNetwork
    ) throws -> SwarmStreamID {
        let request = network.nodes[node].swarm.openStream(
            on: connection, protocols: [RelayProtocolID.hop], now: network.now)
        network.settle()
        let opened = network.takeEvents(node).compactMap { event -> SwarmStreamID? in
            if case .streamOpened(request, let stream, RelayProtocolID.hop) = event { stream } else { nil }
        }
        return try #require(opened.first)
    }

    @Test func aRelayRefusesHopRequestsThatArriveOverARelayedConnection() throws {
        // Node 0: a relay; node 1: a second relay, reachable through node 0 and directly;
        // node 2: reaches node 1 only through node 0; node 3: reserves on node 1.
        var secondRelay = SwarmConfiguration()
        secondRelay.relay.roles = [.hop, .stop, .client]
        var (network, firstAddress) = try Bed.network(clients: [(secondRelay, nil), (.init(), nil), (.init(), nil)])
        let relay = network.peer(1), client = network.peer(2), target = network.peer(3)
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/4001"), now: network.now)
        network.settle()
        let relayAddress = try #require(network.listenAddress(1))
        let relayCircuit = try Bed.reserved(1, on: firstAddress, in: &network)
        _ = try Bed.reserved(3, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, relayCircuit, in: &network).get()
        #expect(network.relayedConnection(2, to: relay)?.id == relayed)
        #expect(network.directConnection(2, to: relay) == nil)
        _ = network.takeEvents(1)

        // RESERVE over the relayed connection.
        let reserve = try Self.openHopStream(2, on: relayed, in: &network)
        _ = try network.nodes[2].swarm.write(reserve, RelayHopMessage.reserve.encoded.span, now: network.now)
        network.settle()
        #expect(try Self.readHopMessage(reserve, node: 2, in: &network) == .status(.permissionDenied))
        var refusals = Bed.refusals(network.takeEvents(1))
        #expect(refusals.count == 1)
        #expect(refusals.first?.0 == client && refusals.first?.1 == .relayedConnection)

        // CONNECT to a peer holding a reservation, over the relayed connection.
        let connect = try Self.openHopStream(2, on: relayed, in: &network)
        let request = RelayHopMessage.connect(peer: RelayPeerInfo(id: target)).encoded
        _ = try network.nodes[2].swarm.write(connect, request.span, now: network.now)
        network.settle()
        #expect(try Self.readHopMessage(connect, node: 2, in: &network) == .status(.permissionDenied))
        refusals = Bed.refusals(network.takeEvents(1))
        #expect(refusals.count == 1)
        #expect(refusals.first?.0 == client && refusals.first?.1 == .relayedConnection)

        let statistics = network.nodes[1].swarm.relayStatistics
        #expect(statistics.reservations == 1 && statistics.circuits == 0)
        #expect(network.nodes[3].swarm.connections(to: client).isEmpty)
        // The relayed connection itself is fine.
        #expect(network.relayedConnection(2, to: relay)?.id == relayed)
    }

    @Test func aClientNeverReservesOrConnectsOverARelayedConnection() throws {
        var secondRelay = SwarmConfiguration()
        secondRelay.relay.roles = [.hop, .stop, .client]
        var (network, firstAddress) = try Bed.network(clients: [(secondRelay, nil), (.init(), nil), (.init(), nil)])
        let relay = network.peer(1), target = network.peer(3)
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/4001"), now: network.now)
        network.settle()
        let relayAddress = try #require(network.listenAddress(1))
        let relayCircuit = try Bed.reserved(1, on: firstAddress, in: &network)
        _ = try Bed.reserved(3, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, relayCircuit, in: &network).get()
        _ = network.takeEvents(1)

        // Node 1 is not listening at this port: with only a relayed connection to it, the
        // reservation and the circuit dial fail rather than use that connection.
        let unreachable = try Multiaddr("/ip4/10.0.0.2/tcp/4999/p2p/\(relay)")
        try network.nodes[2].swarm.reserve(on: unreachable, now: network.now)
        network.settle()
        let failures = Self.reservationFailures(network.takeEvents(2))
        #expect(failures.count == 1)
        if case .dialFailed? = failures.first?.0 {} else { Issue.record("reservation: \(failures)") }
        #expect(failures.first?.1 != nil)
        network.nodes[2].swarm.cancelReservation(on: relay, now: network.now)

        let throughUnreachable = try unreachable.encapsulate(.p2pCircuit).encapsulate(.p2p(target))
        let dial = Bed.dial(from: 2, throughUnreachable, in: &network)
        let reasons = Bed.attemptReasons(dial)
        #expect(reasons.count == 1)
        if case .relayUnreachable? = reasons.first {} else { Issue.record("dial: \(dial)") }

        // Node 1 never saw a hop request from node 2.
        let relayEvents = network.takeEvents(1)
        #expect(Bed.refusals(relayEvents).isEmpty)
        #expect(!relayEvents.contains { if case .relayReservationGranted = $0 { true } else { false } })
        #expect(!relayEvents.contains { if case .relayCircuitOpened = $0 { true } else { false } })
        #expect(network.nodes[1].swarm.relayStatistics.reservations == 1)
        #expect(network.nodes[2].swarm.connections(to: relay).map(\.id) == [relayed])
        #expect(network.nodes[2].swarm.connections(to: target).isEmpty)
    }

    // MARK: Reservations over time

    @Test func lostReservationIsWithdrawnAndRenewedAfterTheBackOff() throws {
        var (network, relayAddress) = try Bed.network(clientCount: 1)
        let relay = network.peer(0), client = network.peer(1)
        _ = try Bed.reserved(1, on: relayAddress, in: &network)
        #expect(network.nodes[1].swarm.listenAddresses.contains { $0.isCircuit })
        _ = network.takeEvents(0)

        network.nodes[0].swarm.disconnect(client, now: network.now)
        network.settle()
        let lostAt = network.now
        let failures = Self.reservationFailures(network.takeEvents(1))
        #expect(failures.count == 1)
        #expect(failures.first?.0 == .connectionLost)
        #expect(failures.first?.1 == lostAt + .seconds(1))
        #expect(!network.nodes[1].swarm.listenAddresses.contains { $0.isCircuit })
        #expect(network.nodes[1].swarm.activeReservations.isEmpty)
        #expect(network.takeEvents(0).contains(.relayReservationExpired(client)))
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 0)

        network.advance(by: .milliseconds(900))
        #expect(!Self.accepted(network.takeEvents(1)))
        #expect(network.nodes[1].swarm.connections(to: relay).isEmpty)
        network.advance(by: .milliseconds(100))
        #expect(Self.accepted(network.takeEvents(1)))
        #expect(network.nodes[1].swarm.listenAddresses.contains { $0.isCircuit })
        #expect(network.nodes[1].swarm.activeReservations.map(\.relay) == [relay])
        #expect(network.takeEvents(0).contains(.relayReservationGranted(client)))
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
    }

    @Test func unreachableRelayIsRetriedWithGrowingBackOff() throws {
        var (network, _) = try Bed.network(clientCount: 1)
        let relay = network.peer(0)
        let closedPort = try Multiaddr("/ip4/10.0.0.1/tcp/4999/p2p/\(relay)")
        try network.nodes[1].swarm.reserve(on: closedPort, now: network.now)
        network.settle()
        var delays: [Duration] = []
        for _ in 0..<5 {
            let failures = Self.reservationFailures(network.takeEvents(1))
            #expect(failures.count == 1)
            guard let (failure, retryAt) = failures.first, let retryAt else {
                Issue.record("no retry: \(failures)")
                return
            }
            if case .dialFailed = failure {} else { Issue.record("failure: \(failure)") }
            delays.append(retryAt - network.now)
            network.advance(by: retryAt - network.now)
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])
        #expect(!network.nodes[1].swarm.listenAddresses.contains { $0.isCircuit })

        // Cancelled: no more attempts.
        network.nodes[1].swarm.cancelReservation(on: relay, now: network.now)
        _ = network.takeEvents(1)
        network.advance(by: .seconds(120))
        #expect(Self.reservationFailures(network.takeEvents(1)).isEmpty)
    }

    @Test func cancelledReservationExpiresOnTheRelay() throws {
        var hop = RelayHopConfiguration()
        hop.reservationTTL = .seconds(100)
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 2)
        let relay = network.peer(0), client = network.peer(1)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        _ = network.takeEvents(0)

        network.nodes[1].swarm.cancelReservation(on: relay, now: network.now)
        network.settle()
        #expect(!network.nodes[1].swarm.listenAddresses.contains { $0.isCircuit })
        #expect(network.nodes[1].swarm.activeReservations.isEmpty)

        // No refresh (it would come at 80 s) and no expiry before the TTL.
        network.advance(by: .seconds(99))
        var relayEvents = network.takeEvents(0)
        #expect(!relayEvents.contains(.relayReservationGranted(client)))
        #expect(!relayEvents.contains(.relayReservationExpired(client)))
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
        network.advance(by: .seconds(1))
        relayEvents = network.takeEvents(0)
        #expect(relayEvents.contains(.relayReservationExpired(client)))
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 0)
        // Expired by time, not by a disconnect.
        #expect(network.directConnection(0, to: client) != nil)
        let dial = Bed.dial(from: 2, circuit, in: &network)
        #expect(Bed.attemptReasons(dial) == [.relay(.refused(.noReservation))])
    }

    // MARK: Closing

    @Test func dialerClosingItsRelayedConnectionEndsTheCircuit() throws {
        var (network, relayAddress) = try Bed.network(clientCount: 2)
        let relay = network.peer(0), listener = network.peer(1), dialer = network.peer(2)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, circuit, in: &network).get()
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
        _ = network.takeEvents(0)
        _ = network.takeEvents(1)

        network.nodes[2].swarm.closeConnection(relayed, now: network.now)
        network.settle()
        #expect(Bed.closedConnections(network.takeEvents(2)).map(\.id) == [relayed])
        let listenerClosed = Bed.closedConnections(network.takeEvents(1))
        #expect(listenerClosed.map { $0.isRelayed && $0.peer == dialer } == [true])
        let relayEvents = network.takeEvents(0)
        let ends = Bed.circuitEnds(relayEvents)
        #expect(ends.map(\.reason) == [.closed])
        #expect((ends.first?.sourceToTargetBytes ?? 0) > 0 && (ends.first?.targetToSourceBytes ?? 0) > 0)
        #expect(Bed.closedConnections(relayEvents).isEmpty)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
        #expect(network.nodes[1].swarm.connections(to: dialer).isEmpty)
        #expect(network.nodes[2].swarm.connections(to: listener).isEmpty)
        // The connections to the relay stay up, and the reservation with them.
        #expect(network.directConnection(1, to: relay) != nil)
        #expect(network.directConnection(2, to: relay) != nil)
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
        let ping = network.nodes[2].swarm.ping(relay, now: network.now)
        network.settle()
        #expect(network.takeEvents(2).contains { if case .requestCompleted(ping, .pinged) = $0 { true } else { false } })
        // And a new circuit can be made.
        #expect(throws: Never.self) { try Bed.dial(from: 2, circuit, in: &network).get() }
    }

    @Test func relayLosingTheListenerClosesTheDialersRelayedConnection() throws {
        var (network, relayAddress) = try Bed.network(clientCount: 2)
        let relay = network.peer(0), listener = network.peer(1), dialer = network.peer(2)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, circuit, in: &network).get()
        _ = network.takeEvents(0)
        _ = network.takeEvents(1)

        let toListener = try #require(network.directConnection(0, to: listener))
        network.dropSocket(node: 0, connection: toListener.id)
        network.settle()
        let dialerEvents = network.takeEvents(2)
        #expect(Bed.closedConnections(dialerEvents).map(\.id) == [relayed])
        // No limit was involved.
        #expect(!dialerEvents.contains { if case .circuitLimitReached = $0 { true } else { false } })
        let listenerClosed = Bed.closedConnections(network.takeEvents(1))
        #expect(Set(listenerClosed.map(\.isRelayed)) == [true, false])
        let relayEvents = network.takeEvents(0)
        #expect(Bed.circuitEnds(relayEvents).map(\.reason) == [.reset])
        #expect(relayEvents.contains(.relayReservationExpired(listener)))
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 0)
        #expect(network.nodes[2].swarm.connections(to: listener).isEmpty)
        #expect(network.nodes[1].swarm.connections(to: dialer).isEmpty)
        #expect(network.directConnection(2, to: relay) != nil)
    }

    @Test func relayLosingTheDialerClosesTheListenersRelayedConnection() throws {
        var (network, relayAddress) = try Bed.network(clientCount: 2)
        let relay = network.peer(0), listener = network.peer(1), dialer = network.peer(2)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, circuit, in: &network).get()
        _ = network.takeEvents(0)
        _ = network.takeEvents(1)

        network.nodes[0].swarm.disconnect(dialer, now: network.now)
        network.settle()
        let listenerClosed = Bed.closedConnections(network.takeEvents(1))
        #expect(listenerClosed.map { $0.isRelayed && $0.peer == dialer } == [true])
        #expect(Bed.closedConnections(network.takeEvents(2)).contains { $0.id == relayed })
        #expect(Bed.circuitEnds(network.takeEvents(0)).map(\.reason) == [.reset])
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 0)
        // The listener keeps its connection and reservation.
        #expect(network.directConnection(1, to: relay) != nil)
        #expect(network.nodes[0].swarm.relayStatistics.reservations == 1)
        #expect(network.nodes[1].swarm.listenAddresses.contains { $0.isCircuit })
        #expect(network.nodes[2].swarm.connections(to: listener).isEmpty)
    }
}
