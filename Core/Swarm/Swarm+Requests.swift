/// The application's requests: streams, ping, perf, echo; its streams; closing.
extension Swarm {
    /// Opens a stream to `peer` for the first protocol of `protocols` it supports, dialing
    /// it from the peer store if there is no connection. The outcome is `streamOpened` or
    /// `requestCompleted(…, .failed)` with the returned identifier.
    public mutating func openStream(to peer: PeerID, protocols: [String], now: Instant) -> RequestID {
        startRequest(peer: peer, connection: nil, purpose: .application, protocols: protocols, now: now)
    }

    /// Opens a stream on one connection.
    public mutating func openStream(on connection: ConnectionID, protocols: [String], now: Instant) -> RequestID {
        startRequest(peer: nil, connection: connection, purpose: .application, protocols: protocols, now: now)
    }

    /// Pings `peer` `count` times on one `/ipfs/ping/1.0.0` stream: a `pingRoundTrip`
    /// event per ping, then `requestCompleted` with every time (or the failure).
    public mutating func ping(_ peer: PeerID, count: Int = 1, now: Instant) -> RequestID {
        startRequest(peer: peer, connection: nil, purpose: .ping(count: max(count, 1)), protocols: [], now: now)
    }

    /// Runs `/perf/1.0.0` against `peer`: uploads `uploadBytes`, downloads `downloadBytes`.
    public mutating func perf(_ peer: PeerID, uploadBytes: UInt64, downloadBytes: UInt64, now: Instant) -> RequestID {
        startRequest(
            peer: peer, connection: nil, purpose: .perf(uploadBytes: uploadBytes, downloadBytes: downloadBytes),
            protocols: [], now: now)
    }

    /// Sends `byteCount` random bytes over `/traverse/echo/1.0.0` and checks they come back.
    public mutating func echo(_ peer: PeerID, byteCount: UInt64, now: Instant) -> RequestID {
        startRequest(peer: peer, connection: nil, purpose: .echo(byteCount: byteCount), protocols: [], now: now)
    }

    /// What a request is for, before it has an identifier.
    enum RequestKind {
        case application
        case ping(count: Int)
        case perf(uploadBytes: UInt64, downloadBytes: UInt64)
        case echo(byteCount: UInt64)

        func purpose(_ id: RequestID) -> OutboundPurpose {
            switch self {
            case .application: .application(id)
            case .ping(let count): .ping(id, count: count)
            case .perf(let up, let down): .perf(id, uploadBytes: up, downloadBytes: down)
            case .echo(let count): .echo(id, byteCount: count)
            }
        }
    }

    private mutating func startRequest(
        peer: PeerID?, connection: ConnectionID?, purpose kind: RequestKind, protocols: [String], now: Instant
    ) -> RequestID {
        latestInput = max(latestInput, now)
        let id = RequestID(rawValue: makeIdentifier())
        let purpose = kind.purpose(id)
        requests[id] = PendingRequest(
            purpose: purpose, protocols: protocols, peer: peer ?? connection.flatMap { connections[$0]?.peer })
        guard !isShutDown else {
            completeRequest(id, .failed(.shutdown))
            return id
        }
        guard requests.count <= configuration.maximumPendingRequests else {
            completeRequest(id, .failed(.tooManyRequests))
            return id
        }
        let target: ConnectionID
        if let connection {
            guard connections[connection]?.summary != nil else {
                completeRequest(id, .failed(.unknownConnection(connection)))
                return id
            }
            target = connection
        } else if let peer, let existing = usableConnection(to: peer) {
            target = existing
        } else if let peer {
            if let shared = dialsByPeer[peer], dials[shared] != nil {
                dials[shared]?.waitingRequests.append(id)
                return id
            }
            let addresses = dialableAddresses(of: peer)
            guard peer != localPeer, !addresses.isEmpty || configuration.nats != nil, dials.count < configuration.maximumPendingDials else {
                completeRequest(id, .failed(.notConnected(peer)))
                return id
            }
            let dial = DialID(rawValue: makeIdentifier())
            startDial(dial, expectedPeer: peer, addresses: addresses, waitingDials: [], now: now)
            dials[dial]?.waitingRequests.append(id)
            return id
        } else {
            completeRequest(id, .failed(.shutdown))
            return id
        }
        guard var slot = connections.removeValue(forKey: target) else { return id }
        openBuiltinStream(&slot, id: target, purpose: purpose, now: now)
        settle(slot, id: target)
        return id
    }

    /// Ends a request with an event. Streams opened for the application end their request
    /// with `streamOpened` instead.
    mutating func completeRequest(_ id: RequestID, _ outcome: RequestOutcome) {
        guard let pending = requests.removeValue(forKey: id) else { return }
        let succeeded = if case .failed = outcome { false } else { true }
        metricsRequestEnded(peer: pending.peer, tier: pending.tier, succeeded: succeeded, now: latestInput)
        events.append(.requestCompleted(id, outcome))
    }

    // MARK: - Application streams

    /// Moves up to `maximum` received bytes of an application stream to the end of
    /// `destination`. `.wouldBlock` is followed by `streamReadable`.
    public mutating func read(
        _ stream: SwarmStreamID, into destination: inout [UInt8], maximum: Int = .max, now: Instant
    ) throws(SwarmUsageError) -> YamuxReadResult {
        try withApplicationStream(stream, now: now) { (connection: inout Connection) throws(ConnectionUsageError) in
            try connection.read(stream.stream, into: &destination, maximum: maximum, now: now)
        }
    }

    /// Writes to an application stream; returns how many bytes were taken (a short write is
    /// followed by `streamWritable`).
    public mutating func write(_ stream: SwarmStreamID, _ bytes: Span<UInt8>, now: Instant) throws(SwarmUsageError) -> Int {
        try withApplicationStream(stream, now: now) { (connection: inout Connection) throws(ConnectionUsageError) in
            try connection.write(stream.stream, bytes, now: now)
        }
    }

    /// Half-closes an application stream.
    public mutating func closeWrite(_ stream: SwarmStreamID, now: Instant) throws(SwarmUsageError) {
        try withApplicationStream(stream, now: now) { (connection: inout Connection) throws(ConnectionUsageError) in
            try connection.closeWrite(stream.stream, now: now)
        }
    }

    /// Resets an application stream; it is forgotten at once (no event follows).
    public mutating func reset(_ stream: SwarmStreamID, now: Instant) throws(SwarmUsageError) {
        try withApplicationStream(stream, now: now) { (connection: inout Connection) throws(ConnectionUsageError) in
            try connection.reset(stream.stream, now: now)
        }
        connections[stream.connection]?.streams.removeValueReleasingEmptyStorage(forKey: stream.stream)
    }

    /// Unread bytes buffered for an application stream.
    public func readableByteCount(_ stream: SwarmStreamID) -> Int {
        connections[stream.connection]?.connection?.readableByteCount(stream.stream) ?? 0
    }

    private mutating func withApplicationStream<Result>(
        _ stream: SwarmStreamID, now: Instant,
        _ body: (inout Connection) throws(ConnectionUsageError) -> Result
    ) throws(SwarmUsageError) -> Result {
        latestInput = max(latestInput, now)
        guard var slot = connections.removeValue(forKey: stream.connection) else { throw .unknownStream(stream) }
        guard case .application? = slot.streams[stream.stream], var connection = slot.connection else {
            connections[stream.connection] = slot
            throw .unknownStream(stream)
        }
        slot.connection = nil
        let result: Swift.Result<Result, ConnectionUsageError>
        do throws(ConnectionUsageError) {
            result = .success(try body(&connection))
        } catch {
            result = .failure(error)
        }
        slot.connection = connection
        processConnectionEvents(&slot, id: stream.connection, now: now)
        settle(slot, id: stream.connection)
        switch result {
        case .success(let value): return value
        case .failure(let error): throw .connection(error)
        }
    }

    // MARK: - Protocol handlers and closing

    /// Lets peers open streams for `protocol`; they arrive as `inboundStream` events.
    public mutating func addStreamHandler(_ protocol: String, now: Instant) {
        guard !applicationProtocols.contains(`protocol`) else { return }
        applicationProtocols.append(`protocol`)
        protocolsChanged(now: now)
    }

    /// Stops accepting streams for `protocol` (streams already open carry on).
    public mutating func removeStreamHandler(_ protocol: String, now: Instant) {
        guard applicationProtocols.contains(`protocol`) else { return }
        applicationProtocols.removeAll { $0 == `protocol` }
        protocolsChanged(now: now)
    }

    private mutating func protocolsChanged(now: Instant) {
        let protocols = supportedProtocols
        for id in connections.keys { connections[id]?.connection?.setSupportedProtocols(protocols) }
        pushIdentify(now: now)
    }

    /// Closes a connection (a connection still opening is abandoned).
    public mutating func closeConnection(_ id: ConnectionID, now: Instant) {
        latestInput = max(latestInput, now)
        guard var slot = connections.removeValue(forKey: id) else { return }
        if case .connecting = slot.phase, slot.circuit != nil {
            // A relayed attempt has no socket: its CONNECT stream (if any) is reset.
            connections[id] = slot
            circuitAttemptFailed(id, .cancelled, now: now)
            return
        }
        if case .connecting = slot.phase {
            if slot.natsCarrier != nil {
                cancelWaitingNATSAttempt(id)
            } else {
                actions.append(.close(id))
            }
            holePunch.reusedPortDials[id] = nil
            holePunchDialFailed(id, now: now)
            if let dial = slot.dial, let address = slot.dialedAddress {
                attemptFailed(dial, connection: id, failure: DialAttemptFailure(address: address, reason: .cancelled), now: now)
            }
            return
        }
        slot.connection?.close(now: now)
        processConnectionEvents(&slot, id: id, now: now)
        settle(slot, id: id)
    }

    /// Closes every connection to `peer`.
    public mutating func disconnect(_ peer: PeerID, now: Instant) {
        for id in connectionsByPeer[peer] ?? [] { closeConnection(id, now: now) }
    }

    /// Stops everything: listeners close, dials and requests fail with `shutdown`, and every
    /// connection closes (with a GoAway). `isIdle` turns true once the driver has drained
    /// the last bytes and closes.
    public mutating func shutdown(now: Instant) {
        latestInput = max(latestInput, now)
        guard !isShutDown else { return }
        isShutDown = true
        for id in listeners.keys.sorted(by: { $0.rawValue < $1.rawValue }) { actions.append(.closeListener(id)) }
        listeners.removeAll()
        for id in dials.keys.sorted(by: { $0.rawValue < $1.rawValue }) { failDial(id, .shutdown, now: now) }
        for id in connections.keys.sorted() { closeConnection(id, now: now) }
        // The NATS transport closes once its pipes' connections are gone.
        nats.reconnectAt = nil
        if let socket = nats.socket {
            if nats.socketOpen {
                enqueueTransmit(socket)
            } else {
                actions.append(.close(socket))
                nats = SwarmNATSState(claimedPeer: nats.claimedPeer)
            }
        }
        for id in requests.keys.sorted(by: { $0.rawValue < $1.rawValue }) { completeRequest(id, .failed(.shutdown)) }
    }
}
