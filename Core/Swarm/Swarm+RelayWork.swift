import DequeModule

/// Work that spans two connections, the byte pump of relayed connections, and what the
/// relay machines' outcomes make the swarm do.
extension Swarm {
    /// Runs the queued cross-connection work (from `pollTransmit`, when no connection is
    /// out of the table).
    mutating func runRelayWork() {
        let now = latestInput
        while let work = relay.work.popFirst() {
            switch work {
            case .openStop(let circuit): openStop(circuit, now: now)
            case .answerConnect(let circuit, let answer): answerConnect(circuit, answer, now: now)
            case .pumpSplice(let circuit): pumpSplice(circuit, now: now)
            case .connectThroughRelay(let id): connectThroughRelay(id, now: now)
            case .requestReservation(let peer): requestReservation(peer, now: now)
            case .resetCarrier(let connectionID, let stream):
                guard var slot = connections.removeValue(forKey: connectionID) else { continue }
                if slot.streams.removeValueReleasingEmptyStorage(forKey: stream) != nil { try? slot.connection?.reset(stream, now: now) }
                settle(slot, id: connectionID)
            case .listenAddressesChanged:
                listenAddressesChanged(now: now)
            case .startHolePunch(let peer):
                runHolePunchAttempt(peer, now: now)
            case .maintainReservations:
                maintainReservations(now: now)
            }
        }
    }

    // MARK: Relayed connections' bytes

    /// Moves a relayed connection's bytes to and from its carrier stream: its output as far
    /// as the stream's window takes it, then (only once all output went) what the relay
    /// sent. When the stream ends the connection's transport is closed; when the connection
    /// closes, the stream is half-closed after its last bytes.
    mutating func pumpCircuit(_ id: ConnectionID) {
        let now = latestInput
        guard var slot = connections.removeValue(forKey: id) else { return }
        guard let carrierID = slot.circuit?.carrier, let streamID = slot.circuit?.stream, slot.connection != nil else {
            connections[id] = slot
            return
        }
        var carrier = connections.removeValue(forKey: carrierID)
        var carried = false
        // The relay's side ended its writes: ours can still be closed cleanly.
        var carrierInputEnded = false
        if let held = carrier, held.connection != nil, !held.isClosing, case .circuitCarrier(let owner)? = held.streams[streamID] {
            carried = owner == id
        }
        var progressed = carried
        while progressed && carried {
            progressed = false
            if !slot.circuit!.hasPendingOutbound {
                // The buffer's storage is kept while the circuit is busy (it is the
                // relayed connection's socket buffer); a pump that found nothing lets it go.
                var outbound: [UInt8] = []
                swap(&outbound, &slot.circuit!.outbound)
                outbound.removeAll(keepingCapacity: true)
                while slot.connection!.pollTransmit(into: &outbound) > 0, outbound.count < Self.transmitChunkLimit {}
                if outbound.isEmpty { outbound = [] }
                swap(&outbound, &slot.circuit!.outbound)
                slot.circuit!.outboundOffset = 0
            }
            if slot.circuit!.hasPendingOutbound {
                let offset = slot.circuit!.outboundOffset
                let written: Int
                do {
                    written = try slot.circuit!.outbound.withUnsafeBufferPointer { (bytes) throws(ConnectionUsageError) in
                        try carrier!.connection!.write(streamID, bytes.span.extracting(offset...), now: now)
                    }
                } catch {
                    carried = false
                    break
                }
                slot.circuit!.outboundOffset += written
                slot.circuit!.bytesSent &+= UInt64(written)
                if written > 0 { progressed = true }
            }
            if !slot.circuit!.hasPendingOutbound && !slot.isClosing {
                readScratch.removeAll(keepingCapacity: true)
                switch try? carrier!.connection!.read(streamID, into: &readScratch, maximum: 64 * 1024, now: now) {
                case .bytes(let count)? where count > 0:
                    slot.circuit!.bytesReceived &+= UInt64(count)
                    slot.connection!.receive(readScratch.span, now: now)
                    progressed = true
                case .endOfStream?:
                    carried = false
                    carrierInputEnded = true
                case nil:
                    carried = false
                default:
                    break
                }
            }
            if processConnectionEvents(&slot, id: id, now: now) { progressed = true }
        }
        var keep = true
        if !carried && !slot.isClosing {
            // The relay's stream ended: for the relayed connection, its transport closed.
            if let reason = slot.circuit!.limitReached(now: now), slot.summary != nil {
                events.append(.circuitLimitReached(id, reason))
            }
            slot.connection!.transportClosed(now: now)
            processConnectionEvents(&slot, id: id, now: now)
        }
        if slot.isClosing {
            if carried && slot.circuit!.hasPendingOutbound {
                // The last bytes wait for window; `streamWritable` brings the pump back.
            } else {
                keep = false
                if carrier != nil, case .circuitCarrier(let owner)? = carrier!.streams[streamID], owner == id {
                    if carried || carrierInputEnded, (try? carrier!.connection!.closeWrite(streamID, now: now)) != nil {
                        carrier!.streams[streamID] = .discarding
                        drainDiscarded(&carrier!, stream: streamID, now: now)
                    } else {
                        carrier!.streams.removeValueReleasingEmptyStorage(forKey: streamID)
                        try? carrier!.connection?.reset(streamID, now: now)
                    }
                }
            }
        }
        if keep {
            // Not queued again: the carrier's events (`streamWritable`, `streamReadable`)
            // and the connection's own inputs bring the pump back.
            slot.refreshDeadline()
            connections[id] = slot
        }
        if var held = carrier {
            carrier = nil
            processConnectionEvents(&held, id: carrierID, now: now)
            settle(held, id: carrierID)
        }
    }

    /// Reads and drops what arrived on a stream nobody uses any more.
    mutating func drainDiscarded(_ slot: inout ConnectionSlot, stream: StreamID, now: Instant) {
        while true {
            readScratch.removeAll(keepingCapacity: true)
            guard case .bytes(let count)? = try? slot.connection?.read(stream, into: &readScratch, maximum: 64 * 1024, now: now),
                  count > 0
            else { return }
        }
    }

    // MARK: Relay machines' outcomes

    /// Acts on a relay machine's outcome on stream `streamID` of `slot` (out of the table,
    /// its connection taken out by the pump). Returns whether the stream must be reset.
    mutating func applyRelay(
        _ outcome: RelayStreamMachine.Outcome, of stream: inout ProtocolStream, slot: inout ConnectionSlot,
        connectionID: ConnectionID, streamID: StreamID, now: Instant
    ) -> Bool {
        switch outcome {
        case .reservationRequested:
            hopReservationRequested(&stream, slot: slot, now: now)
        case .connectRequested(let target):
            hopConnectRequested(&stream, target: target.id, slot: slot, connectionID: connectionID, streamID: streamID, now: now)
        case .stopConnectRequested(let source, let limit):
            stopConnectRequested(
                &stream, source: source, limit: limit, slot: slot, connectionID: connectionID, streamID: streamID, now: now)
        case .hopCircuitEstablished, .stopCircuitEstablished:
            // Taken by `answerConnect` and `stopConnectRequested` when they accept.
            break
        case .stopAnswered(let circuit, let answer):
            stream.finished = true
            switch answer {
            case .success(let leftover):
                relay.pendingCircuits[circuit]?.targetLeftover = leftover
                if relay.pendingCircuits[circuit] != nil { stream.handoff = .splice(circuit) }
                relay.work.append(.answerConnect(circuit, .success(leftover)))
                return relay.pendingCircuits[circuit] == nil
            case .failure(let failure):
                relay.work.append(.answerConnect(circuit, .failure(failure)))
                return true
            }
        case .reserved(let info):
            stream.finished = true
            reservationGranted(info, connectionID: connectionID, now: now)
        case .reservationFailed(let error):
            stream.finished = true
            if let relayPeer = slot.peer {
                switch error {
                case .stream: reservationFailed(relayPeer, .streamFailed(.protocolFailed("\(error)")), now: now)
                default: reservationFailed(relayPeer, .refused(error), now: now)
                }
            }
            return true
        case .connectAnswered(let relayed, let answer):
            stream.finished = true
            if connectAnswered(relayed, answer, now: now) {
                stream.handoff = .circuitCarrier(relayed)
                return false
            }
            return true
        case .answered:
            stream.finished = true
        }
        return false
    }

    /// A relay stream (or one being opened for a relay purpose) ended before its work was
    /// done: whatever waited on it fails.
    mutating func relayStreamAbandoned(_ stream: ProtocolStream?, purpose: OutboundPurpose?, now: Instant) {
        if let purpose {
            switch purpose {
            case .reserve(let relayPeer):
                reservationFailed(relayPeer, .streamFailed(.streamReset), now: now)
            case .relayConnect(let relayed, _):
                circuitAttemptFailed(relayed, .relay(.stream(.endOfStream(bufferedBytes: 0))), now: now)
            case .stop(let circuit):
                relay.work.append(.answerConnect(circuit, .failure(.stream(.endOfStream(bufferedBytes: 0)))))
            default:
                break
            }
        }
        guard let stream, !stream.finished, case .relay(let machine) = stream.machine else { return }
        switch machine {
        case .reservationClient(let client):
            reservationFailed(client.relay, .streamFailed(.streamReset), now: now)
        case .connectClient(_, let relayed):
            circuitAttemptFailed(relayed, .relay(.stream(.endOfStream(bufferedBytes: 0))), now: now)
        case .stopClient(_, let circuit):
            relay.work.append(.answerConnect(circuit, .failure(.stream(.endOfStream(bufferedBytes: 0)))))
        case .hopServer, .stopServer, .moved:
            break
        }
    }
}

/// The relay's timers: reservation expiry (hop), circuit limits and shaping, reservation
/// refreshes and retries (client).
extension Swarm {
    /// The earliest relay deadline.
    var relayDeadline: Instant? {
        var earliest = relay.resources?.nextDeadline
        for state in relay.reservations.values { earliest = earliest.earliest(state.deadline) }
        for splice in relay.splices.values {
            earliest = earliest.earliest(splice.accounting.nextDeadline)
            earliest = earliest.earliest(splice.resumeAt)
        }
        return earliest
    }

    /// Runs the relay's due timers.
    mutating func handleRelayTimeouts(now: Instant) {
        if var resources = relay.resources, let deadline = resources.nextDeadline, deadline <= now {
            resources.handleTimeout(now: now)
            while let event = resources.pollEvent() {
                if case .reservationExpired(let peer) = event { events.append(.relayReservationExpired(peer)) }
            }
            relay.resources = resources
        }
        for (id, splice) in relay.splices.sorted(by: { $0.key < $1.key }) {
            let limitDue = splice.accounting.nextDeadline.map { $0 <= now } ?? false
            let shapingDue = splice.resumeAt.map { $0 <= now } ?? false
            if limitDue || shapingDue { relay.work.append(.pumpSplice(id)) }
        }
        handleReservationTimeouts(now: now)
    }
}
