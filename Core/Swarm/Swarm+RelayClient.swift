/// The client roles: reservations on relays (`.client`), relayed connections accepted
/// through STOP (`.stop`), and dials through relays (`.client`).
extension Swarm {
    // MARK: Reservations

    /// Reserves a slot on the relay at `relayAddress` (which must end with `/p2p/RELAY`):
    /// dials it if needed, sends RESERVE, checks the voucher, refreshes the reservation at
    /// the configured fraction of its lifetime, and tries again with back-off when the
    /// relay cannot be reached or the connection is lost. The outcome is a
    /// `reservationAccepted` event (the circuit addresses join the listen addresses) or a
    /// `reservationFailed` event. Returns the relay's peer ID.
    @discardableResult
    public mutating func reserve(on relayAddress: Multiaddr, now: Instant) throws(SwarmUsageError) -> PeerID {
        latestInput = max(latestInput, now)
        guard !isShutDown else { throw .shutDown }
        guard configuration.relay.enablesClient else { throw .relayRoleDisabled(.client) }
        guard let relayPeer = relayAddress.peerID, !relayAddress.isCircuit, relayPeer != localPeer else {
            throw .invalidRelayAddress(relayAddress)
        }
        if relay.reservations[relayPeer] != nil { return relayPeer }
        guard relay.reservations.count < configuration.relay.client.maximumConcurrentReservations else {
            throw .tooManyReservations(configuration.relay.client.maximumConcurrentReservations)
        }
        relay.reservations[relayPeer] = ReservationState(
            relay: relayPeer, addresses: [relayAddress], phase: .waiting(until: now))
        startReservation(relayPeer, now: now)
        return relayPeer
    }

    /// Drops the reservation on `relayPeer` (its circuit addresses are withdrawn). The
    /// relay lets it expire.
    public mutating func cancelReservation(on relayPeer: PeerID, now: Instant) {
        latestInput = max(latestInput, now)
        guard let state = relay.reservations.removeValue(forKey: relayPeer) else { return }
        if state.info != nil { listenAddressesChanged(now: now) }
    }

    /// The reservations this node holds now.
    public var activeReservations: [RelayReservationInfo] {
        relay.reservations.values.compactMap(\.info).sorted { $0.relay < $1.relay }
    }

    /// This node's circuit addresses: one per address of each relay holding a reservation.
    var circuitListenAddresses: [Multiaddr] {
        relay.reservations.keys.sorted().flatMap { peer -> [Multiaddr] in
            guard let state = relay.reservations[peer], let info = state.info else { return [] }
            let relayAddresses = info.addresses.isEmpty ? state.addresses : info.addresses
            return relayAddresses.compactMap { try? $0.encapsulate(.p2pCircuit) }
        }
    }

    /// Sends RESERVE on a connection to the relay, or dials it first.
    mutating func startReservation(_ relayPeer: PeerID, now: Instant) {
        guard var state = relay.reservations[relayPeer] else { return }
        if let connection = usableConnection(to: relayPeer, direct: true) {
            state.phase = .requesting(connection)
            relay.reservations[relayPeer] = state
            relay.work.append(.requestReservation(relayPeer))
            return
        }
        if let existing = dialsByPeer[relayPeer], dials[existing] != nil {
            state.phase = .dialing(existing)
        } else {
            let dial = DialID(rawValue: makeIdentifier())
            state.phase = .dialing(dial)
            relay.reservations[relayPeer] = state
            startDial(dial, expectedPeer: relayPeer, addresses: state.addresses, waitingDials: [], now: now)
            return
        }
        relay.reservations[relayPeer] = state
    }

    /// Opens the RESERVE stream on the connection the reservation is requesting on.
    mutating func requestReservation(_ relayPeer: PeerID, now: Instant) {
        guard case .requesting(let connectionID)? = relay.reservations[relayPeer]?.phase else { return }
        guard var slot = connections.removeValue(forKey: connectionID) else {
            reservationFailed(relayPeer, .connectionLost, now: now)
            return
        }
        if openBuiltinStream(&slot, id: connectionID, purpose: .reserve(relay: relayPeer), now: now) == nil {
            relay.reservations[relayPeer]?.phase = .waiting(until: now)
        }
        settle(slot, id: connectionID)
    }

    /// The relay granted the reservation asked on `connectionID`.
    mutating func reservationGranted(_ info: RelayReservationInfo, connectionID: ConnectionID, now: Instant) {
        guard var state = relay.reservations[info.relay] else { return }
        let addressesChanged = state.info?.addresses != info.addresses || state.info == nil
        state.phase = .reserved(info, connectionID)
        state.info = info
        state.failures = 0
        relay.reservations[info.relay] = state
        let relayAddresses = info.addresses.isEmpty ? state.addresses : info.addresses
        let own = relayAddresses.compactMap { try? $0.encapsulate(.p2pCircuit).encapsulate(.p2p(localPeer)) }
        events.append(.reservationAccepted(relay: info.relay, info, addresses: own))
        if addressesChanged { relay.work.append(.listenAddressesChanged) }
        autoRelayReservationGranted(info.relay, now: now)
    }

    /// A reservation failed or was lost: refusals are final, anything else is tried
    /// again with exponential back-off (1 s doubling up to 60 s).
    mutating func reservationFailed(_ relayPeer: PeerID, _ failure: RelayReservationFailure, now: Instant) {
        guard var state = relay.reservations[relayPeer] else { return }
        let hadAddresses = state.info != nil
        state.info = nil
        if case .refused = failure {
            relay.reservations[relayPeer] = nil
            events.append(.reservationFailed(relay: relayPeer, failure, retryAt: nil))
        } else {
            state.failures += 1
            let exponent = min(state.failures - 1, 6)
            let delay = min(Duration.seconds(1 << exponent), .seconds(60))
            state.phase = .waiting(until: now + delay)
            relay.reservations[relayPeer] = state
            events.append(.reservationFailed(relay: relayPeer, failure, retryAt: now + delay))
        }
        if hadAddresses { relay.work.append(.listenAddressesChanged) }
        autoRelayReservationFailed(relayPeer, now: now)
    }

    /// Refreshes reservations that are due and retries those that wait.
    mutating func handleReservationTimeouts(now: Instant) {
        for peer in relay.reservations.keys.sorted() {
            guard let state = relay.reservations[peer], let deadline = state.deadline, deadline <= now else { continue }
            switch state.phase {
            case .reserved(_, let connection):
                relay.reservations[peer]?.phase = .requesting(connection)
                relay.work.append(.requestReservation(peer))
            case .waiting:
                startReservation(peer, now: now)
            case .dialing, .requesting:
                break
            }
        }
    }

    /// A direct connection to `peer` is established (`slot`, out of the table): the
    /// reservations and relayed dials waiting for it go ahead on it.
    mutating func relayConnected(_ peer: PeerID, slot: inout ConnectionSlot, id: ConnectionID, now: Instant) {
        guard !slot.isRelayed else { return }
        if case .dialing? = relay.reservations[peer]?.phase {
            relay.reservations[peer]?.phase = .requesting(id)
            if openBuiltinStream(&slot, id: id, purpose: .reserve(relay: peer), now: now) == nil {
                reservationFailed(peer, .connectionLost, now: now)
            }
        }
        for relayed in relay.circuitsAwaitingRelay.removeValue(forKey: peer) ?? [] {
            connectThroughRelay(relayed, relaySlot: &slot, relayConnection: id, now: now)
        }
    }

    /// A dial to `peer` failed: its waiting reservation and relayed dials fail.
    mutating func relayDialFailed(_ peer: PeerID, _ failure: DialFailure, now: Instant) {
        if case .dialing? = relay.reservations[peer]?.phase {
            reservationFailed(peer, .dialFailed(failure), now: now)
        }
        for relayed in relay.circuitsAwaitingRelay.removeValue(forKey: peer) ?? [] {
            circuitAttemptFailed(relayed, .relayUnreachable(failure), now: now)
        }
    }

    /// A connection closed: the reservations on it are lost (and tried again).
    mutating func relayConnectionClosed(_ id: ConnectionID, now: Instant) {
        for peer in relay.reservations.keys.sorted() {
            switch relay.reservations[peer]?.phase {
            case .reserved(_, let connection)? where connection == id,
                 .requesting(let connection)? where connection == id:
                reservationFailed(peer, .connectionLost, now: now)
            default:
                break
            }
        }
    }

    // MARK: Accepting relayed connections (stop)

    /// The relay on `slot` brings a connection from `source`: accept it as an inbound
    /// relayed connection carried by the STOP stream, or refuse.
    mutating func stopConnectRequested(
        _ stream: inout ProtocolStream, source: RelayPeerInfo, limit: CircuitLimit?, slot: ConnectionSlot,
        connectionID: ConnectionID, streamID: StreamID, now: Instant
    ) {
        guard configuration.relay.enablesStop, !isShutDown, !slot.isRelayed, let relayPeer = slot.peer,
              source.id != localPeer, source.id != relayPeer, admitsInboundUpgrade,
              let relayAddress = try? slot.remoteAddress.encapsulate(.p2p(relayPeer)),
              let remoteAddress = try? relayAddress.encapsulate(.p2pCircuit).encapsulate(.p2p(source.id)),
              var connection = try? Connection(
                role: .server, direction: .inbound, identity: noiseIdentity, supportedProtocols: supportedProtocols,
                sharedConfiguration: connectionConfiguration, now: now, using: &generator)
        else {
            stream.withRelayMachine { $0.refuse(.connectionFailed, now: now) }
            return
        }
        guard let leftover = stream.withRelayMachine({ $0.acceptStop(now: now) }) ?? nil else { return }
        let id = ConnectionID(rawValue: makeIdentifier())
        var circuit = CircuitTransport(
            relay: relayPeer, relayAddress: relayAddress, remoteAddress: remoteAddress, peer: source.id)
        circuit.carrier = connectionID
        circuit.stream = streamID
        circuit.limit = limit
        circuit.openedAt = now
        circuit.bytesReceived = UInt64(leftover.count)
        if !leftover.isEmpty { connection.receive(leftover.span, now: now) }
        var relayed = ConnectionSlot(
            phase: .upgrading, connection: connection, direction: .inbound, remoteSocket: nil, localSocket: nil,
            circuit: circuit, dial: nil, dialedAddress: nil, listener: nil)
        processConnectionEvents(&relayed, id: id, now: now)
        settle(relayed, id: id)
        stream.finished = true
        stream.handoff = .circuitCarrier(id)
    }

    // MARK: Dialing through relays

    /// Starts one attempt of `dial` at a circuit address `…/p2p/RELAY/p2p-circuit/p2p/TARGET`:
    /// a relayed connection that waits for a connection to the relay, then for its CONNECT.
    mutating func startCircuitAttempt(_ dial: inout DialState, address: Multiaddr, now: Instant) {
        guard configuration.relay.enablesClient, let (relayAddress, named) = address.splitCircuit(),
              let relayPeer = relayAddress.peerID, !relayAddress.isCircuit,
              let target = named ?? dial.expectedPeer, target != relayPeer, relayPeer != localPeer,
              let remoteAddress = try? relayAddress.encapsulate(.p2pCircuit).encapsulate(.p2p(target))
        else {
            dial.failures.append(DialAttemptFailure(address: address, reason: .unsupported))
            return
        }
        let id = ConnectionID(rawValue: makeIdentifier())
        var slot = ConnectionSlot(
            phase: .connecting(deadline: dial.deadline), connection: nil, direction: .outbound,
            remoteSocket: nil, localSocket: nil,
            circuit: CircuitTransport(relay: relayPeer, relayAddress: relayAddress, remoteAddress: remoteAddress, peer: target),
            dial: dial.id, dialedAddress: address, listener: nil)
        slot.refreshDeadline()
        connections[id] = slot
        dial.attempts.insert(id)
        if usableConnection(to: relayPeer, direct: true) != nil {
            relay.work.append(.connectThroughRelay(id))
            return
        }
        relay.circuitsAwaitingRelay[relayPeer, default: []].append(id)
        guard dialsByPeer[relayPeer] == nil else { return }
        let relayDial = DialID(rawValue: makeIdentifier())
        let addresses = relayAddress.components.count > 1 ? [relayAddress] : dialableAddresses(of: relayPeer)
        guard !addresses.isEmpty else {
            relay.circuitsAwaitingRelay[relayPeer]?.removeAll { $0 == id }
            connections[id] = nil
            dial.attempts.remove(id)
            dial.failures.append(DialAttemptFailure(address: address, reason: .relayUnreachable(.noAddresses(relayPeer))))
            return
        }
        startDial(relayDial, expectedPeer: relayPeer, addresses: addresses, waitingDials: [], now: now)
    }

    /// Opens the CONNECT stream of the relayed connection `id` on a connection to its relay
    /// (from the work queue: nothing is out of the table).
    mutating func connectThroughRelay(_ id: ConnectionID, now: Instant) {
        guard let relayPeer = connections[id]?.circuit?.relay else { return }
        guard let relayConnection = usableConnection(to: relayPeer, direct: true),
              var relaySlot = connections.removeValue(forKey: relayConnection)
        else {
            circuitAttemptFailed(id, .relayUnreachable(.noAddresses(relayPeer)), now: now)
            return
        }
        connectThroughRelay(id, relaySlot: &relaySlot, relayConnection: relayConnection, now: now)
        settle(relaySlot, id: relayConnection)
    }

    /// Opens the CONNECT stream of the relayed connection `id` on `relaySlot`.
    mutating func connectThroughRelay(
        _ id: ConnectionID, relaySlot: inout ConnectionSlot, relayConnection: ConnectionID, now: Instant
    ) {
        guard let circuit = connections[id]?.circuit, circuit.stream == nil else { return }
        guard let stream = openBuiltinStream(
            &relaySlot, id: relayConnection, purpose: .relayConnect(relayed: id, target: circuit.peer), now: now)
        else {
            circuitAttemptFailed(id, .relay(.refused(.connectionFailed)), now: now)
            return
        }
        connections[id]?.circuit?.carrier = relayConnection
        connections[id]?.circuit?.stream = stream
    }

    /// The relay answered the CONNECT of the relayed connection `id`: on OK the upgrade
    /// starts over the stream; otherwise the attempt fails. Returns whether the stream
    /// carries the connection now.
    mutating func connectAnswered(
        _ id: ConnectionID, _ answer: Result<(limit: CircuitLimit?, leftover: [UInt8]), RelayCircuitFailure>, now: Instant
    ) -> Bool {
        switch answer {
        case .failure(let failure):
            circuitAttemptFailed(id, .relay(failure), now: now)
            return false
        case .success(let (limit, leftover)):
            guard var slot = connections.removeValue(forKey: id), let circuit = slot.circuit,
                  case .connecting = slot.phase
            else { return false }
            do {
                slot.connection = try Connection(
                    role: .client, direction: .outbound, identity: noiseIdentity, expectedRemotePeer: circuit.peer,
                    supportedProtocols: supportedProtocols, sharedConfiguration: connectionConfiguration,
                    now: now, using: &generator)
            } catch {
                connections[id] = slot
                circuitAttemptFailed(id, .relay(.refused(.connectionFailed)), now: now)
                return false
            }
            slot.phase = .upgrading
            slot.circuit!.limit = limit
            slot.circuit!.openedAt = now
            slot.circuit!.bytesReceived = UInt64(leftover.count)
            if !leftover.isEmpty { slot.connection!.receive(leftover.span, now: now) }
            processConnectionEvents(&slot, id: id, now: now)
            settle(slot, id: id)
            return true
        }
    }

    /// A relayed attempt failed before its connection existed: it is dropped and its dial
    /// goes on with the next address.
    mutating func circuitAttemptFailed(_ id: ConnectionID, _ reason: DialAttemptFailureReason, now: Instant) {
        guard let slot = connections.removeValue(forKey: id), let circuit = slot.circuit else { return }
        relay.circuitsAwaitingRelay[circuit.relay]?.removeAll { $0 == id }
        if let carrier = circuit.carrier, let stream = circuit.stream {
            relay.work.append(.resetCarrier(carrier, stream))
        }
        if let dial = slot.dial, let address = slot.dialedAddress {
            attemptFailed(dial, connection: id, failure: DialAttemptFailure(address: address, reason: reason), now: now)
        }
    }
}

extension Swarm {
    /// The relayed connections (established or upgrading) that go through `relay`: the
    /// circuits this node holds on it. Counted from the live connections, so a closed one
    /// is never counted.
    public func relayedConnectionCount(through relay: PeerID) -> Int {
        connections.values.count { $0.circuit?.relay == relay && !$0.isClosing }
    }
}
