/// Running the built-in protocol machines on their streams.
extension Swarm {
    /// Opens an outbound stream for one of the swarm's own purposes on an established
    /// connection. A refusal completes the purpose's request with the reason. Returns the
    /// stream, or `nil` when the connection refused it.
    @discardableResult
    mutating func openBuiltinStream(
        _ slot: inout ConnectionSlot, id: ConnectionID, purpose: OutboundPurpose, now: Instant
    ) -> StreamID? {
        let protocols: [String]
        if case .application(let request) = purpose {
            protocols = requests[request]?.protocols ?? []
        } else {
            protocols = purpose.protocols
        }
        do throws(ConnectionUsageError) {
            guard var connection = slot.connection else { throw .closed }
            slot.connection = nil
            defer { slot.connection = connection }
            let stream = try connection.openStream(protocols: protocols, now: now)
            slot.streams[stream] = .opening(purpose)
            if let request = purpose.request, requests[request] != nil {
                requests[request]?.tier = slot.tier
                if requests[request]?.peer == nil { requests[request]?.peer = slot.peer }
            }
            return stream
        } catch {
            if let request = purpose.request { completeRequest(request, .failed(.streamRefused(error))) }
            return nil
        }
    }

    /// Moves bytes between a protocol stream and its machine until neither can go further:
    /// reads as much as the machine takes, writes what it produced as far as the stream's
    /// window allows, half-closes when the machine is done, and acts on its outcomes.
    mutating func pumpProtocolStream(_ slot: inout ConnectionSlot, connectionID: ConnectionID, streamID: StreamID, now: Instant) {
        guard case .protocolStream(var stream)? = slot.streams.removeValue(forKey: streamID),
              var connection = slot.connection
        else { return }
        slot.connection = nil
        var reset = false
        var progressed = true
        while progressed && !reset && stream.handoff == nil {
            progressed = false
            // Input, as far as the machine takes it.
            while !stream.endOfStreamDelivered {
                let capacity = stream.receiveCapacity
                guard capacity > 0 else { break }
                readScratch.removeAll(keepingCapacity: true)
                let result = try? connection.read(streamID, into: &readScratch, maximum: min(capacity, 64 * 1024), now: now)
                switch result {
                case .bytes(let count)?:
                    guard count > 0 else { break }
                    stream.receive(readScratch.span, now: now)
                    progressed = true
                    continue
                case .endOfStream?:
                    stream.receiveEndOfStream(now: now)
                    progressed = true
                case .wouldBlock?, nil:
                    break
                }
                break
            }
            // Output, as far as the stream's window takes it.
            while !stream.writeClosed {
                stream.refillPendingOutput()
                guard stream.hasPendingOutput else { break }
                let written: Int
                do {
                    written = try stream.pendingOutput.withUnsafeBufferPointer { (buffer) throws(ConnectionUsageError) in
                        try connection.write(streamID, buffer.span.extracting(stream.pendingOffset...), now: now)
                    }
                } catch .streamNotNegotiated {
                    // The proposal is still waiting for window; `streamWritable` follows.
                    break
                } catch {
                    if !stream.finished, let request = stream.request {
                        completeRequest(request, .failed(.streamRefused(error)))
                    }
                    stream.finished = true
                    reset = true
                    break
                }
                guard written > 0 else { break }
                stream.pendingOffset += written
                progressed = true
            }
            if !reset, !stream.writeClosed, !stream.hasPendingOutput, stream.wantsToCloseWrite {
                try? connection.closeWrite(streamID, now: now)
                stream.writeClosed = true
                progressed = true
            }
            let outcomes = stream.drainOutcomes(now: now, using: &generator)
            if !outcomes.isEmpty { progressed = true }
            if apply(outcomes, of: &stream, slot: &slot, connectionID: connectionID, streamID: streamID, now: now) {
                reset = true
            }
        }
        if reset {
            try? connection.reset(streamID, now: now)
            if slot.streams.isEmpty { slot.streams = [:] }
        } else if let handoff = stream.handoff {
            // The machine's last bytes (a STATUS OK) go out before the circuit's.
            var remaining = Array(stream.pendingOutput[stream.pendingOffset...])
            stream.pendingOutput.removeAll()
            stream.pendingOffset = 0
            stream.refillPendingOutput()
            remaining += stream.pendingOutput
            switch handoff {
            case .circuitCarrier(let relayed):
                slot.streams[streamID] = .circuitCarrier(relayed)
                if !remaining.isEmpty, var circuit = connections[relayed]?.circuit {
                    circuit.outbound = remaining + circuit.outbound[circuit.outboundOffset...]
                    circuit.outboundOffset = 0
                    connections[relayed]?.circuit = circuit
                }
                enqueueTransmit(relayed)
            case .splice(let circuit):
                slot.streams[streamID] = .splice(circuit)
                if !remaining.isEmpty, var splice = relay.splices[circuit] {
                    // Only the HOP stream has a status left to send: it goes to the source.
                    splice.toSource.bytes = remaining + splice.toSource.bytes[splice.toSource.offset...]
                    splice.toSource.offset = 0
                    relay.splices[circuit] = splice
                }
                relay.work.append(.pumpSplice(circuit))
            }
        } else {
            slot.streams[streamID] = .protocolStream(stream)
        }
        slot.connection = connection
    }

    /// Acts on a protocol stream's outcomes; returns whether the stream must be reset.
    mutating func apply(
        _ outcomes: [ProtocolStream.Outcome], of stream: inout ProtocolStream, slot: inout ConnectionSlot,
        connectionID: ConnectionID, streamID: StreamID, now: Instant
    ) -> Bool {
        let peer = slot.peer
        var reset = false
        for outcome in outcomes {
            switch outcome {
            case .identified(var info, let isPush):
                stream.finished = true
                // Over a relay the peer sees the circuit, not where this node is reachable.
                if slot.isRelayed { info.observedAddress = nil }
                if let peer { identified(peer, info: info, isPush: isPush, now: now) }
                if !isPush, let peer { identifiedForReachability(slot, peer: peer, info: info, now: now) }
                if !isPush { considerHolePunch(slot, id: connectionID, info: info, now: now) }
            case .pingRoundTrip(let time):
                if let request = stream.request { events.append(.pingRoundTrip(request, time)) }
                if let peer {
                    peerStore.setRoundTripTime(time, for: peer, now: now)
                    metricsRoundTrip(peer, time, now: now)
                }
            case .completed(let outcome):
                stream.finished = true
                if let request = stream.request { completeRequest(request, outcome) }
            case .failed(let reason):
                if !stream.finished, let request = stream.request {
                    completeRequest(request, .failed(.protocolFailed(reason)))
                }
                stream.finished = true
                reset = true
            case .holePunch(let event):
                stream.finished = true
                if case .failed = event { reset = true }
                applyHolePunch(event, peer: peer, now: now)
            case .autoNATServer(let event):
                if applyAutoNATServer(event, of: &stream, slot: slot, connectionID: connectionID, streamID: streamID, now: now) {
                    reset = true
                }
            case .autoNATClient(let event):
                stream.finished = true
                if case .failed = event { reset = true }
                applyAutoNATClient(event, peer: peer, connection: connectionID, now: now)
            case .relay(let relayOutcome):
                if applyRelay(relayOutcome, of: &stream, slot: &slot, connectionID: connectionID, streamID: streamID, now: now) {
                    reset = true
                }
            }
        }
        return reset
    }
}
