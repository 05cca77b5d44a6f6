/// The NATS fallback tier: the socket to the NATS server, the pipe transport on it, and
/// connections carried by pipes (pumped like relayed connections over their carrier stream).
extension Swarm {
    // MARK: The server connection

    /// Asks the driver for a TCP connection to the NATS server.
    mutating func connectToNATSServer(now: Instant) {
        guard let tier = configuration.nats, !isShutDown, nats.socket == nil else { return }
        let id = ConnectionID(rawValue: makeIdentifier())
        nats = SwarmNATSState(socket: id, connectDeadline: now + configuration.connectTimeout, claimedPeer: nats.claimedPeer)
        actions.append(.connect(id, to: tier.server, from: nil))
    }

    /// The socket to the NATS server is open: the NATS client starts.
    mutating func natsSocketConnected(now: Instant) {
        guard let tier = configuration.nats else { return }
        nats.socketOpen = true
        nats.connectDeadline = nil
        nats.transport = NATSPipeTransport(local: nats.claimedPeer ?? localPeer, now: now, configuration: tier.transport)
        processNATSEvents(now: now)
        if let socket = nats.socket { enqueueTransmit(socket) }
    }

    /// The socket to the NATS server could not be opened (or the connect timed out).
    mutating func natsSocketConnectFailed(_ failure: TransportFailure, now: Instant) {
        guard let socket = nats.socket, !nats.socketOpen else { return }
        actions.append(.close(socket))
        nats.socket = nil
        nats.connectDeadline = nil
        natsTierDown(.connectFailed(failure), now: now)
    }

    /// Bytes from the NATS server.
    mutating func natsSocketReceived(_ bytes: Span<UInt8>, now: Instant) {
        guard nats.transport != nil, !nats.transportEnded else { return }
        nats.transport!.receive(bytes, now: now)
        processNATSEvents(now: now)
        if let socket = nats.socket { enqueueTransmit(socket) }
    }

    /// The driver closed the socket to the NATS server (the server closed it, or it failed).
    mutating func natsSocketClosed(now: Instant) {
        guard let socket = nats.socket else { return }
        if !nats.socketOpen {
            natsSocketConnectFailed(.connectionReset, now: now)
            return
        }
        transmitQueued.remove(socket)
        nats.socket = nil
        nats.socketOpen = false
        if nats.transport != nil, !nats.transportEnded {
            nats.transport!.transportClosed(now: now)
            processNATSEvents(now: now)
        }
        nats.transport = nil
    }

    /// Hands the NATS transport's bytes for the server to the driver; after its last bytes
    /// the socket closes. Returns whether bytes were appended.
    mutating func transmitNATS(into buffer: inout [UInt8]) -> Bool {
        let now = latestInput
        guard let socket = nats.socket, nats.socketOpen, nats.transport != nil else { return false }
        if nats.blocked && !nats.transportEnded { return false }
        let start = buffer.count
        while buffer.count - start < Self.transmitChunkLimit, nats.transport!.pollTransmit(into: &buffer) > 0 {}
        if isShutDown && !nats.transportEnded && !connections.values.contains(where: { $0.natsCarrier != nil }) {
            // The last pipe connection is gone: the transport resets what is left and ends.
            nats.transport!.close(now: now)
            while nats.transport!.pollTransmit(into: &buffer) > 0 {}
        }
        processNATSEvents(now: now)
        if nats.transportEnded {
            actions.append(.close(socket))
            nats.socket = nil
            nats.socketOpen = false
            nats.transport = nil
        } else if buffer.count - start >= Self.transmitChunkLimit {
            enqueueTransmit(socket)
        }
        return buffer.count > start
    }

    /// The tier's timers: the connect timeout, reconnecting, the transport's timers.
    mutating func handleNATSTimeouts(now: Instant) {
        if let deadline = nats.connectDeadline, deadline <= now {
            natsSocketConnectFailed(.timedOut, now: now)
        }
        if let at = nats.reconnectAt, at <= now {
            nats.reconnectAt = nil
            connectToNATSServer(now: now)
        }
        if !nats.transportEnded, let deadline = nats.transport?.nextDeadline, deadline <= now {
            nats.transport!.handleTimeout(now: now)
            processNATSEvents(now: now)
            if let socket = nats.socket { enqueueTransmit(socket) }
        }
    }

    /// The server connection is down: attempts waiting for it fail, the swarm tries again
    /// after the reconnect delay.
    private mutating func natsTierDown(_ reason: NATSTierDisconnection, now: Instant) {
        nats.isReady = false
        events.append(.natsDisconnected(reason))
        let waiting = nats.waitingAttempts
        nats.waitingAttempts = []
        for id in waiting { natsAttemptFailed(id, .natsUnavailable, now: now) }
        if !isShutDown, let tier = configuration.nats { nats.reconnectAt = now + tier.reconnectDelay }
    }

    // MARK: The transport's events

    /// Acts on the transport's events. No pipe connection's slot may be out of
    /// `connections` while this runs.
    mutating func processNATSEvents(now: Instant) {
        while let event = nats.transport?.pollEvent() {
            switch event {
            case .connected(let info):
                nats.isReady = true
                events.append(.natsConnected(info))
                let waiting = nats.waitingAttempts
                nats.waitingAttempts = []
                for id in waiting { openNATSPipe(for: id, now: now) }
            case .inbound(let pipe, let remote):
                natsInbound(pipe, claimedPeer: remote, now: now)
            case .pipe(let pipe, let pipeEvent):
                natsPipeEvent(pipe, pipeEvent, now: now)
            case .serverError:
                // Non-fatal (a publish the server's permissions refused): the pipes it
                // concerns fail on their own timers.
                continue
            case .closed(let error):
                nats.transportEnded = true
                nats.isReady = false
                for pipe in nats.discarding { nats.pipes[pipe] = nil }
                nats.discarding = []
                if let socket = nats.socket { enqueueTransmit(socket) }
                natsTierDown(error.map { .transport($0) } ?? .shutdown, now: now)
            }
        }
    }

    private mutating func natsPipeEvent(_ pipe: NATSPipeID, _ event: NATSPipeEvent, now: Instant) {
        if nats.discarding.contains(pipe) {
            switch event {
            case .closed, .failed:
                nats.discarding.remove(pipe)
            case .readable, .remoteClosedWrite:
                drainDiscardedPipe(pipe, now: now)
            case .opened, .writable:
                break
            }
            return
        }
        guard let id = nats.pipes[pipe] else { return }
        switch event {
        case .closed:
            nats.pipes[pipe] = nil
            connections[id]?.natsCarrier?.ended = true
        case .failed(let error):
            nats.pipes[pipe] = nil
            connections[id]?.natsCarrier?.ended = true
            connections[id]?.natsCarrier?.failure = error
        case .opened, .readable, .writable, .remoteClosedWrite:
            break
        }
        enqueueTransmit(id)
    }

    /// Reads and drops what a pipe whose connection is gone received.
    private mutating func drainDiscardedPipe(_ pipe: NATSPipeID, now: Instant) {
        while true {
            readScratch.removeAll(keepingCapacity: true)
            guard case .bytes(let count)? = try? nats.transport?.read(pipe, into: &readScratch, maximum: 64 * 1024, now: now),
                  count > 0
            else { return }
        }
    }

    /// A peer opened a pipe: an inbound connection (role server) runs over it, unless a
    /// limit refuses it.
    private mutating func natsInbound(_ pipe: NATSPipeID, claimedPeer: PeerID, now: Instant) {
        guard !isShutDown, admitsInboundUpgrade, natsConnectionCount < (configuration.nats?.maximumConnections ?? 0) else {
            try? nats.transport?.reset(pipe, now: now)
            return
        }
        let id = ConnectionID(rawValue: makeIdentifier())
        var slot = ConnectionSlot(
            phase: .upgrading, connection: nil, direction: .inbound, remoteSocket: nil, localSocket: nil,
            natsCarrier: NATSPipeCarrier(peer: claimedPeer, pipe: pipe), dial: nil, dialedAddress: nil, listener: nil)
        do {
            slot.connection = try Connection(
                role: .server, direction: .inbound, identity: noiseIdentity,
                supportedProtocols: supportedProtocols, sharedConfiguration: connectionConfiguration,
                now: now, using: &generator)
        } catch {
            try? nats.transport?.reset(pipe, now: now)
            return
        }
        nats.pipes[pipe] = id
        settle(slot, id: id)
    }

    /// The connections the NATS tier carries or is opening.
    var natsConnectionCount: Int {
        connections.values.reduce(0) { count, slot in slot.natsCarrier != nil ? count + 1 : count }
    }

    // MARK: Dialing over NATS

    /// The address a NATS attempt of a dial to `peer` is recorded under: `/p2p/PEER`.
    static func natsAddress(of peer: PeerID) -> Multiaddr {
        (try? Multiaddr(components: [.p2p(peer)])) ?? Multiaddr()
    }

    /// Starts the NATS attempt of a dial (its last one). Returns whether an attempt runs;
    /// when it cannot start, the reason is among the dial's failures.
    mutating func startNATSAttempt(_ dial: inout DialState, now: Instant) -> Bool {
        guard let tier = configuration.nats, let peer = dial.expectedPeer, !dial.natsAttempted else { return false }
        dial.natsAttempted = true
        let address = Self.natsAddress(of: peer)
        guard !isShutDown, nats.socket != nil || nats.reconnectAt != nil else {
            dial.failures.append(DialAttemptFailure(address: address, reason: .natsUnavailable))
            return false
        }
        guard connections.count < configuration.maximumConnections, natsConnectionCount < tier.maximumConnections else {
            dial.failures.append(DialAttemptFailure(address: address, reason: .transport(.other("connection limit reached"))))
            return false
        }
        let id = ConnectionID(rawValue: makeIdentifier())
        var slot = ConnectionSlot(
            phase: .connecting(deadline: now + configuration.connectTimeout), connection: nil, direction: .outbound,
            remoteSocket: nil, localSocket: nil, natsCarrier: NATSPipeCarrier(peer: peer), dial: dial.id,
            dialedAddress: address, listener: nil)
        if nats.isReady {
            do throws(NATSPipeUsageError) {
                let pipe = try nats.transport!.open(to: peer, now: now, using: &generator)
                startNATSUpgrade(&slot, id: id, pipe: pipe, now: now)
            } catch {
                dial.failures.append(DialAttemptFailure(address: address, reason: .natsUnavailable))
                return false
            }
        } else {
            nats.waitingAttempts.append(id)
        }
        slot.refreshDeadline()
        connections[id] = slot
        if slot.connection != nil { enqueueTransmit(id) }
        if let socket = nats.socket { enqueueTransmit(socket) }
        dial.attempts.insert(id)
        return true
    }

    /// An attempt waited for the server, which is ready now: its pipe opens.
    private mutating func openNATSPipe(for id: ConnectionID, now: Instant) {
        guard var slot = connections[id], let peer = slot.natsCarrier?.peer, case .connecting = slot.phase else { return }
        do throws(NATSPipeUsageError) {
            let pipe = try nats.transport!.open(to: peer, now: now, using: &generator)
            startNATSUpgrade(&slot, id: id, pipe: pipe, now: now)
            settle(slot, id: id)
            if let socket = nats.socket { enqueueTransmit(socket) }
        } catch {
            natsAttemptFailed(id, .natsUnavailable, now: now)
        }
    }

    /// The upgrade (role client) starts over a new pipe; its first bytes go once the peer
    /// accepted.
    private mutating func startNATSUpgrade(_ slot: inout ConnectionSlot, id: ConnectionID, pipe: NATSPipeID, now: Instant) {
        slot.natsCarrier?.pipe = pipe
        slot.phase = .upgrading
        nats.pipes[pipe] = id
        do {
            slot.connection = try Connection(
                role: .client, direction: .outbound, identity: noiseIdentity, expectedRemotePeer: slot.natsCarrier?.peer,
                supportedProtocols: supportedProtocols, sharedConfiguration: connectionConfiguration,
                now: now, using: &generator)
        } catch {
            preconditionFailure("the swarm's protocol list is always valid: \(error)")
        }
    }

    /// A NATS attempt that has no pipe yet failed (or timed out waiting for the server).
    mutating func natsAttemptFailed(_ id: ConnectionID, _ reason: DialAttemptFailureReason, now: Instant) {
        nats.waitingAttempts.removeAll { $0 == id }
        guard let slot = connections.removeValue(forKey: id) else { return }
        if let dial = slot.dial, let address = slot.dialedAddress {
            attemptFailed(dial, connection: id, failure: DialAttemptFailure(address: address, reason: reason), now: now)
        }
    }

    /// A NATS attempt that lost its dial before its pipe opened.
    mutating func cancelWaitingNATSAttempt(_ id: ConnectionID) {
        nats.waitingAttempts.removeAll { $0 == id }
    }

    // MARK: Pipe connections' bytes

    /// Moves a pipe connection's bytes to and from its pipe: its output as far as the
    /// pipe's credit takes it, and what the peer sent. When the
    /// pipe ends the connection's transport is closed; when the connection closes, the pipe
    /// is half-closed after its last bytes.
    mutating func pumpNATSPipe(_ id: ConnectionID) {
        let now = latestInput
        guard var slot = connections.removeValue(forKey: id) else { return }
        guard slot.connection != nil, var carrier = slot.natsCarrier, let pipe = carrier.pipe else {
            connections[id] = slot
            return
        }
        var carried = !carrier.ended && nats.transport != nil && !nats.transportEnded
        var inputEnded = false
        var progressed = carried
        while progressed && carried {
            progressed = false
            if !carrier.hasPendingOutbound {
                var outbound: [UInt8] = []
                while slot.connection!.pollTransmit(into: &outbound) > 0, outbound.count < Self.transmitChunkLimit {}
                carrier.outbound = outbound
                carrier.outboundOffset = 0
            }
            if carrier.hasPendingOutbound {
                let offset = carrier.outboundOffset
                let written: Int
                do {
                    written = try carrier.outbound.withUnsafeBufferPointer { (bytes) throws(NATSPipeUsageError) in
                        try nats.transport!.write(pipe, bytes.span.extracting(offset...), now: now)
                    }
                } catch {
                    carried = false
                    break
                }
                carrier.outboundOffset += written
                if written > 0 { progressed = true }
            }
            // Reads go on while output waits for the peer's credit: both sides waiting for
            // credit with neither reading would deadlock (credit comes back only when the
            // reader reads). The connection's output stays bounded meanwhile: it is polled
            // only once `outbound` went, and Yamux's windows bound what it makes.
            if !slot.isClosing {
                readScratch.removeAll(keepingCapacity: true)
                switch try? nats.transport!.read(pipe, into: &readScratch, maximum: 64 * 1024, now: now) {
                case .bytes(let count)? where count > 0:
                    slot.connection!.receive(readScratch.span, now: now)
                    progressed = true
                case .endOfStream?:
                    carried = false
                    inputEnded = true
                case nil:
                    carried = false
                default:
                    break
                }
            }
            if processConnectionEvents(&slot, id: id, now: now) { progressed = true }
        }
        if !carried && !slot.isClosing {
            // The pipe ended: for the connection, its transport closed.
            if let failure = carrier.failure, slot.summary != nil { events.append(.natsPipeFailed(id, failure)) }
            slot.natsCarrier = carrier
            slot.connection!.transportClosed(now: now)
            processConnectionEvents(&slot, id: id, now: now)
        }
        var keep = true
        if slot.isClosing && !(carried && carrier.hasPendingOutbound) {
            // The last bytes went (or never will): the pipe is closed cleanly when it can
            // be, else reset, and the slot goes.
            keep = false
            if nats.pipes[pipe] == id {
                nats.pipes[pipe] = nil
                if carried || inputEnded, (try? nats.transport?.closeWrite(pipe, now: now)) != nil {
                    nats.discarding.insert(pipe)
                    drainDiscardedPipe(pipe, now: now)
                } else {
                    try? nats.transport?.reset(pipe, now: now)
                }
            }
        }
        if keep {
            // Not queued again: the pipe's events (`writable`, `readable`) bring it back.
            slot.natsCarrier = carrier
            slot.refreshDeadline()
            connections[id] = slot
        }
        if let socket = nats.socket { enqueueTransmit(socket) }
        processNATSEvents(now: now)
    }
}
