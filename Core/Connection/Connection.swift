import DequeModule

/// A libp2p connection over a byte stream: the upgrade (multistream-select `/noise`, the
/// Noise XX handshake, `/yamux/1.0.0` inlined in Noise or negotiated after it) and then the
/// Yamux session, with multistream-select on every stream.
///
/// ```
/// raw bytes ─▶ multistream /noise ─▶ Noise XX ─▶ [multistream /yamux/1.0.0] ─▶ Yamux ─▶ streams
/// ```
///
/// It follows the machine contract (`ByteStreamMachine`): the driver feeds socket bytes to
/// `receive`, reports the end of the socket with `transportClosed`, drains `pollTransmit`
/// into the socket, `pollEvent` for the owner, and calls `handleTimeout` at `nextDeadline`.
/// The client negotiates optimistically wherever it proposes one protocol, so its Noise
/// message 1 rides with the `/noise` proposal and the first Yamux frames with `/yamux/1.0.0`.
public struct Connection: ByteStreamMachine {
    public typealias Event = ConnectionEvent

    /// The side this connection plays in the upgrade.
    public let role: ConnectionRole
    /// Whether this side dialed or accepted the byte stream.
    public let direction: ConnectionDirection
    /// Settings of the upgrade and the streams.
    public var configuration: ConnectionConfiguration { sharedConfiguration.value }
    private let sharedConfiguration: SharedConnectionConfiguration
    /// The protocols inbound streams may select.
    public private(set) var supportedProtocols: [String]
    /// The authenticated peer and how the upgrade went, once established.
    public private(set) var establishment: ConnectionEstablishment?

    private var phase: Phase
    private var events: Deque<ConnectionEvent> = []
    /// Wire-ready bytes produced while moving between phases, sent before anything else.
    private var pendingOutput: [UInt8] = []
    private let handshakeDeadline: Instant
    /// Scratch buffers of one call: decrypted input and muxer output. Each is emptied with
    /// its storage at the end of the call that filled it, so an idle connection holds none.
    private var plaintext: [UInt8] = []
    private var muxerOutput: [UInt8] = []
    private var negotiationInput: [UInt8] = []
    /// The time of the latest input, for work that `pollTransmit` (which takes no time)
    /// sets off, such as a stream negotiation resuming when its window opens.
    private var latestInput: Instant
    /// Set once the connection has ended (the `closed` event was queued).
    private var closeReason: ConnectionCloseReason?

    private enum Phase {
        /// multistream-select for `/noise` on the raw bytes. The Noise machine exists from
        /// the start (its ephemeral key drawn); the client's first message goes out as soon
        /// as `/noise` is selected, which is at once when negotiating optimistically.
        ///
        /// The upgrade's cases are `indirect`: their state is large and short-lived, and an
        /// established connection should not carry its room inline.
        indirect case negotiatingSecurity(SecurityNegotiation)
        indirect case securing(NoiseHandshake)
        /// multistream-select for `/yamux/1.0.0` inside Noise (when not inlined).
        indirect case negotiatingMuxer(MuxerNegotiation)
        case established(Established)
        case closed
    }

    private struct SecurityNegotiation {
        var negotiator: ProtocolNegotiator
        var handshake: NoiseHandshake
        var selected = false
    }

    private struct MuxerNegotiation {
        var transport: NoiseTransport
        var negotiator: ProtocolNegotiator
        var session: YamuxSession
        var selected = false
    }

    private struct Established {
        var transport: NoiseTransport
        var session: YamuxSession
        var streams = StreamTable()
    }

    /// Starts the upgrade of a byte stream.
    ///
    /// - Parameters:
    ///   - role: `.client` proposes protocols and is the Noise initiator and Yamux client
    ///     (normally the dialer).
    ///   - direction: whether this side dialed, for reporting.
    ///   - identity: this node's Noise identity.
    ///   - expectedRemotePeer: when dialing a known peer, the upgrade fails unless the
    ///     peer proves this identity.
    ///   - supportedProtocols: the protocols inbound streams may select.
    ///   - generator: randomness for the Noise ephemeral key.
    public init(
        role: ConnectionRole, direction: ConnectionDirection, identity: NoiseIdentity,
        expectedRemotePeer: PeerID? = nil, supportedProtocols: [String],
        configuration: ConnectionConfiguration = .init(), now: Instant,
        using generator: inout some RandomNumberGenerator
    ) throws(ConnectionUsageError) {
        try self.init(
            role: role, direction: direction, identity: identity, expectedRemotePeer: expectedRemotePeer,
            supportedProtocols: supportedProtocols, sharedConfiguration: SharedConnectionConfiguration(configuration),
            now: now, using: &generator)
    }

    /// Starts the upgrade of a byte stream, with a configuration shared with other
    /// connections (see `init(role:direction:identity:expectedRemotePeer:supportedProtocols:configuration:now:using:)`).
    public init(
        role: ConnectionRole, direction: ConnectionDirection, identity: NoiseIdentity,
        expectedRemotePeer: PeerID? = nil, supportedProtocols: [String],
        sharedConfiguration: SharedConnectionConfiguration, now: Instant,
        using generator: inout some RandomNumberGenerator
    ) throws(ConnectionUsageError) {
        self.role = role
        self.direction = direction
        self.sharedConfiguration = sharedConfiguration
        let configuration = sharedConfiguration.value
        self.supportedProtocols = supportedProtocols
        handshakeDeadline = now + configuration.handshakeTimeout
        latestInput = now
        let muxers = configuration.inlinesMuxerNegotiation ? [ConnectionConfiguration.yamuxProtocol] : []
        do {
            let negotiator = try ProtocolNegotiator.make(
                role: role, protocols: [ConnectionConfiguration.noiseProtocol], configuration: configuration.multistream)
            let handshake = try NoiseHandshake(
                role: role == .client ? .initiator : .responder, identity: identity,
                expectedRemotePeer: role == .client ? expectedRemotePeer : nil,
                supportedMuxers: muxers, using: &generator)
            phase = .negotiatingSecurity(SecurityNegotiation(negotiator: negotiator, handshake: handshake))
        } catch let error as MultistreamUsageError {
            throw .invalidProtocols(error)
        } catch {
            preconditionFailure("a Noise handshake with at most one muxer always fits: \(error)")
        }
        advanceSecurityNegotiation(now: now)
    }

    /// Whether the connection has ended.
    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// Replaces the protocols inbound streams may select (streams already negotiating keep
    /// the list they started with).
    public mutating func setSupportedProtocols(_ protocols: [String]) {
        supportedProtocols = protocols
    }

    // MARK: - Input

    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        latestInput = now
        switch phase {
        case .negotiatingSecurity(var negotiation):
            negotiation.negotiator.receive(bytes, now: now)
            phase = .negotiatingSecurity(negotiation)
            advanceSecurityNegotiation(now: now)
        case .securing(var handshake):
            handshake.receive(bytes, now: now)
            advanceHandshake(handshake, now: now)
        case .negotiatingMuxer(var negotiation):
            phase = .closed
            plaintext.removeAll(keepingCapacity: true)
            do {
                try negotiation.transport.decrypt(bytes, into: &plaintext)
            } catch {
                return close(.decryptionFailed(error))
            }
            negotiation.negotiator.receive(plaintext.span, now: now)
            plaintext = []
            advanceMuxerNegotiation(negotiation, now: now)
        case .established(var established):
            phase = .closed
            plaintext.removeAll(keepingCapacity: true)
            do {
                try established.transport.decrypt(bytes, into: &plaintext)
            } catch {
                phase = .established(established)
                return close(.decryptionFailed(error))
            }
            established.session.receive(plaintext.span, now: now)
            plaintext = []
            phase = .established(established)
            processSessionEvents(now: now)
        case .closed:
            return
        }
    }

    /// The byte stream underneath ended (EOF, reset, or a socket error).
    public mutating func transportClosed(now: Instant) {
        close(.transportClosed)
    }

    // MARK: - Upgrade

    private mutating func advanceSecurityNegotiation(now: Instant) {
        guard case .negotiatingSecurity(var negotiation) = phase else { return }
        while let event = negotiation.negotiator.pollEvent() {
            switch event {
            case .protocolSelected:
                negotiation.selected = true
            case .negotiationComplete:
                negotiation.selected = true
                var handshake = negotiation.handshake
                // The proposal or echo, then (for the client) Noise message 1.
                _ = negotiation.negotiator.pollTransmit(into: &pendingOutput)
                _ = handshake.pollTransmit(into: &pendingOutput)
                let remaining = negotiation.negotiator.takeRemainingBytes()
                if !remaining.isEmpty { handshake.receive(remaining.span, now: now) }
                advanceHandshake(handshake, now: now)
                return
            case .failed(let error):
                _ = negotiation.negotiator.pollTransmit(into: &pendingOutput)
                phase = .negotiatingSecurity(negotiation)
                return close(.securityNegotiationFailed(error))
            }
        }
        phase = .negotiatingSecurity(negotiation)
    }

    private mutating func advanceHandshake(_ handshake: consuming NoiseHandshake, now: Instant) {
        var handshake = handshake
        _ = handshake.pollTransmit(into: &pendingOutput)
        while let event = handshake.pollEvent() {
            switch event {
            case .failed(let error):
                phase = .securing(handshake)
                return close(.securityHandshakeFailed(error))
            case .completed(let result):
                let transport: NoiseTransport
                do {
                    transport = try handshake.finish()
                } catch {
                    phase = .closed
                    return close(.securityHandshakeFailed(.malformedPayload))
                }
                let inlined = result.negotiatedMuxer == ConnectionConfiguration.yamuxProtocol
                establishment = ConnectionEstablishment(
                    remotePeer: result.remotePeer, remotePublicKey: result.remotePublicKey,
                    inlinedMuxerNegotiation: inlined)
                return inlined
                    ? enterEstablished(transport, session: makeSession(now: now), firstInput: [], now: now)
                    : enterMuxerNegotiation(transport, now: now)
            }
        }
        phase = .securing(handshake)
    }

    private func makeSession(now: Instant) -> YamuxSession {
        YamuxSession(role: role == .client ? .client : .server, sharedConfiguration: sharedConfiguration.yamux, now: now)
    }

    private mutating func enterMuxerNegotiation(_ transport: NoiseTransport, now: Instant) {
        let negotiator: ProtocolNegotiator
        do {
            negotiator = try ProtocolNegotiator.make(
                role: role, protocols: [ConnectionConfiguration.yamuxProtocol], configuration: configuration.multistream)
        } catch {
            preconditionFailure("/yamux/1.0.0 is a valid protocol name")
        }
        var negotiation = MuxerNegotiation(transport: transport, negotiator: negotiator, session: makeSession(now: now))
        // Transport frames that arrived with the last handshake message.
        plaintext.removeAll(keepingCapacity: true)
        do {
            try negotiation.transport.decrypt(Span(), into: &plaintext)
        } catch {
            phase = .closed
            return close(.decryptionFailed(error))
        }
        if !plaintext.isEmpty { negotiation.negotiator.receive(plaintext.span, now: now) }
        plaintext = []
        advanceMuxerNegotiation(negotiation, now: now)
    }

    private mutating func advanceMuxerNegotiation(_ negotiation: consuming MuxerNegotiation, now: Instant) {
        var negotiation = negotiation
        while let event = negotiation.negotiator.pollEvent() {
            switch event {
            case .protocolSelected:
                negotiation.selected = true
            case .negotiationComplete:
                // Send what the negotiator still holds (encrypted) before the session's bytes.
                muxerOutput.removeAll(keepingCapacity: true)
                _ = negotiation.negotiator.pollTransmit(into: &muxerOutput)
                if !negotiation.selected { negotiation.selected = true }
                guard sealMuxerOutput(with: &negotiation.transport) else {
                    phase = .closed
                    return close(.nonceExhausted)
                }
                let remaining = negotiation.negotiator.takeRemainingBytes()
                return enterEstablished(negotiation.transport, session: negotiation.session, firstInput: remaining, now: now)
            case .failed(let error):
                muxerOutput.removeAll(keepingCapacity: true)
                _ = negotiation.negotiator.pollTransmit(into: &muxerOutput)
                _ = sealMuxerOutput(with: &negotiation.transport)
                phase = .closed
                return close(.muxerNegotiationFailed(error))
            }
        }
        phase = .negotiatingMuxer(negotiation)
    }

    private mutating func enterEstablished(
        _ transport: NoiseTransport, session: YamuxSession, firstInput: [UInt8], now: Instant
    ) {
        var established = Established(transport: transport, session: session)
        plaintext.removeAll(keepingCapacity: true)
        plaintext.append(contentsOf: firstInput)
        do {
            // Transport frames carried over from the handshake, if the muxer was inlined.
            try established.transport.decrypt(Span(), into: &plaintext)
        } catch {
            phase = .closed
            return close(.decryptionFailed(error))
        }
        if !plaintext.isEmpty { established.session.receive(plaintext.span, now: now) }
        plaintext = []
        phase = .established(established)
        if let establishment { events.append(.established(establishment)) }
        processSessionEvents(now: now)
    }

    // MARK: - Output

    /// Encrypts `muxerOutput` into `pendingOutput`; false when the nonces ran out.
    private mutating func sealMuxerOutput(with transport: inout NoiseTransport) -> Bool {
        var staged: [UInt8] = []
        swap(&staged, &muxerOutput)
        return (try? transport.encrypt(staged.span, into: &pendingOutput)) != nil
    }

    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let start = buffer.count
        if !pendingOutput.isEmpty {
            if buffer.isEmpty {
                swap(&buffer, &pendingOutput)
            } else {
                buffer.append(contentsOf: pendingOutput)
            }
            pendingOutput = []
        }
        switch phase {
        case .negotiatingSecurity(var negotiation):
            _ = negotiation.negotiator.pollTransmit(into: &buffer)
            if negotiation.selected { _ = negotiation.handshake.pollTransmit(into: &buffer) }
            phase = .negotiatingSecurity(negotiation)
        case .securing(var handshake):
            phase = .closed
            _ = handshake.pollTransmit(into: &buffer)
            phase = .securing(handshake)
        case .negotiatingMuxer(var negotiation):
            phase = .closed
            muxerOutput.removeAll(keepingCapacity: true)
            _ = negotiation.negotiator.pollTransmit(into: &muxerOutput)
            if negotiation.selected { _ = negotiation.session.pollTransmit(into: &muxerOutput) }
            let failed = (try? negotiation.transport.encrypt(muxerOutput.span, into: &buffer)) == nil
            muxerOutput = []
            phase = .negotiatingMuxer(negotiation)
            if failed { close(.nonceExhausted) }
        case .established(var established):
            phase = .closed
            muxerOutput.removeAll(keepingCapacity: true)
            _ = established.session.pollTransmit(into: &muxerOutput)
            let failed = (try? established.transport.encrypt(muxerOutput.span, into: &buffer)) == nil
            muxerOutput = []
            phase = .established(established)
            if failed {
                close(.nonceExhausted)
            } else {
                // Draining the muxer may have freed room for blocked writers.
                processSessionEvents(now: latestInput)
            }
        case .closed:
            break
        }
        return buffer.count - start
    }

    public mutating func pollEvent() -> ConnectionEvent? {
        events.popFirstReleasingEmptyStorage()
    }

    // MARK: - Time

    public var nextDeadline: Instant? {
        switch phase {
        case .negotiatingSecurity, .securing:
            return handshakeDeadline
        case .negotiatingMuxer(let negotiation):
            return negotiation.session.nextDeadline.earliest(handshakeDeadline)
        case .established(let established):
            return established.session.nextDeadline.earliest(established.streams.earliestDeadline)
        case .closed:
            return nil
        }
    }

    public mutating func handleTimeout(now: Instant) {
        latestInput = now
        switch phase {
        case .negotiatingSecurity, .securing, .negotiatingMuxer:
            if now >= handshakeDeadline { close(.handshakeTimeout) }
        case .established(var established):
            phase = .closed
            established.session.handleTimeout(now: now)
            let expired = established.streams.expiredNegotiations(at: now)
            for id in expired {
                let stream = established.streams.removeNegotiation(id)
                try? established.session.reset(id, now: now)
                if stream?.isOutbound == true { events.append(.streamNegotiationFailed(id, .timeout)) }
            }
            phase = .established(established)
            processSessionEvents(now: now)
        case .closed:
            return
        }
    }

    // MARK: - Closing

    /// Closes the connection: streams end, a GoAway is queued when established.
    public mutating func close(now: Instant) {
        guard case .established(var established) = phase else { return close(.localClose) }
        phase = .closed
        established.session.close(now: now)
        phase = .established(established)
        processSessionEvents(now: now)
    }

    /// Ends the connection for `reason`, keeping a final GoAway or `na` in `pendingOutput`.
    private mutating func close(_ reason: ConnectionCloseReason) {
        guard closeReason == nil else { return }
        closeReason = reason
        if case .established(var established) = phase {
            // Drain the muxer's last frames (a GoAway) while the transport still exists.
            muxerOutput.removeAll(keepingCapacity: true)
            _ = established.session.pollTransmit(into: &muxerOutput)
            _ = sealMuxerOutput(with: &established.transport)
        }
        phase = .closed
        events.append(.closed(reason))
    }
}

// MARK: - Streams

extension Connection {
    /// Opens a stream that proposes `protocols` in order. With one protocol, negotiation is
    /// optimistic: `streamNegotiated` follows at once and data may be written immediately.
    public mutating func openStream(protocols: [String], now: Instant) throws(ConnectionUsageError) -> StreamID {
        guard case .established(var established) = phase else { throw usageErrorForPhase() }
        let dialer: MultistreamDialer
        do {
            dialer = try MultistreamDialer(protocols: protocols, configuration: configuration.multistream)
        } catch {
            throw .invalidProtocols(error)
        }
        phase = .closed
        let id: StreamID
        do {
            id = try established.session.openStream(now: now)
        } catch {
            phase = .established(established)
            throw .muxer(error)
        }
        established.streams.startNegotiation(
            id, negotiator: .dialer(dialer), isOutbound: true, deadline: now + configuration.streamNegotiationTimeout)
        established.streams.announced.insert(id)
        advanceStreamNegotiation(id, in: &established, input: nil, now: now)
        phase = .established(established)
        processSessionEvents(now: now)
        return id
    }

    /// Writes to a negotiated stream; returns how many bytes were taken (a short write is
    /// followed by `streamWritable`).
    public mutating func write(_ stream: StreamID, _ bytes: Span<UInt8>, now: Instant) throws(ConnectionUsageError) -> Int {
        guard case .established(var established) = phase else { throw usageErrorForPhase() }
        if let negotiation = established.streams.negotiations[stream.rawValue],
           !negotiation.selected || !negotiation.pendingOutput.isEmpty {
            throw .streamNotNegotiated(stream)
        }
        phase = .closed
        defer { phase = .established(established) }
        do {
            return try established.session.write(stream, bytes, now: now)
        } catch {
            throw .muxer(error)
        }
    }

    /// Moves up to `maximum` received bytes of `stream` to the end of `destination`.
    public mutating func read(
        _ stream: StreamID, into destination: inout [UInt8], maximum: Int = .max, now: Instant
    ) throws(ConnectionUsageError) -> YamuxReadResult {
        guard case .established(var established) = phase else { throw usageErrorForPhase() }
        // Take the state out of `phase` before mutating it, so nothing is copied on write.
        phase = .closed
        if let count = established.streams.readLeftover(stream, into: &destination, maximum: maximum) {
            phase = .established(established)
            return .bytes(count)
        }
        if established.streams.closedUnderLeftover.contains(stream) {
            // Yamux finished this stream while its last bytes waited here.
            established.streams.forget(stream)
            phase = .established(established)
            events.append(.streamClosed(stream))
            return .endOfStream
        }
        if established.streams.negotiations[stream.rawValue] != nil {
            phase = .established(established)
            return .wouldBlock
        }
        let result: YamuxReadResult
        do {
            result = try established.session.read(stream, into: &destination, maximum: maximum, now: now)
        } catch {
            phase = .established(established)
            throw .muxer(error)
        }
        phase = .established(established)
        processSessionEvents(now: now)
        return result
    }

    /// Half-closes a stream (no more writes from this side).
    public mutating func closeWrite(_ stream: StreamID, now: Instant) throws(ConnectionUsageError) {
        guard case .established(var established) = phase else { throw usageErrorForPhase() }
        phase = .closed
        do {
            try established.session.closeWrite(stream, now: now)
        } catch {
            phase = .established(established)
            throw .muxer(error)
        }
        phase = .established(established)
        processSessionEvents(now: now)
    }

    /// Resets a stream in both directions.
    public mutating func reset(_ stream: StreamID, now: Instant) throws(ConnectionUsageError) {
        guard case .established(var established) = phase else { throw usageErrorForPhase() }
        phase = .closed
        defer { phase = .established(established) }
        established.streams.forget(stream)
        do {
            try established.session.reset(stream, now: now)
        } catch {
            throw .muxer(error)
        }
    }

    /// Sends a Yamux ping; its reply produces `roundTripTime`.
    public mutating func ping(now: Instant) throws(ConnectionUsageError) {
        guard case .established(var established) = phase else { throw usageErrorForPhase() }
        phase = .closed
        try? established.session.ping(now: now)
        phase = .established(established)
    }

    /// Unread bytes buffered for `stream`.
    public func readableByteCount(_ stream: StreamID) -> Int {
        guard case .established(let established) = phase else { return 0 }
        return established.streams.leftoverCount(stream) + established.session.readableByteCount(stream)
    }

    /// The number of open streams.
    public var streamCount: Int {
        guard case .established(let established) = phase else { return 0 }
        return established.session.streamCount
    }

    private func usageErrorForPhase() -> ConnectionUsageError {
        if case .closed = phase { return .closed }
        return .notEstablished
    }

    /// Turns the session's events into the connection's, running stream negotiations.
    private mutating func processSessionEvents(now time: Instant) {
        guard case .established(var established) = phase else { return }
        phase = .closed
        latestInput = max(latestInput, time)
        while let event = established.session.pollEvent() {
            switch event {
            case .inboundStream(let id):
                if established.streams.inboundNegotiationCount >= configuration.maximumNegotiatingInboundStreams {
                    try? established.session.reset(id, now: time)
                    continue
                }
                guard let listener = try? MultistreamListener(
                    supportedProtocols: supportedProtocols, configuration: configuration.multistream)
                else {
                    try? established.session.reset(id, now: time)
                    continue
                }
                established.streams.startNegotiation(
                    id, negotiator: .listener(listener), isOutbound: false,
                    deadline: time + configuration.streamNegotiationTimeout)
                advanceStreamNegotiation(id, in: &established, input: nil, now: time)
            case .readable(let id):
                if established.streams.negotiations[id.rawValue] != nil {
                    negotiationInput.removeAll(keepingCapacity: true)
                    var ended = false
                    readLoop: while true {
                        switch try? established.session.read(id, into: &negotiationInput, now: time) {
                        case .bytes: continue
                        case .endOfStream: ended = true; break readLoop
                        case .wouldBlock, nil: break readLoop
                        }
                    }
                    let input = negotiationInput
                    negotiationInput = []
                    advanceStreamNegotiation(id, in: &established, input: input, now: time)
                    if ended && established.streams.negotiations[id.rawValue] != nil {
                        failNegotiation(id, in: &established, failure: .closedByPeer, now: time)
                    }
                } else if established.streams.announced.contains(id) {
                    events.append(.streamReadable(id))
                }
            case .writable(let id):
                if established.streams.negotiations[id.rawValue] != nil {
                    advanceStreamNegotiation(id, in: &established, input: nil, now: time)
                    // An outbound stream refuses writes while its proposal waits for window;
                    // tell the owner once it went out.
                    if established.streams.announced.contains(id),
                       established.streams.negotiations[id.rawValue].map({ $0.selected && $0.pendingOutput.isEmpty }) ?? true {
                        events.append(.streamWritable(id))
                    }
                } else if established.streams.announced.contains(id) {
                    events.append(.streamWritable(id))
                }
            case .remoteClosedWrite(let id):
                if established.streams.negotiations[id.rawValue] != nil {
                    // Whatever preceded the FIN was read on `readable`; unfinished is a failure.
                    failNegotiation(id, in: &established, failure: .closedByPeer, now: time)
                } else if established.streams.announced.contains(id) {
                    events.append(.streamRemoteClosed(id))
                }
            case .reset(let id):
                let negotiation = established.streams.removeNegotiation(id)
                let announced = established.streams.announced.contains(id)
                established.streams.forget(id)
                if let negotiation, negotiation.isOutbound {
                    events.append(.streamNegotiationFailed(id, .closedByPeer))
                } else if negotiation == nil && announced {
                    events.append(.streamReset(id))
                }
            case .streamClosed(let id):
                if established.streams.announced.contains(id) && !established.streams.hasLeftover(id) {
                    events.append(.streamClosed(id))
                }
                established.streams.forgetUnlessLeftover(id)
            case .roundTripTime(let duration):
                events.append(.roundTripTime(duration))
            case .goAwayReceived:
                events.append(.remoteGoingAway)
            case .sessionClosed(let reason):
                phase = .established(established)
                close(reason == .localClose ? .localClose : .muxerClosed(reason))
                return
            }
        }
        phase = .established(established)
    }

    /// Feeds `input` to a stream's negotiation, writes its output, and reacts to its events.
    private mutating func advanceStreamNegotiation(
        _ id: StreamID, in established: inout Established, input: [UInt8]?, now: Instant
    ) {
        guard var negotiation = established.streams.removeNegotiation(id) else { return }
        if let input, !input.isEmpty { negotiation.negotiator.receive(input.span, now: now) }
        _ = negotiation.negotiator.pollTransmit(into: &negotiation.pendingOutput)
        if !negotiation.pendingOutput.isEmpty {
            let written = (try? established.session.write(id, negotiation.pendingOutput.span, now: now)) ?? 0
            negotiation.pendingOutput.removeFirst(written)
        }
        while let event = negotiation.negotiator.pollEvent() {
            switch event {
            case .protocolSelected(let name):
                negotiation.selected = true
                if negotiation.isOutbound { events.append(.streamNegotiated(id, protocol: name)) }
            case .negotiationComplete(let name):
                let remaining = negotiation.negotiator.takeRemainingBytes()
                if !negotiation.pendingOutput.isEmpty {
                    // The echo could not be written yet (window); keep negotiating until it is.
                    negotiation.completedProtocol = name
                    negotiation.remainingAfterCompletion = remaining
                    established.streams.negotiations[id.rawValue] = negotiation
                    return
                }
                finishNegotiation(id, negotiation, protocol: name, remaining: remaining, in: &established)
                return
            case .failed(let error):
                _ = negotiation.negotiator.pollTransmit(into: &negotiation.pendingOutput)
                _ = try? established.session.write(id, negotiation.pendingOutput.span, now: now)
                try? established.session.reset(id, now: now)
                established.streams.forget(id)
                if negotiation.isOutbound { events.append(.streamNegotiationFailed(id, .negotiation(error))) }
                return
            }
        }
        if let name = negotiation.completedProtocol, negotiation.pendingOutput.isEmpty {
            finishNegotiation(id, negotiation, protocol: name, remaining: negotiation.remainingAfterCompletion, in: &established)
            return
        }
        established.streams.negotiations[id.rawValue] = negotiation
    }

    private mutating func finishNegotiation(
        _ id: StreamID, _ negotiation: StreamTable.Negotiation, protocol name: String, remaining: [UInt8],
        in established: inout Established
    ) {
        if !negotiation.isOutbound {
            established.streams.announced.insert(id)
            events.append(.inboundStream(id, protocol: name))
        }
        if !remaining.isEmpty {
            established.streams.leftovers[id.rawValue] = remaining
            events.append(.streamReadable(id))
        }
    }

    private mutating func failNegotiation(
        _ id: StreamID, in established: inout Established, failure: ConnectionStreamFailure, now: Instant
    ) {
        guard let negotiation = established.streams.removeNegotiation(id) else { return }
        try? established.session.reset(id, now: now)
        established.streams.forget(id)
        if negotiation.isOutbound { events.append(.streamNegotiationFailed(id, failure)) }
    }
}
