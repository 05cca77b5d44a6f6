/// The driver's reports about sockets.
extension Swarm {
    /// A listener is open at `boundAddress` (with the real port). `interfaces` are the
    /// host's interface addresses, used to expand an unspecified address (`0.0.0.0`, `::`);
    /// their ports are ignored.
    public mutating func listenerStarted(
        _ id: ListenerID, boundAddress: SocketAddress, interfaces: [SocketAddress], now: Instant
    ) {
        latestInput = max(latestInput, now)
        guard var listener = listeners[id] else { return }
        var hosts: [SocketAddress]
        switch boundAddress {
        case .ipv4(let address, _) where address.value == 0:
            hosts = interfaces.filter { !$0.isIPv6 }
        case .ipv6(let address, _) where address.high == 0 && address.low == 0:
            // A link-local address needs a zone (`/ip6zone`) to be dialed: leave it out.
            hosts = interfaces.filter { host in
                guard case .ipv6(let ip, _) = host else { return false }
                return ip.scope != .linkLocal
            }
        default:
            hosts = [boundAddress]
        }
        if hosts.isEmpty { hosts = [boundAddress] }
        var seen = Set<Multiaddr>()
        listener.addresses = hosts.map { $0.with(port: boundAddress.port).tcpMultiaddr }.filter { seen.insert($0).inserted }
        listeners[id] = listener
        let suffix = MultiaddrComponent.p2p(localPeer)
        events.append(.listening(id, addresses: listener.addresses.compactMap { try? $0.encapsulate(suffix) }))
        listenAddressesChanged(now: now)
    }

    /// A listener could not be opened.
    public mutating func listenerFailed(_ id: ListenerID, _ failure: TransportFailure, now: Instant) {
        latestInput = max(latestInput, now)
        guard let listener = listeners.removeValue(forKey: id) else { return }
        events.append(.listenFailed(id, address: listener.requested, failure))
    }

    /// A listener accepted a socket. Returns the connection's identifier, or `nil` when a
    /// limit refuses it: the driver then closes the socket at once.
    public mutating func accepted(
        listener: ListenerID, remote: SocketAddress, local: SocketAddress, now: Instant
    ) -> ConnectionID? {
        latestInput = max(latestInput, now)
        guard !isShutDown, listeners[listener] != nil, admitsInboundUpgrade else { return nil }
        let id = ConnectionID(rawValue: makeIdentifier())
        var slot = ConnectionSlot(
            phase: .upgrading, connection: nil, direction: .inbound, remoteSocket: remote, localSocket: local,
            dial: nil, dialedAddress: nil, listener: listener)
        // During a hole punch, the peer's SYN may be the one that got through.
        let punch = holePunchRole(forAccepted: remote, id: id)
        do {
            slot.connection = try Connection(
                role: punch?.role ?? .server, direction: .inbound, identity: noiseIdentity,
                expectedRemotePeer: punch.flatMap { $0.role == .client ? $0.peer : nil },
                supportedProtocols: supportedProtocols, sharedConfiguration: connectionConfiguration,
                now: now, using: &generator)
        } catch {
            return nil
        }
        settle(slot, id: id)
        return id
    }

    /// An outbound TCP connection is open; the upgrade starts.
    public mutating func connected(_ id: ConnectionID, local: SocketAddress, now: Instant) {
        latestInput = max(latestInput, now)
        if id == nats.socket {
            natsSocketConnected(now: now)
            return
        }
        guard var slot = connections.removeValue(forKey: id) else { return }
        guard case .connecting = slot.phase else {
            connections[id] = slot
            return
        }
        holePunch.reusedPortDials[id] = nil
        let punch = holePunchRole(forDial: id)
        let expectedPeer = slot.dial.flatMap { dials[$0]?.expectedPeer } ?? punch.flatMap { $0.role == .client ? $0.peer : nil }
            ?? autoNATDialBackPeer(id)
        slot.localSocket = local
        slot.phase = .upgrading
        do {
            slot.connection = try Connection(
                role: punch?.role ?? .client, direction: .outbound, identity: noiseIdentity, expectedRemotePeer: expectedPeer,
                supportedProtocols: supportedProtocols, sharedConfiguration: connectionConfiguration,
                now: now, using: &generator)
        } catch {
            preconditionFailure("the swarm's protocol list is always valid: \(error)")
        }
        processConnectionEvents(&slot, id: id, now: now)
        settle(slot, id: id)
    }

    /// An outbound TCP connection could not be opened.
    public mutating func connectFailed(_ id: ConnectionID, _ failure: TransportFailure, now: Instant) {
        latestInput = max(latestInput, now)
        if id == nats.socket {
            natsSocketConnectFailed(failure, now: now)
            return
        }
        guard let slot = connections[id], case .connecting = slot.phase else { return }
        if slot.natsCarrier != nil {
            // Only a timeout: the attempt waited for the NATS server too long.
            natsAttemptFailed(id, .natsUnavailable, now: now)
            return
        }
        if retriedWithoutReusedPort(id, failure) { return }
        if slot.circuit != nil {
            circuitAttemptFailed(id, .transport(failure), now: now)
            return
        }
        connections[id] = nil
        holePunch.reusedPortDials[id] = nil
        actions.append(.close(id))
        if let dial = slot.dial, let address = slot.dialedAddress {
            attemptFailed(dial, connection: id, failure: DialAttemptFailure(address: address, reason: .transport(failure)), now: now)
        }
        holePunchDialFailed(id, now: now)
        autoNATDialBackFailed(id, reason: failure.description, now: now)
    }

    /// Bytes arrived on a connection's socket.
    public mutating func received(_ id: ConnectionID, _ bytes: Span<UInt8>, now: Instant) {
        latestInput = max(latestInput, now)
        if id == nats.socket {
            natsSocketReceived(bytes, now: now)
            return
        }
        guard var slot = connections.removeValue(forKey: id) else { return }
        guard slot.connection != nil, !slot.isClosing else {
            connections[id] = slot
            return
        }
        slot.connection!.receive(bytes, now: now)
        processConnectionEvents(&slot, id: id, now: now)
        if slot.isClosing { connections[id] = slot; enqueueTransmit(id); return }
        settle(slot, id: id)
    }

    /// A connection's socket ended: the peer closed it (`failure` is `nil`) or it failed.
    /// The driver has closed the socket; the swarm sends no `close` action for it.
    public mutating func transportClosed(_ id: ConnectionID, _ failure: TransportFailure?, now: Instant) {
        latestInput = max(latestInput, now)
        if id == nats.socket {
            natsSocketClosed(now: now)
            return
        }
        guard var slot = connections.removeValue(forKey: id) else { return }
        if case .connecting = slot.phase {
            connections[id] = slot
            connectFailed(id, failure ?? .connectionReset, now: now)
            return
        }
        slot.connection?.transportClosed(now: now)
        processConnectionEvents(&slot, id: id, now: now)
        // The socket is gone: nothing more can be sent or closed.
        transmitQueued.remove(id)
    }

    /// The socket holds more unsent bytes than the driver wants to queue: the swarm sends
    /// no more on it and stops reading it (its input would only make more output).
    public mutating func transportBlocked(_ id: ConnectionID, now: Instant) {
        latestInput = max(latestInput, now)
        if id == nats.socket, !nats.blocked {
            nats.blocked = true
            actions.append(.pauseReading(id))
            return
        }
        guard connections[id] != nil, connections[id]?.transportBlocked == false else { return }
        connections[id]?.transportBlocked = true
        actions.append(.pauseReading(id))
    }

    /// The socket drained below the driver's low-water mark: sending and reading resume.
    public mutating func transportUnblocked(_ id: ConnectionID, now: Instant) {
        latestInput = max(latestInput, now)
        if id == nats.socket, nats.blocked {
            nats.blocked = false
            actions.append(.resumeReading(id))
            enqueueTransmit(id)
            return
        }
        guard connections[id]?.transportBlocked == true else { return }
        connections[id]?.transportBlocked = false
        actions.append(.resumeReading(id))
        enqueueTransmit(id)
    }

    /// Whether one more inbound connection may start its upgrade: below the connection limit
    /// and the limit of inbound upgrades at once (sockets and relayed connections alike).
    var admitsInboundUpgrade: Bool {
        guard connections.count < configuration.maximumConnections else { return false }
        let upgrading = connections.values.reduce(0) { count, slot in
            if case .upgrading = slot.phase, slot.direction == .inbound { count + 1 } else { count }
        }
        return upgrading < configuration.maximumPendingInboundConnections
    }

    /// The protocols inbound streams may select: the built-in ones and the application's.
    static func supportedProtocols(_ configuration: SwarmConfiguration, application applicationProtocols: [String]) -> [String] {
        var protocols = [StreamProtocolID.identify, StreamProtocolID.identifyPush, StreamProtocolID.ping]
        if configuration.servesPerf { protocols.append(StreamProtocolID.perf) }
        if configuration.servesEcho { protocols.append(StreamProtocolID.echo) }
        if configuration.relay.enablesHop { protocols.append(RelayProtocolID.hop) }
        if configuration.relay.enablesStop { protocols.append(RelayProtocolID.stop) }
        if configuration.holePunch.isEnabled { protocols.append(StreamProtocolID.dcutr) }
        if configuration.autoNAT.servesDialBacks { protocols.append(StreamProtocolID.autoNAT) }
        protocols.append(contentsOf: applicationProtocols.filter { !protocols.contains($0) })
        return protocols
    }
}
