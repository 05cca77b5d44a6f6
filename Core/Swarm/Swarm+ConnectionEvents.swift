/// What the swarm does with each connection's events.
extension Swarm {
    /// Drains a connection's events and acts on them. The slot is out of `connections`
    /// while this runs. Returns whether there was any event.
    @discardableResult
    mutating func processConnectionEvents(_ slot: inout ConnectionSlot, id: ConnectionID, now: Instant) -> Bool {
        var handledAny = false
        while let event = slot.connection?.pollEvent() {
            handledAny = true
            switch event {
            case .established(let establishment):
                connectionEstablished(&slot, id: id, establishment, now: now)
            case .inboundStream(let stream, let name):
                inboundStream(&slot, id: id, stream: stream, protocol: name, now: now)
            case .streamNegotiated(let stream, let name):
                outboundStreamNegotiated(&slot, id: id, stream: stream, protocol: name, now: now)
            case .streamNegotiationFailed(let stream, let failure):
                outboundStreamFailed(&slot, id: id, stream: stream, failure: failure)
            case .streamReadable(let stream), .streamWritable(let stream), .streamRemoteClosed(let stream):
                streamProgressed(&slot, id: id, stream: stream, event: event, now: now)
            case .streamReset(let stream):
                streamEnded(&slot, id: id, stream: stream, reset: true, now: now)
            case .streamClosed(let stream):
                streamEnded(&slot, id: id, stream: stream, reset: false, now: now)
            case .roundTripTime(let time):
                events.append(.roundTripTime(id, time))
                if let peer = slot.peer {
                    peerStore.setRoundTripTime(time, for: peer, now: now)
                    metricsRoundTrip(peer, time, now: now)
                    if !slot.isRelayed { autoRelayRoundTrip(peer, time, now: now) }
                }
            case .remoteGoingAway:
                slot.remoteGoingAway = true
            case .closed(let reason):
                connectionClosed(&slot, id: id, reason: reason, now: now)
            }
        }
        return handledAny
    }

    private mutating func connectionEstablished(
        _ slot: inout ConnectionSlot, id: ConnectionID, _ establishment: ConnectionEstablishment, now: Instant
    ) {
        let peer = establishment.remotePeer
        let existing = connectionsByPeer[peer] ?? []
        // A circuit's or a pipe's peer was only named (by the relay, or by the pipe's OPEN):
        // the Noise handshake must have proven that very peer.
        let expectedThroughRelay = slot.circuit.map { $0.peer == peer } ?? true
        let expectedThroughNATS = slot.natsCarrier.map { $0.peer == peer } ?? true
        // An AutoNAT dial back only proves the peer is reachable; it is closed at once.
        guard !autoNATDialBackAuthenticated(id, peer: peer, now: now), peer != localPeer, expectedThroughRelay,
              expectedThroughNATS, existing.count < configuration.maximumConnectionsPerPeer, holePunchAccepts(id, peer: peer)
        else {
            slot.connection?.close(now: now)
            return
        }
        let summary = ConnectionSummary(
            id: id, peer: peer, direction: slot.direction, remoteAddress: slot.remoteAddress,
            localAddress: slot.localAddress, relay: slot.relayInfo, tier: slot.tier)
        slot.phase = .established(summary)
        connectionsByPeer[peer] = existing + [id]
        let connected = isConnectedPeer
        peerStore.setPublicKey(establishment.remotePublicKey, for: peer, now: now, keeping: connected)
        if slot.direction == .outbound, slot.natsCarrier == nil, let address = slot.dialedAddress {
            peerStore.addAddresses([address], for: peer, now: now, keeping: connected)
        }
        events.append(.connectionEstablished(summary))
        metricsConnectionEstablished(peer, tier: summary.tier, now: now)
        if slot.isRelayed && configuration.holePunch.isEnabled { holePunch.relayedSince[id] = now }
        holePunchConnectionEstablished(id, peer: peer, isDirect: slot.circuit == nil && slot.natsCarrier == nil, now: now)
        openBuiltinStream(&slot, id: id, purpose: .identify, now: now)
        if let dial = slot.dial { dialSucceeded(dial, connection: id, peer: peer, slot: &slot, now: now) }
        relayConnected(peer, slot: &slot, id: id, now: now)
    }

    private mutating func inboundStream(
        _ slot: inout ConnectionSlot, id: ConnectionID, stream: StreamID, protocol name: String, now: Instant
    ) {
        let machine: ProtocolStream.Machine?
        switch name {
        case StreamProtocolID.identify:
            machine = try? .identifyWriter(IdentifyResponder(
                info: localIdentifyInfo(), observedAddress: slot.observedAddress))
        case StreamProtocolID.identifyPush:
            machine = .identifyReader(
                IdentifyRequester(now: now, expectedPeer: slot.peer, timeout: configuration.protocolTimeout), isPush: true)
        case StreamProtocolID.ping:
            machine = try? .pingServer(PingServer())
        case StreamProtocolID.perf where configuration.servesPerf:
            machine = .perfServer(PerfServer(maximumDownloadBytes: configuration.maximumPerfDownloadBytes))
        case StreamProtocolID.echo where configuration.servesEcho:
            machine = try? .echoServer(EchoServer(maximumBufferedBytes: configuration.echoBufferBytes))
        case RelayProtocolID.hop where configuration.relay.enablesHop:
            machine = .relay(.hopServer(RelayHopServer(now: now, timeout: configuration.relay.timeouts.protocolRead)))
        case RelayProtocolID.stop where configuration.relay.enablesStop:
            machine = .relay(.stopServer(RelayStopServer(now: now, timeout: configuration.relay.timeouts.protocolRead)))
        case StreamProtocolID.dcutr:
            machine = holePunchResponderMachine(slot, id: id, now: now)
        case StreamProtocolID.autoNAT where configuration.autoNAT.servesDialBacks:
            machine = autoNATServerMachine(slot, now: now)
        default:
            machine = nil
        }
        if let machine {
            slot.streams[stream] = .protocolStream(ProtocolStream(machine))
            pumpProtocolStream(&slot, connectionID: id, streamID: stream, now: now)
        } else if applicationProtocols.contains(name), let peer = slot.peer {
            slot.streams[stream] = .application
            events.append(.inboundStream(SwarmStreamID(connection: id, stream: stream), protocol: name, peer: peer))
        } else {
            try? slot.connection?.reset(stream, now: now)
        }
    }

    private mutating func outboundStreamNegotiated(
        _ slot: inout ConnectionSlot, id: ConnectionID, stream: StreamID, protocol name: String, now: Instant
    ) {
        guard case .opening(let purpose)? = slot.streams[stream] else { return }
        let machine: ProtocolStream.Machine
        switch purpose {
        case .application(let request):
            slot.streams[stream] = .application
            if let pending = requests.removeValue(forKey: request) {
                metricsRequestEnded(peer: pending.peer ?? slot.peer, tier: slot.tier, succeeded: true, now: now)
            }
            events.append(.streamOpened(request, SwarmStreamID(connection: id, stream: stream), protocol: name))
            return
        case .identify:
            machine = .identifyReader(
                IdentifyRequester(now: now, expectedPeer: slot.peer, timeout: configuration.protocolTimeout), isPush: false)
        case .identifyPush:
            guard let writer = try? IdentifyResponder(info: localIdentifyInfo(), observedAddress: slot.observedAddress) else {
                try? slot.connection?.reset(stream, now: now)
                slot.streams.removeValueReleasingEmptyStorage(forKey: stream)
                return
            }
            machine = .identifyWriter(writer)
        case .ping(_, let count):
            guard var client = try? PingClient(timeout: configuration.protocolTimeout) else { return }
            try? client.ping(now: now, using: &generator)
            machine = .pingClient(client, remaining: max(count - 1, 0), times: [])
        case .perf(_, let upload, let download):
            machine = .perfClient(PerfClient(uploadBytes: upload, downloadBytes: download, now: now))
        case .echo(_, let count):
            machine = .echoClient(EchoClient(byteCount: count, now: now, timeout: nil, using: &generator))
        case .holePunch:
            guard let initiator = holePunchInitiatorMachine(peer: slot.peer, now: now) else {
                try? slot.connection?.reset(stream, now: now)
                slot.streams.removeValueReleasingEmptyStorage(forKey: stream)
                return
            }
            machine = initiator
        case .autoNAT:
            guard let client = autoNATClientMachine(peer: slot.peer, connection: id, now: now) else {
                try? slot.connection?.reset(stream, now: now)
                slot.streams.removeValueReleasingEmptyStorage(forKey: stream)
                return
            }
            machine = client
        case .reserve(let relayPeer):
            machine = .relay(.reservationClient(RelayReservationClient(
                relay: relayPeer, local: localPeer, now: now, unixTime: unixTime(at: now),
                configuration: configuration.relay.client, timeout: configuration.relay.timeouts.protocolRead)))
        case .relayConnect(let relayed, let target):
            machine = .relay(.connectClient(
                RelayConnectClient(target: target, now: now, timeout: configuration.relay.timeouts.protocolRead),
                relayed: relayed))
        case .stop(let circuit):
            guard let pending = relay.pendingCircuits[circuit] else {
                try? slot.connection?.reset(stream, now: now)
                slot.streams.removeValueReleasingEmptyStorage(forKey: stream)
                return
            }
            machine = .relay(.stopClient(
                RelayStopClient(source: pending.source, limit: pending.limit, now: now,
                                timeout: configuration.relay.timeouts.protocolRead),
                circuit: circuit))
        }
        slot.streams[stream] = .protocolStream(ProtocolStream(machine, request: purpose.request))
        pumpProtocolStream(&slot, connectionID: id, streamID: stream, now: now)
    }

    private mutating func outboundStreamFailed(
        _ slot: inout ConnectionSlot, id: ConnectionID, stream: StreamID, failure: ConnectionStreamFailure
    ) {
        let request: RequestID?
        let protocols: [String]
        switch slot.streams.removeValueReleasingEmptyStorage(forKey: stream) {
        case .opening(let purpose)?:
            relayStreamAbandoned(nil, purpose: purpose, now: latestInput)
            if case .holePunch = purpose { holePunchStreamAbandoned(peer: slot.peer, refused: true, now: latestInput) }
            if case .autoNAT = purpose { autoNATProbeEnded(connection: id, now: latestInput) }
            request = purpose.request
            protocols = purpose.request.flatMap { requests[$0]?.protocols } ?? purpose.protocols
        case .protocolStream(let protocolStream)?:
            // Optimistic negotiation: the machine started before the refusal came.
            guard !protocolStream.finished else { return }
            relayStreamAbandoned(protocolStream, purpose: nil, now: latestInput)
            if protocolStream.isHolePunch {
                let refused = if case .negotiation = failure { true } else { false }
                holePunchStreamAbandoned(peer: slot.peer, refused: refused, now: latestInput)
            }
            autoNATStreamEnded(protocolStream, connection: id, stream: stream, now: latestInput)
            request = protocolStream.request
            protocols = request.flatMap { requests[$0].map { $0.protocols.isEmpty ? $0.purpose.protocols : $0.protocols } } ?? []
        case .application?:
            // Optimistic negotiation handed the stream out before the peer refused it.
            events.append(.streamReset(SwarmStreamID(connection: id, stream: stream)))
            return
        case let other?:
            relayStreamEnded(other)
            return
        case nil:
            return
        }
        guard let request else { return }
        switch failure {
        case .negotiation(.protocolRefused), .negotiation(.noProtocolInCommon):
            completeRequest(request, .failed(.protocolNotSupported(protocols)))
        default:
            completeRequest(request, .failed(.negotiationFailed(failure)))
        }
    }

    private mutating func streamProgressed(
        _ slot: inout ConnectionSlot, id: ConnectionID, stream: StreamID, event: ConnectionEvent, now: Instant
    ) {
        switch slot.streams[stream] {
        case .protocolStream?:
            pumpProtocolStream(&slot, connectionID: id, streamID: stream, now: now)
        case .application?:
            let handle = SwarmStreamID(connection: id, stream: stream)
            switch event {
            case .streamReadable: events.append(.streamReadable(handle))
            case .streamWritable: events.append(.streamWritable(handle))
            case .streamRemoteClosed: events.append(.streamRemoteClosed(handle))
            default: break
            }
        case .circuitCarrier(let relayed)?:
            enqueueTransmit(relayed)
        case .splice(let circuit)?:
            relay.work.append(.pumpSplice(circuit))
        case .discarding?:
            drainDiscarded(&slot, stream: stream, now: now)
        case .opening?, nil:
            break
        }
    }

    private mutating func streamEnded(
        _ slot: inout ConnectionSlot, id: ConnectionID, stream: StreamID, reset: Bool, now: Instant
    ) {
        switch slot.streams.removeValueReleasingEmptyStorage(forKey: stream) {
        case .protocolStream(var protocolStream)?:
            if !reset && !protocolStream.endOfStreamDelivered {
                // The muxer finished the stream (both sides closed, nothing unread) before
                // the machine read its end: hand it the end now.
                protocolStream.receiveEndOfStream(now: now)
                let outcomes = protocolStream.drainOutcomes(now: now, using: &generator)
                _ = apply(outcomes, of: &protocolStream, slot: &slot, connectionID: id, streamID: stream, now: now)
            }
            if !protocolStream.finished, let request = protocolStream.request {
                completeRequest(request, .failed(reset ? .streamReset : .protocolFailed("stream closed early")))
            }
            relayStreamAbandoned(protocolStream, purpose: nil, now: now)
            if !protocolStream.finished && protocolStream.isHolePunch {
                holePunchStreamEnded(protocolStream, peer: slot.peer, reset: reset, now: now)
            }
            autoNATStreamEnded(protocolStream, connection: id, stream: stream, now: now)
        case .opening(let purpose)?:
            if let request = purpose.request { completeRequest(request, .failed(.streamReset)) }
            relayStreamAbandoned(nil, purpose: purpose, now: now)
            if case .holePunch = purpose { holePunchStreamAbandoned(peer: slot.peer, refused: false, now: now) }
            if case .autoNAT = purpose { autoNATProbeEnded(connection: id, now: now) }
        case .application?:
            let handle = SwarmStreamID(connection: id, stream: stream)
            events.append(reset ? .streamReset(handle) : .streamClosed(handle))
        case .splice(let circuit)? where !reset:
            spliceStreamFinished(circuit, connection: id, stream: stream)
            relayStreamEnded(.splice(circuit))
        case let other?:
            relayStreamEnded(other)
        case nil:
            break
        }
        if holePunch.retiring.contains(id), slot.streams.isEmpty, !slot.isClosing {
            // A direct connection replaced this relayed one, which has no stream left.
            holePunch.retiring.remove(id)
            slot.connection?.close(now: now)
        }
    }

    /// A relay stream ended: its relayed connection or circuit finds out when pumped.
    mutating func relayStreamEnded(_ slot: StreamSlot) {
        switch slot {
        case .circuitCarrier(let relayed): enqueueTransmit(relayed)
        case .splice(let circuit): relay.work.append(.pumpSplice(circuit))
        case .opening, .protocolStream, .application, .discarding: break
        }
    }

    private mutating func connectionClosed(
        _ slot: inout ConnectionSlot, id: ConnectionID, reason: ConnectionCloseReason, now: Instant
    ) {
        let wasEstablished = slot.summary
        slot.phase = .closing
        for (stream, streamSlot) in slot.streams {
            switch streamSlot {
            case .protocolStream(let protocolStream):
                if !protocolStream.finished, let request = protocolStream.request {
                    completeRequest(request, .failed(.streamReset))
                }
            case .opening(let purpose):
                if let request = purpose.request { completeRequest(request, .failed(.streamReset)) }
                relayStreamAbandoned(nil, purpose: purpose, now: now)
                if case .autoNAT = purpose { autoNATProbeEnded(connection: id, now: now) }
            case .application:
                events.append(.streamReset(SwarmStreamID(connection: id, stream: stream)))
            case .circuitCarrier, .splice, .discarding:
                relayStreamEnded(streamSlot)
            }
            if case .protocolStream(let protocolStream) = streamSlot {
                relayStreamAbandoned(protocolStream, purpose: nil, now: now)
                autoNATStreamEnded(protocolStream, connection: id, stream: stream, now: now)
            }
        }
        slot.streams.removeAll()
        relayConnectionClosed(id, now: now)
        if let summary = wasEstablished {
            var remaining = connectionsByPeer[summary.peer] ?? []
            remaining.removeAll { $0 == id }
            connectionsByPeer[summary.peer] = remaining.isEmpty ? nil : remaining
            if remaining.isEmpty, relay.resources?.removeReservation(of: summary.peer) == true {
                // A reservation is only good while its holder is connected to take STOP.
                events.append(.relayReservationExpired(summary.peer))
            }
            events.append(.connectionClosed(summary, reason))
            if slot.isRelayed { holePunchRelayedConnectionClosed(id, peer: summary.peer, now: now) }
        } else if holePunch.dialPeers[id] != nil {
            holePunchDialFailed(id, now: now)
        } else if reachability.dialBacks[id] != nil {
            autoNATDialBackFailed(id, reason: "\(reason)", now: now)
        } else if let dial = slot.dial, let address = slot.dialedAddress {
            relay.circuitsAwaitingRelay[slot.circuit?.relay ?? localPeer]?.removeAll { $0 == id }
            // A pipe that failed under the upgrade says more than the upgrade's end.
            let failure: DialAttemptFailureReason = slot.natsCarrier?.failure.map { .nats($0) } ?? .upgrade(reason)
            attemptFailed(dial, connection: id, failure: DialAttemptFailure(address: address, reason: failure), now: now)
        }
    }
}
