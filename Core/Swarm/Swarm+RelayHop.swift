/// The hop role: admitting reservations and circuits, asking the target with STOP, and
/// splicing the two streams of each circuit inside the core.
extension Swarm {
    /// The wall-clock time at `instant`, in UNIX seconds.
    func unixTime(at instant: Instant) -> UInt64 {
        let elapsed = instant - startedAt
        let seconds = elapsed.components.seconds
        return seconds > 0 ? configuration.unixTimeAtStart &+ UInt64(seconds) : configuration.unixTimeAtStart
    }

    /// A peer asked this relay for a reservation on the HOP stream `stream` (its machine).
    mutating func hopReservationRequested(_ stream: inout ProtocolStream, slot: ConnectionSlot, now: Instant) {
        guard let peer = slot.peer, var resources = relay.resources else {
            stream.withRelayMachine { $0.refuse(.permissionDenied, now: now) }
            return
        }
        let admission = resources.reserve(peer: peer, address: slot.remoteIP, relayed: slot.isRelayed, now: now)
        relay.resources = resources
        switch admission {
        case .success(let record):
            let addresses = listenAddresses.filter { !$0.isCircuit }
            guard let grant = try? RelayReservationGrant(
                relayKey: identityKey, peer: peer, expiration: unixTime(at: record.expiresAt), addresses: addresses,
                limit: configuration.relay.hop.limits.circuitLimit)
            else {
                relay.resources?.removeReservation(of: peer)
                stream.withRelayMachine { $0.refuse(.reservationRefused, now: now) }
                return
            }
            stream.withRelayMachine { $0.acceptReservation(grant, now: now) }
            relay.reservationsGranted &+= 1
            events.append(.relayReservationGranted(peer))
        case .failure(let refusal):
            stream.withRelayMachine { $0.refuse(refusal.status, now: now) }
            refused(peer, refusal)
        }
    }

    /// A peer asked this relay for a circuit to `target` on the HOP stream `streamID`.
    mutating func hopConnectRequested(
        _ stream: inout ProtocolStream, target: PeerID, slot: ConnectionSlot, connectionID: ConnectionID,
        streamID: StreamID, now: Instant
    ) {
        guard let source = slot.peer, var resources = relay.resources else {
            stream.withRelayMachine { $0.refuse(.permissionDenied, now: now) }
            return
        }
        let admission = resources.openCircuit(
            source: source, address: slot.remoteIP, relayed: slot.isRelayed, target: target, now: now)
        relay.resources = resources
        switch admission {
        case .failure(let refusal):
            stream.withRelayMachine { $0.refuse(refusal.status, now: now) }
            refused(source, refusal)
        case .success(let circuit):
            guard usableConnection(to: target, direct: true) != nil else {
                relay.resources?.releaseCircuit(circuit)
                stream.withRelayMachine { $0.refuse(RelayRefusal.targetNotConnected.status, now: now) }
                refused(source, .targetNotConnected)
                return
            }
            relay.pendingCircuits[circuit] = PendingCircuit(
                source: source, target: target, sourceConnection: connectionID, sourceStream: streamID,
                limit: configuration.relay.hop.limits.circuitLimit)
            relay.work.append(.openStop(circuit))
        }
    }

    /// Opens the STOP stream of an admitted circuit on its target's connection.
    mutating func openStop(_ circuit: RelayCircuitID, now: Instant) {
        guard let pending = relay.pendingCircuits[circuit] else { return }
        guard let connectionID = usableConnection(to: pending.target, direct: true),
              var slot = connections.removeValue(forKey: connectionID)
        else {
            relay.work.append(.answerConnect(circuit, .failure(.refused(.connectionFailed))))
            return
        }
        let stream = openBuiltinStream(&slot, id: connectionID, purpose: .stop(circuit), now: now)
        if let stream {
            relay.pendingCircuits[circuit]?.targetConnection = connectionID
            relay.pendingCircuits[circuit]?.targetStream = stream
        } else {
            relay.work.append(.answerConnect(circuit, .failure(.refused(.connectionFailed))))
        }
        settle(slot, id: connectionID)
    }

    /// The target answered the STOP of `circuit` (or it failed): the source's CONNECT is
    /// answered, and on success the circuit is spliced.
    mutating func answerConnect(_ circuit: RelayCircuitID, _ answer: Result<[UInt8], RelayCircuitFailure>, now: Instant) {
        guard let pending = relay.pendingCircuits.removeValue(forKey: circuit) else { return }
        guard case .protocolStream? = connections[pending.sourceConnection]?.streams[pending.sourceStream],
              var source = connections.removeValue(forKey: pending.sourceConnection),
              case .protocolStream(var stream)? = source.streams.removeValue(forKey: pending.sourceStream)
        else {
            // The source went away while the target was asked.
            closeTargetSide(of: pending, now: now)
            relay.resources?.releaseCircuit(circuit)
            circuitClosed(circuit, RelayCircuitEnd(reason: .reset, sourceToTargetBytes: 0, targetToSourceBytes: 0))
            return
        }
        switch answer {
        case .failure(let failure):
            stream.withRelayMachine { $0.refuse(.connectionFailed, now: now) }
            closeTargetSide(of: pending, now: now)
            relay.resources?.releaseCircuit(circuit)
            circuitClosed(
                circuit, RelayCircuitEnd(reason: .stopFailed(failure), sourceToTargetBytes: 0, targetToSourceBytes: 0))
        case .success(let targetLeftover):
            let established = stream.withRelayMachine { $0.acceptConnect(limit: pending.limit, now: now) } ?? nil
            if let established, let targetConnection = pending.targetConnection, let targetStream = pending.targetStream {
                let perCircuit = configuration.relay.hop.maximumBandwidthPerCircuit
                var splice = SpliceState(
                    source: pending.source, target: pending.target,
                    sourceConnection: pending.sourceConnection, sourceStream: pending.sourceStream,
                    targetConnection: targetConnection, targetStream: targetStream,
                    accounting: CircuitSplice(
                        limit: pending.limit, bandwidth: perCircuit > 0 ? perCircuit : nil, now: now))
                splice.toTarget.append(established.leftover)
                splice.toTarget.inputEnded = established.remoteClosed
                splice.toSource.append(targetLeftover)
                relay.splices[circuit] = splice
                stream.handoff = .splice(circuit)
                relay.circuitsOpened &+= 1
                events.append(.relayCircuitOpened(circuit, source: pending.source, target: pending.target))
                relay.work.append(.pumpSplice(circuit))
            } else {
                closeTargetSide(of: pending, now: now)
                relay.resources?.releaseCircuit(circuit)
            }
        }
        source.streams[pending.sourceStream] = .protocolStream(stream)
        pumpProtocolStream(&source, connectionID: pending.sourceConnection, streamID: pending.sourceStream, now: now)
        settle(source, id: pending.sourceConnection)
    }

    /// Counts and reports a refusal.
    private mutating func refused(_ peer: PeerID, _ refusal: RelayRefusal) {
        relay.refusals[refusal.label, default: 0] &+= 1
        events.append(.relayRequestRefused(peer: peer, refusal))
    }

    /// Counts and reports the end of a circuit.
    private mutating func circuitClosed(_ circuit: RelayCircuitID, _ end: RelayCircuitEnd) {
        relay.circuitsClosed[end.reason.label, default: 0] &+= 1
        events.append(.relayCircuitClosed(circuit, end))
    }

    /// Resets the STOP stream of a circuit that will not be spliced.
    private mutating func closeTargetSide(of pending: PendingCircuit, now: Instant) {
        guard let connectionID = pending.targetConnection, let streamID = pending.targetStream,
              var slot = connections.removeValue(forKey: connectionID)
        else { return }
        if slot.streams.removeValueReleasingEmptyStorage(forKey: streamID) != nil { try? slot.connection?.reset(streamID, now: now) }
        settle(slot, id: connectionID)
    }

    /// Copies what can go between the two streams of a circuit, within its limit and the
    /// relay's bandwidth, and ends the circuit when a side ended or the limit was reached.
    mutating func pumpSplice(_ id: RelayCircuitID, now: Instant) {
        guard var splice = relay.splices.removeValue(forKey: id) else { return }
        var source = connections.removeValue(forKey: splice.sourceConnection)
        var target = connections.removeValue(forKey: splice.targetConnection)
        // A side whose stream finished cleanly has nothing more to give or take; what it
        // sent last is still forwarded to the other side, which is then half-closed.
        let sourceHeld = splice.sourceFinished
            ? source?.connection != nil : source?.holds(splice: id, stream: splice.sourceStream) == true
        let targetHeld = splice.targetFinished
            ? target?.connection != nil : target?.holds(splice: id, stream: splice.targetStream) == true
        let held = sourceHeld && targetHeld
        var reason: RelayCircuitEnd.Reason?
        if held {
            splice.accounting.handleTimeout(now: now)
            splice.resumeAt = nil
            var failed = false
            var progressed = true
            while progressed && !failed && splice.accounting.closeReason == nil {
                progressed = false
                let forth = forward(
                    &splice.toTarget, &splice.accounting, .sourceToTarget,
                    from: &source!.connection!, splice.sourceStream, to: &target!.connection!, splice.targetStream,
                    resumeAt: &splice.resumeAt, now: now)
                let back = forward(
                    &splice.toSource, &splice.accounting, .targetToSource,
                    from: &target!.connection!, splice.targetStream, to: &source!.connection!, splice.sourceStream,
                    resumeAt: &splice.resumeAt, now: now)
                failed = forth == .failed || back == .failed
                progressed = forth == .progressed || back == .progressed
            }
            if let limit = splice.accounting.closeReason {
                reason = .limitReached(limit)
            } else if failed {
                reason = .reset
            } else if splice.toTarget.outputClosed && splice.toSource.outputClosed {
                reason = .closed
            }
        } else {
            reason = splice.toTarget.outputClosed && splice.toSource.outputClosed ? .closed : .reset
        }
        if let reason {
            let clean = reason == .closed
            releaseSpliceStream(&source, splice.sourceStream, of: id, reset: !clean, now: now)
            releaseSpliceStream(&target, splice.targetStream, of: id, reset: !clean, now: now)
            relay.resources?.releaseCircuit(id)
            circuitClosed(id, RelayCircuitEnd(
                reason: reason, sourceToTargetBytes: splice.accounting.sourceToTargetBytes,
                targetToSourceBytes: splice.accounting.targetToSourceBytes))
        } else {
            relay.splices[id] = splice
        }
        // Copied out and the original dropped at once, so mutating the copy copies nothing.
        if var slot = source {
            source = nil
            processConnectionEvents(&slot, id: splice.sourceConnection, now: now)
            settle(slot, id: splice.sourceConnection)
        }
        if var slot = target {
            target = nil
            processConnectionEvents(&slot, id: splice.targetConnection, now: now)
            settle(slot, id: splice.targetConnection)
        }
    }

    /// The muxer let go of one stream of `circuit` after a clean finish: both directions
    /// closed and everything read, so that side's input ended (its output already had).
    mutating func spliceStreamFinished(_ circuit: RelayCircuitID, connection: ConnectionID, stream: StreamID) {
        guard var splice = relay.splices[circuit] else { return }
        if connection == splice.sourceConnection && stream == splice.sourceStream {
            splice.sourceFinished = true
            splice.toTarget.inputEnded = true
        } else if connection == splice.targetConnection && stream == splice.targetStream {
            splice.targetFinished = true
            splice.toSource.inputEnded = true
        }
        relay.splices[circuit] = splice
    }

    /// Lets go of one stream of an ended circuit: reset, or (after a clean end) left to
    /// finish with nothing more read from it.
    private func releaseSpliceStream(
        _ slot: inout ConnectionSlot?, _ stream: StreamID, of circuit: RelayCircuitID, reset: Bool, now: Instant
    ) {
        guard slot != nil, case .splice(let held)? = slot!.streams[stream], held == circuit else { return }
        if reset {
            slot!.streams.removeValueReleasingEmptyStorage(forKey: stream)
            try? slot!.connection?.reset(stream, now: now)
        } else {
            slot!.streams[stream] = .discarding
        }
    }

    /// What one pass of forwarding in one direction did.
    enum SpliceStep { case progressed, blocked, failed }

    /// Moves bytes of one direction: writes what is buffered, then reads more (only when
    /// the buffer is empty, so a slow reader holds the writer back through the windows).
    private mutating func forward(
        _ buffer: inout SpliceBuffer, _ accounting: inout CircuitSplice, _ direction: CircuitDirection,
        from: inout Connection, _ fromStream: StreamID, to: inout Connection, _ toStream: StreamID,
        resumeAt: inout Instant?, now: Instant
    ) -> SpliceStep {
        var progressed = false
        while true {
            if !buffer.isEmpty {
                let written: Int
                do {
                    written = try buffer.bytes.withUnsafeBufferPointer { (bytes) throws(ConnectionUsageError) in
                        try to.write(toStream, bytes.span.extracting(buffer.offset...), now: now)
                    }
                } catch {
                    return .failed
                }
                buffer.offset += written
                if written > 0 { progressed = true }
                guard buffer.isEmpty else { break }
            }
            if buffer.inputEnded {
                if !buffer.outputClosed {
                    guard (try? to.closeWrite(toStream, now: now)) != nil else { return .failed }
                    buffer.outputClosed = true
                    progressed = true
                }
                break
            }
            let available = from.readableByteCount(fromStream)
            if available == 0 {
                // Idle in this direction: the buffer's storage goes (a circuit holds none
                // between bursts).
                buffer.bytes = []
                buffer.offset = 0
                switch try? from.read(fromStream, into: &buffer.bytes, maximum: 1, now: now) {
                case .endOfStream?:
                    buffer.inputEnded = true
                    progressed = true
                    continue
                case .bytes(let count)? where count > 0:
                    // Counted as it goes out (a byte the buffer count did not see).
                    accounting.record(count, direction: direction, now: now)
                    relay.bytesRelayed &+= UInt64(count)
                    progressed = true
                    continue
                case nil:
                    return .failed
                default:
                    break
                }
                break
            }
            var allowed = min(available, Self.spliceChunk)
            // Shaped, a circuit forwards a quantum at a time (less only when less waits or
            // is left of its data limit), so that neither a timer nor a frame is spent per
            // byte, and a small message the other way is not starved by crumbs of this one.
            // Both bandwidths are looked at first and taken for exactly what goes.
            let remaining = accounting.remainingData(direction).map { Int(clamping: $0) } ?? .max
            let hop = configuration.relay.hop
            // A bandwidth of 0 is no shaping.
            let burst = [hop.maximumBandwidthPerCircuit, hop.maximumBandwidthTotal].filter { $0 > 0 }.min() ?? .max
            let quantum = min(allowed, Self.shapingQuantum, remaining, burst)
            var bandwidth = accounting.availableBandwidth(now: now)
            if hop.maximumBandwidthTotal > 0, var resources = relay.resources {
                bandwidth = min(bandwidth, resources.availableBandwidth(now: now))
                relay.resources = resources
            }
            allowed = bandwidth >= quantum ? accounting.forwardable(min(allowed, bandwidth), direction: direction, now: now) : 0
            guard allowed > 0 else {
                resumeAt = resumeAt.earliest(bandwidthResumption(quantum, accounting: &accounting, now: now))
                break
            }
            if hop.maximumBandwidthTotal > 0 { _ = relay.resources?.takeBandwidth(allowed, now: now) }
            buffer.bytes.removeAll(keepingCapacity: true)
            buffer.offset = 0
            guard case .bytes(let count)? = try? from.read(fromStream, into: &buffer.bytes, maximum: allowed, now: now) else {
                return .failed
            }
            accounting.record(count, direction: direction, now: now)
            relay.bytesRelayed &+= UInt64(count)
            progressed = true
            if accounting.closeReason != nil && buffer.isEmpty { break }
        }
        return progressed ? .progressed : .blocked
    }

    /// When a circuit held back by bandwidth has `quantum` bytes of both its own and the
    /// relay's total bandwidth; `nil` when it never will (a zero bandwidth) or it closes.
    private mutating func bandwidthResumption(_ quantum: Int, accounting: inout CircuitSplice, now: Instant) -> Instant? {
        guard accounting.closeReason == nil else { return nil }
        var ready = now
        if configuration.relay.hop.maximumBandwidthTotal > 0, var resources = relay.resources {
            guard let relayReady = resources.bandwidthAvailable(quantum, now: now) else { return nil }
            relay.resources = resources
            ready = max(ready, relayReady)
        }
        // `nil` here means an unshaped circuit: only the relay's total held it back.
        if let circuitReady = accounting.bandwidthAvailable(quantum, now: now) { ready = max(ready, circuitReady) }
        // Both had the quantum yet nothing could go: never a timer at `now`, which would
        // fire again and again without time passing.
        return ready > now ? ready : nil
    }

    /// The most bytes a circuit reads in one step.
    static let spliceChunk = 64 * 1024

    /// The bytes a shaped circuit waits for before it forwards again (or the bandwidth's
    /// whole burst when that is smaller).
    static let shapingQuantum = 8 * 1024
}

extension ConnectionSlot {
    /// Whether `stream` is still the side of `circuit` on this open connection.
    func holds(splice circuit: RelayCircuitID, stream: StreamID) -> Bool {
        guard connection != nil, !isClosing, case .splice(let held)? = streams[stream] else { return false }
        return held == circuit
    }
}

/// A relay's figures at one moment, for metrics.
public struct RelayStatistics: Equatable, Sendable {
    /// Reservations held on this relay.
    public var reservations: Int
    /// Circuits being relayed.
    public var circuits: Int
    /// Bytes relayed in all, both directions, since the start.
    public var bytesRelayed: UInt64
    /// Connections (sockets and relayed), in every phase.
    public var connections: Int
    /// Established connections that go through a relay (this node as a client).
    public var relayedConnections: Int
    /// Reservations granted (refreshes included) since the start.
    public var reservationsGranted: UInt64
    /// Refused reservations and circuits since the start, by `RelayRefusal.label`.
    public var refusals: [String: UInt64]
    /// Circuits opened since the start.
    public var circuitsOpened: UInt64
    /// Circuits ended since the start, by how they ended (`RelayCircuitEnd.Reason.label`).
    public var circuitsClosed: [String: UInt64]
}

extension Swarm {
    /// The relay's figures now.
    public var relayStatistics: RelayStatistics {
        RelayStatistics(
            reservations: relay.resources?.reservationCount ?? 0, circuits: relay.splices.count,
            bytesRelayed: relay.bytesRelayed, connections: connections.count,
            relayedConnections: connections.values.count { $0.isRelayed && $0.summary != nil },
            reservationsGranted: relay.reservationsGranted, refusals: relay.refusals,
            circuitsOpened: relay.circuitsOpened, circuitsClosed: relay.circuitsClosed)
    }
}
