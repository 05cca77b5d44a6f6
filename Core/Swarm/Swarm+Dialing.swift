/// Listening and dialing.
extension Swarm {
    /// Asks the driver to listen on a TCP address (`/ip4/A/tcp/P` or `/ip6/A/tcp/P`; port 0
    /// picks a free port). The outcome is a `listening` or `listenFailed` event.
    public mutating func listen(on address: Multiaddr, now: Instant) throws(SwarmUsageError) -> ListenerID {
        latestInput = max(latestInput, now)
        guard !isShutDown else { throw .shutDown }
        guard let socketAddress = SocketAddress(tcp: address), address.components.count == 2 else {
            throw .unsupportedListenAddress(address)
        }
        let id = ListenerID(rawValue: makeIdentifier())
        listeners[id] = ListenerState(requested: address)
        actions.append(.listen(id, on: socketAddress))
        return id
    }

    /// Closes a listener; its addresses are withdrawn (and pushed to connected peers).
    public mutating func stopListening(_ id: ListenerID, now: Instant) {
        latestInput = max(latestInput, now)
        guard let listener = listeners.removeValue(forKey: id) else { return }
        actions.append(.closeListener(id))
        listenAddressesChanged(now: now)
        reachabilityListenAddressesChanged(closed: listener.addresses.compactMap { SocketAddress(tcp: $0) }, now: now)
    }

    /// The addresses this node listens on (without `/p2p`): its listeners' addresses, then
    /// its circuit addresses through the relays that hold a reservation for it.
    public var listenAddresses: [Multiaddr] {
        listeners.sorted { $0.key.rawValue < $1.key.rawValue }.flatMap(\.value.addresses) + circuitListenAddresses
    }

    /// Dials an address: `/ip4|ip6/A/tcp/P`, `/dns*/NAME/tcp/P` or `/dnsaddr/NAME`,
    /// optionally ending with `/p2p/ID` (then the peer must prove that identity). An
    /// existing connection to that peer is reused unless `reusingConnection` is false.
    /// The outcome is a `dialSucceeded` or `dialFailed` event with the returned identifier.
    public mutating func dial(_ address: Multiaddr, reusingConnection: Bool = true, now: Instant) -> DialID {
        latestInput = max(latestInput, now)
        let id = DialID(rawValue: makeIdentifier())
        let expectedPeer = address.peerID
        if let failure = refusalOfDial(to: expectedPeer) {
            events.append(.dialFailed(id, failure))
            return id
        }
        if reusingConnection, let peer = expectedPeer, joinExistingDialOrConnection(id, peer: peer) { return id }
        if configuration.nats != nil, let peer = expectedPeer, address.components.count == 1 {
            // Only `/p2p/ID`: the known addresses, then NATS.
            startDial(id, expectedPeer: peer, addresses: dialableAddresses(of: peer), waitingDials: [id], now: now)
            return id
        }
        guard Self.isDialable(address) else {
            events.append(.dialFailed(id, .unsupportedAddress(address)))
            return id
        }
        startDial(id, expectedPeer: expectedPeer, addresses: [address], waitingDials: [id], now: now)
        return id
    }

    /// Dials a peer at the addresses the peer store has for it, reusing a connection.
    public mutating func dial(peer: PeerID, now: Instant) -> DialID {
        latestInput = max(latestInput, now)
        let id = DialID(rawValue: makeIdentifier())
        if let failure = refusalOfDial(to: peer) {
            events.append(.dialFailed(id, failure))
            return id
        }
        if joinExistingDialOrConnection(id, peer: peer) { return id }
        let addresses = dialableAddresses(of: peer)
        guard !addresses.isEmpty || configuration.nats != nil else {
            events.append(.dialFailed(id, .noAddresses(peer)))
            return id
        }
        startDial(id, expectedPeer: peer, addresses: addresses, waitingDials: [id], now: now)
        return id
    }

    /// Dials `peer` through the NATS tier only (no direct or relayed attempt), reusing an
    /// established NATS connection to it. Fails at once when the tier is not configured.
    /// The outcome is a `dialSucceeded` or `dialFailed` event with the returned identifier.
    public mutating func dialOverNATS(peer: PeerID, now: Instant) -> DialID {
        latestInput = max(latestInput, now)
        let id = DialID(rawValue: makeIdentifier())
        if let failure = refusalOfDial(to: peer) {
            events.append(.dialFailed(id, failure))
            return id
        }
        guard configuration.nats != nil else {
            let failure = DialAttemptFailure(address: Self.natsAddress(of: peer), reason: .natsUnavailable)
            events.append(.dialFailed(id, .allAttemptsFailed([failure])))
            return id
        }
        if let existing = usableConnection(to: peer, tier: .nats) {
            events.append(.dialSucceeded(id, peer: peer, connection: existing))
            return id
        }
        startDial(id, expectedPeer: peer, addresses: [], waitingDials: [id], now: now)
        return id
    }

    /// The addresses of `peer` this swarm can dial, from the peer store.
    func dialableAddresses(of peer: PeerID) -> [Multiaddr] {
        (peerStore[peer]?.addresses ?? []).filter(Self.isDialable)
    }

    private func refusalOfDial(to peer: PeerID?) -> DialFailure? {
        if isShutDown { return .shutdown }
        if peer == localPeer { return .dialedSelf }
        if dials.count >= configuration.maximumPendingDials { return .connectionLimitReached }
        return nil
    }

    /// Answers a dial at once from an established connection, or attaches it to a dial to
    /// the same peer in progress. Returns whether it did.
    private mutating func joinExistingDialOrConnection(_ id: DialID, peer: PeerID) -> Bool {
        if let connection = usableConnection(to: peer) {
            events.append(.dialSucceeded(id, peer: peer, connection: connection))
            return true
        }
        if let shared = dialsByPeer[peer], dials[shared] != nil {
            dials[shared]?.waitingDials.append(id)
            return true
        }
        return false
    }

    /// The oldest established connection to `peer` that takes new streams, of the best tier
    /// there is (direct, then relayed, then NATS); with `direct`, only a direct one.
    func usableConnection(to peer: PeerID, direct: Bool = false) -> ConnectionID? {
        var relayed: ConnectionID?
        var overNATS: ConnectionID?
        for id in connectionsByPeer[peer] ?? [] {
            guard let slot = connections[id], !slot.remoteGoingAway, !slot.isClosing else { continue }
            switch slot.tier {
            case .direct: return id
            case .relay: if relayed == nil { relayed = id }
            case .nats: if overNATS == nil { overNATS = id }
            }
        }
        return direct ? nil : relayed ?? overNATS
    }

    /// The oldest established connection to `peer` of `tier` that takes new streams.
    func usableConnection(to peer: PeerID, tier: ConnectionTier) -> ConnectionID? {
        (connectionsByPeer[peer] ?? []).first { id in
            guard let slot = connections[id] else { return false }
            return !slot.remoteGoingAway && !slot.isClosing && slot.tier == tier
        }
    }

    /// Starts a dial (for the application, or for requests waiting on a peer).
    mutating func startDial(
        _ id: DialID, expectedPeer: PeerID?, addresses: [Multiaddr], waitingDials: [DialID], now: Instant
    ) {
        if let expectedPeer { metricsDialStarted(expectedPeer, now: now) }
        // Circuit addresses keep their `/p2p/TARGET`; they are tried after the direct ones.
        let direct = addresses.filter { SocketAddress(tcp: $0) != nil && !$0.isCircuit }.map(\.withoutTrailingPeerID)
        let relayed = addresses.filter(\.isCircuit)
        dials[id] = DialState(
            id: id, expectedPeer: expectedPeer,
            addresses: Array((direct + relayed).prefix(configuration.maximumAddressesPerDial)),
            deadline: now + configuration.dialTimeout, waitingDials: waitingDials)
        if let expectedPeer { dialsByPeer[expectedPeer] = id }
        for address in addresses where SocketAddress(tcp: address) == nil && !address.isCircuit {
            // A name: `/p2p/ID` stays on, so `/dnsaddr` records are filtered by it.
            startResolution(of: address, for: id, now: now)
        }
        startNextAttempt(id, now: now)
    }

    /// Opens a socket to the dial's next address, and schedules the one after it.
    mutating func startNextAttempt(_ id: DialID, now: Instant) {
        guard var dial = dials[id] else { return }
        dial.nextAttemptAt = nil
        while !dial.addresses.isEmpty && dial.attempts.count < configuration.maximumConcurrentAttemptsPerDial {
            let address = dial.addresses.removeFirst()
            if address.isCircuit {
                startCircuitAttempt(&dial, address: address, now: now)
                if dial.attempts.isEmpty { continue }
                break
            }
            guard let remote = SocketAddress(tcp: address) else { continue }
            guard connections.count < configuration.maximumConnections else {
                dial.failures.append(DialAttemptFailure(address: address, reason: .transport(.other("connection limit reached"))))
                continue
            }
            let connection = ConnectionID(rawValue: makeIdentifier())
            var slot = ConnectionSlot(
                phase: .connecting(deadline: now + configuration.connectTimeout), connection: nil,
                direction: .outbound, remoteSocket: remote, localSocket: nil, dial: id, dialedAddress: address, listener: nil)
            slot.refreshDeadline()
            connections[connection] = slot
            dial.attempts.insert(connection)
            connect(connection, to: remote)
            break
        }
        if !dial.addresses.isEmpty && dial.attempts.count < configuration.maximumConcurrentAttemptsPerDial {
            dial.nextAttemptAt = now + configuration.dialStagger
        }
        if dial.attempts.isEmpty && dial.addresses.isEmpty && dial.pendingResolutions == 0 {
            // Every direct and relayed attempt failed: NATS is the last resort.
            _ = startNATSAttempt(&dial, now: now)
        }
        dials[id] = dial
        if dial.attempts.isEmpty && dial.addresses.isEmpty && dial.pendingResolutions == 0 {
            failDial(id, .allAttemptsFailed(dial.failures), now: now)
        }
    }

    /// One attempt of a dial failed; the next address is tried at once.
    mutating func attemptFailed(_ id: DialID, connection: ConnectionID, failure: DialAttemptFailure, now: Instant) {
        guard dials[id] != nil else { return }
        dials[id]?.attempts.remove(connection)
        dials[id]?.failures.append(failure)
        startNextAttempt(id, now: now)
    }

    /// A dial's attempt established a connection: the other attempts are cancelled, the
    /// waiting dials succeed and the waiting requests start on it. `slot` is the winning
    /// connection's, out of `connections`.
    mutating func dialSucceeded(_ id: DialID, connection: ConnectionID, peer: PeerID, slot: inout ConnectionSlot, now: Instant) {
        guard let dial = dials.removeValue(forKey: id) else { return }
        cancelResolutions(of: id)
        metricsDialEnded(peer, succeeded: true, now: now)
        if let expected = dial.expectedPeer, dialsByPeer[expected] == id { dialsByPeer[expected] = nil }
        for other in dial.attempts where other != connection { cancelAttempt(other, now: now) }
        for waiting in dial.waitingDials { events.append(.dialSucceeded(waiting, peer: peer, connection: connection)) }
        for request in dial.waitingRequests {
            guard let pending = requests[request] else { continue }
            openBuiltinStream(&slot, id: connection, purpose: pending.purpose, now: now)
        }
    }

    /// Gives up a dial: its attempts are cancelled, waiting dials and requests fail.
    mutating func failDial(_ id: DialID, _ failure: DialFailure, now: Instant) {
        guard let dial = dials.removeValue(forKey: id) else { return }
        cancelResolutions(of: id)
        metricsDialEnded(dial.expectedPeer, succeeded: false, now: now)
        if let expected = dial.expectedPeer, dialsByPeer[expected] == id { dialsByPeer[expected] = nil }
        for attempt in dial.attempts { cancelAttempt(attempt, now: now) }
        for waiting in dial.waitingDials { events.append(.dialFailed(waiting, failure)) }
        for request in dial.waitingRequests { completeRequest(request, .failed(.dialFailed(failure))) }
        if let expected = dial.expectedPeer { relayDialFailed(expected, failure, now: now) }
    }

    /// Closes a socket that lost its dial.
    private mutating func cancelAttempt(_ id: ConnectionID, now: Instant) {
        guard var slot = connections.removeValue(forKey: id) else { return }
        if case .connecting = slot.phase {
            if slot.natsCarrier != nil {
                cancelWaitingNATSAttempt(id)
            } else if let circuit = slot.circuit {
                relay.circuitsAwaitingRelay[circuit.relay]?.removeAll { $0 == id }
                if let carrier = circuit.carrier, let stream = circuit.stream {
                    relay.work.append(.resetCarrier(carrier, stream))
                }
            } else {
                actions.append(.close(id))
            }
            return
        }
        slot.connection?.close(now: now)
        processConnectionEvents(&slot, id: id, now: now)
        settle(slot, id: id)
    }
}

/// Misuse of the swarm by the application.
public enum SwarmUsageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The swarm can only listen on `/ip4/A/tcp/P` and `/ip6/A/tcp/P`.
    case unsupportedListenAddress(Multiaddr)
    /// No open application stream has this identifier.
    case unknownStream(SwarmStreamID)
    /// The connection refused the operation.
    case connection(ConnectionUsageError)
    /// The swarm is shutting down.
    case shutDown
    /// The relay role this needs is not in `SwarmConfiguration.relay.roles`.
    case relayRoleDisabled(RelayRoles)
    /// A relay address must be a direct address ending with `/p2p/RELAY` (not this node).
    case invalidRelayAddress(Multiaddr)
    /// This node holds the most reservations it may (`maximumConcurrentReservations`).
    case tooManyReservations(Int)

    public var description: String {
        switch self {
        case .relayRoleDisabled(let roles): "relay role \(roles.rawValue) is not enabled"
        case .invalidRelayAddress(let address): "not a relay address (a direct address ending with /p2p/ID): \(address)"
        case .tooManyReservations(let count): "already holding \(count) reservations"
        case .unsupportedListenAddress(let address): "cannot listen on \(address): only /ip4|ip6/ADDRESS/tcp/PORT"
        case .unknownStream(let stream): "no open \(stream)"
        case .connection(let error): "connection refused the operation: \(error)"
        case .shutDown: "shutting down"
        }
    }
}
