import TraverseCore

/// Turning the swarm's events into resumed continuations and `NodeEvent`s.
extension NodeRuntime {
    func dispatch(_ event: SwarmEvent) {
        switch event {
        case .listening(let id, let addresses):
            listenWaiters.removeValue(forKey: id)?.resume(returning: addresses)
            eventContinuation.yield(.listening(addresses))
        case .listenFailed(let id, let address, let failure):
            listenWaiters.removeValue(forKey: id)?.resume(throwing: NodeError.listenFailed(address, failure))
        case .connectionEstablished(let summary):
            eventContinuation.yield(.connectionEstablished(summary))
        case .connectionClosed(let summary, let reason):
            if swarm.connections(to: summary.peer).isEmpty { identified[summary.peer] = nil }
            eventContinuation.yield(.connectionClosed(summary, reason))
        case .dialSucceeded(let id, let peer, let connection):
            guard let waiter = dialWaiters.removeValue(forKey: id) else { return }
            if let summary = swarm.connections(to: peer).first(where: { $0.id == connection }) {
                waiter.resume(returning: summary)
            } else {
                waiter.resume(throwing: NodeError.requestFailed(.unknownConnection(connection)))
            }
        case .dialFailed(let id, let failure):
            dialWaiters.removeValue(forKey: id)?.resume(throwing: NodeError.dialFailed(failure))
        case .peerIdentified(let peer, let info):
            if !swarm.connections(to: peer).isEmpty { identified[peer] = info }
            for waiter in identifyWaiters.removeValue(forKey: peer) ?? [] { waiter.resume(returning: info) }
            eventContinuation.yield(.peerIdentified(peer, info))
        case .addressObserved(let address, let peer):
            eventContinuation.yield(.addressObserved(address, by: peer))
        case .roundTripTime:
            break
        case .inboundStream(let stream, let name, let peer):
            streams[stream] = StreamState()
            guard let handler = streamHandlers[name] else {
                try? swarm.reset(stream, now: now)
                streams[stream] = nil
                return
            }
            let nodeStream = NodeStream(runtime: self, id: stream, protocol: name, peer: peer)
            Task { await handler(nodeStream) }
        case .streamOpened(let request, let stream, let name):
            streams[stream] = StreamState()
            let peer = swarm.establishedConnections.first { $0.id == stream.connection }?.peer
            guard let waiter = streamRequestWaiters.removeValue(forKey: request), let peer else {
                try? swarm.reset(stream, now: now)
                streams[stream] = nil
                return
            }
            waiter.resume(returning: NodeStream(runtime: self, id: stream, protocol: name, peer: peer))
        case .streamReadable(let stream), .streamRemoteClosed(let stream):
            serviceRead(stream)
        case .streamWritable(let stream):
            serviceWrite(stream)
        case .streamReset(let stream):
            guard var state = streams[stream] else { return }
            if state.reader == nil && state.writer == nil {
                // Kept until the application's next call (or the stream's release) sees it.
                state.wasReset = true
                streams[stream] = state
                return
            }
            streams[stream] = nil
            state.reader?.resume(throwing: NodeError.streamReset)
            state.writer?.continuation.resume(throwing: NodeError.streamReset)
        case .streamClosed(let stream):
            guard let state = streams.removeValue(forKey: stream) else { return }
            state.reader?.resume(returning: nil)
            state.writer?.continuation.resume(throwing: NodeError.streamClosed)
        case .reservationAccepted(let relay, let info, let addresses):
            eventContinuation.yield(.reservationAccepted(
                relay: relay, addresses: addresses, expiration: info.expiration, limit: info.limit))
        case .reservationFailed(let relay, let failure, let retryAt):
            eventContinuation.yield(.reservationFailed(relay: relay, failure, willRetry: retryAt != nil))
        case .circuitLimitReached(let connection, let reason):
            eventContinuation.yield(.circuitLimitReached(connection, reason))
        case .relayReservationGranted(let peer):
            eventContinuation.yield(.relayReservationGranted(peer))
        case .relayReservationExpired(let peer):
            eventContinuation.yield(.relayReservationExpired(peer))
        case .relayRequestRefused(let peer, let refusal):
            eventContinuation.yield(.relayRequestRefused(peer: peer, refusal))
        case .relayCircuitOpened(let id, let source, let target):
            eventContinuation.yield(.relayCircuitOpened(id, source: source, target: target))
        case .relayCircuitClosed(let id, let end):
            eventContinuation.yield(.relayCircuitClosed(id, end))
        case .holePunchSucceeded(let peer, let direct, _, let attempt, let time):
            eventContinuation.yield(.holePunchSucceeded(peer: peer, direct: direct, attempt: attempt, timeToDirect: time))
        case .holePunchFailed(let peer, let failure):
            eventContinuation.yield(.holePunchFailed(peer: peer, failure))
        case .autoNATResult(let peer, let result):
            eventContinuation.yield(.autoNATResult(peer: peer, result))
        case .reachabilityChanged(let status):
            eventContinuation.yield(.reachabilityChanged(status))
        case .natsConnected(let info):
            eventContinuation.yield(.natsConnected(info))
        case .natsDisconnected(let reason):
            eventContinuation.yield(.natsDisconnected(reason))
        case .natsPipeFailed(let connection, let error):
            eventContinuation.yield(.natsPipeFailed(connection, error))
        case .pingRoundTrip(let request, let time):
            outcomeWaiters[request]?.onRoundTrip?(time)
        case .requestCompleted(let request, let outcome):
            if let waiter = streamRequestWaiters.removeValue(forKey: request) {
                if case .failed(let failure) = outcome {
                    waiter.resume(throwing: NodeError.requestFailed(failure))
                } else {
                    waiter.resume(throwing: NodeError.requestFailed(.protocolFailed("unexpected outcome")))
                }
            } else if let waiter = outcomeWaiters.removeValue(forKey: request) {
                if case .failed(let failure) = outcome {
                    waiter.continuation.resume(throwing: NodeError.requestFailed(failure))
                } else {
                    waiter.continuation.resume(returning: outcome)
                }
            }
        }
    }

    // MARK: - Application streams

    /// Reads for a waiting reader, if there is one and data (or the end) is there.
    func serviceRead(_ stream: SwarmStreamID) {
        guard var state = streams[stream], let reader = state.reader else { return }
        var bytes: [UInt8] = []
        let result: YamuxReadResult
        do throws(SwarmUsageError) {
            result = try swarm.read(stream, into: &bytes, maximum: state.readMaximum, now: now)
        } catch .unknownStream {
            // The muxer finished the stream; its `streamClosed` or `streamReset` follows.
            return
        } catch {
            state.reader = nil
            streams[stream] = state
            reader.resume(throwing: NodeError.usage(error))
            return
        }
        switch result {
        case .bytes:
            state.reader = nil
            streams[stream] = state
            reader.resume(returning: bytes)
        case .endOfStream:
            state.reader = nil
            state.ended = true
            streams[stream] = state
            reader.resume(returning: nil)
        case .wouldBlock:
            break
        }
    }

    /// Writes for a waiting writer as far as the stream takes it.
    func serviceWrite(_ stream: SwarmStreamID) {
        guard var state = streams[stream], var writer = state.writer else { return }
        while writer.offset < writer.bytes.count {
            let written: Int
            do throws(SwarmUsageError) {
                written = try writer.bytes.withUnsafeBufferPointer { (buffer) throws(SwarmUsageError) in
                    try swarm.write(stream, buffer.span.extracting(writer.offset...), now: now)
                }
            } catch {
                state.writer = nil
                streams[stream] = state
                writer.continuation.resume(throwing: NodeError.usage(error))
                return
            }
            guard written > 0 else { break }
            writer.offset += written
        }
        if writer.offset == writer.bytes.count {
            state.writer = nil
            streams[stream] = state
            writer.continuation.resume()
        } else {
            state.writer = writer
            streams[stream] = state
        }
    }
}
