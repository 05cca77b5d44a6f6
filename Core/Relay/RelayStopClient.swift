/// The relay's side of `/libp2p/circuit/relay/0.2.0/stop`: it opens the stream to the
/// target on the target's reserved connection, sends CONNECT naming the source and the
/// limit, and reads the target's STATUS.
///
/// ```
/// > CONNECT source + limit   (queued at init)
/// < STATUS OK                → accepted(leftover): the stream is now the circuit
/// < STATUS other             → refused(status): answer the hop stream CONNECTION_FAILED
/// ```
public struct RelayStopClient: StreamProtocolMachine {
    public typealias Event = RelayStopClientEvent

    private enum State { case awaitingStatus, done, failed }

    private var state: State = .awaitingStatus
    private var exchange: RelayMessageExchange<RelayStopClientEvent>

    /// Queues CONNECT for `source` under `limit`; the answer must arrive within `timeout`.
    public init(source: PeerID, limit: CircuitLimit?, now: Instant, timeout: Duration? = .seconds(15)) {
        exchange = RelayMessageExchange(now: now, timeout: timeout)
        RelayStopMessage.connect(peer: RelayPeerInfo(id: source), limit: limit).encode(into: &exchange.outbound)
    }

    /// Feeds bytes from the target.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0, case .awaitingStatus = state else { return }
        switch exchange.append(bytes) {
        case .failure(let error): fail(error)
        case .success(nil): return
        case .success(let payload?):
            switch Result(catching: { () throws(RelayMessageError) in try RelayStopMessage(payload: payload) }) {
            case .failure(let error): fail(.malformedMessage(error))
            case .success(.connect): fail(.unexpectedMessage)
            case .success(.status(.ok)):
                state = .done
                exchange.events.append(.accepted(leftover: exchange.reader.takeTrailingBytes()))
            case .success(.status(let status)):
                state = .done
                exchange.events.append(.refused(status))
            }
        }
    }

    /// The target half-closed before answering: a failure.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .awaitingStatus = state else { return }
        fail(.endOfStream(bufferedBytes: exchange.reader.bufferedByteCount))
    }

    /// Fails with `timeout` when no answer arrived by the deadline.
    public mutating func handleTimeout(now: Instant) {
        guard case .awaitingStatus = state, let deadline = exchange.deadline, now >= deadline else { return }
        fail(.timeout)
    }

    /// Appends the CONNECT message.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int { exchange.pollTransmit(into: &buffer) }
    /// The next event, or `nil`.
    public mutating func pollEvent() -> RelayStopClientEvent? { exchange.pollEvent() }
    /// The answer's deadline.
    public var nextDeadline: Instant? {
        if case .awaitingStatus = state { exchange.deadline } else { nil }
    }
    /// Never: on OK the stream becomes the circuit, otherwise the owner closes it.
    public var wantsToCloseWrite: Bool { false }
    /// Room for the answer and at most 4 KiB after it.
    /// 0 once the stream is the circuit (its owner reads it from then on).
    public var receiveCapacity: Int {
        switch state {
        case .awaitingStatus: exchange.reader.capacity
        case .done: 0
        case .failed: Int.max
        }
    }

    private mutating func fail(_ error: RelayStreamError) {
        state = .failed
        exchange.events.append(.failed(error))
    }
}

/// What a `RelayStopClient` reports.
public enum RelayStopClientEvent: Hashable, Sendable {
    /// The target accepted: the stream is the circuit; `leftover` are the target's first
    /// circuit bytes, to forward first.
    case accepted(leftover: [UInt8])
    /// The target refused with `status`; close the stream.
    case refused(RelayStatus)
    /// The exchange failed; reset the stream.
    case failed(RelayStreamError)
}

/// The target's side of `/libp2p/circuit/relay/0.2.0/stop`: it reads the relay's CONNECT
/// and lets its owner accept the relayed connection or refuse it.
///
/// ```
/// < CONNECT source + limit   → connectRequested(source, limit)   accept() / refuse(status)
/// > STATUS OK                → circuitEstablished(leftover): the stream is the connection
/// > STATUS refusal           → finished(status)
/// < STATUS, or garbage       > UNEXPECTED_MESSAGE / MALFORMED_MESSAGE → rejected(error)
/// ```
public struct RelayStopServer: StreamProtocolMachine {
    public typealias Event = RelayStopServerEvent

    private enum State { case reading, awaitingDecision, answered, established, failed }

    private var state: State = .reading
    private var exchange: RelayMessageExchange<RelayStopServerEvent>

    /// A server for a stop stream opened at `now`; CONNECT must arrive within `timeout`.
    public init(now: Instant, timeout: Duration? = .seconds(15)) {
        exchange = RelayMessageExchange(now: now, timeout: timeout)
    }

    /// Feeds bytes from the relay.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0 else { return }
        switch state {
        case .reading:
            switch exchange.append(bytes) {
            case .failure(let error): reject(error)
            case .success(nil): return
            case .success(let payload?):
                switch Result(catching: { () throws(RelayMessageError) in try RelayStopMessage(payload: payload) }) {
                case .failure(let error): reject(.malformedMessage(error))
                case .success(.status): reject(.unexpectedMessage)
                case .success(.connect(let peer, let limit)):
                    state = .awaitingDecision
                    exchange.events.append(.connectRequested(source: peer, limit: limit))
                }
            }
        case .awaitingDecision:
            if case .failure(let error) = exchange.append(bytes) { fail(error) }
        case .answered, .established, .failed:
            return
        }
    }

    /// The relay half-closed.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .reading = state else { return }
        fail(.endOfStream(bufferedBytes: exchange.reader.bufferedByteCount))
    }

    /// Accepts the relayed connection: queues STATUS OK and hands the stream over.
    ///
    /// - Throws: `RelayUsageError.notAwaitingDecision` unless a CONNECT is waiting.
    public mutating func accept(now: Instant) throws(RelayUsageError) {
        guard case .awaitingDecision = state else { throw .notAwaitingDecision }
        RelayStopMessage.status(.ok).encode(into: &exchange.outbound)
        state = .established
        exchange.events.append(.circuitEstablished(leftover: exchange.reader.takeTrailingBytes()))
    }

    /// Refuses the relayed connection with `status` (normally `CONNECTION_FAILED`).
    ///
    /// - Throws: `RelayUsageError.okIsNotARefusal` for OK, `.notAwaitingDecision` unless a
    ///   CONNECT is waiting.
    public mutating func refuse(_ status: RelayStatus, now: Instant) throws(RelayUsageError) {
        guard status != .ok else { throw .okIsNotARefusal }
        guard case .awaitingDecision = state else { throw .notAwaitingDecision }
        RelayStopMessage.status(status).encode(into: &exchange.outbound)
        state = .answered
        exchange.events.append(.finished(status))
    }

    /// Fails with `timeout` when CONNECT did not arrive by the deadline.
    public mutating func handleTimeout(now: Instant) {
        guard case .reading = state, let deadline = exchange.deadline, now >= deadline else { return }
        fail(.timeout)
    }

    /// Appends the queued status.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int { exchange.pollTransmit(into: &buffer) }
    /// The next event, or `nil`.
    public mutating func pollEvent() -> RelayStopServerEvent? { exchange.pollEvent() }
    /// CONNECT's deadline while reading it.
    public var nextDeadline: Instant? {
        if case .reading = state { exchange.deadline } else { nil }
    }
    /// True once a status that ends the stream was queued.
    public var wantsToCloseWrite: Bool {
        if case .answered = state { true } else { false }
    }
    /// Room for CONNECT and at most 4 KiB after it.
    public var receiveCapacity: Int {
        switch state {
        case .reading, .awaitingDecision: exchange.reader.capacity
        case .established: 0
        case .answered, .failed: Int.max
        }
    }

    private mutating func reject(_ error: RelayStreamError) {
        let status: RelayStatus = if case .unexpectedMessage = error { .unexpectedMessage } else { .malformedMessage }
        RelayStopMessage.status(status).encode(into: &exchange.outbound)
        state = .answered
        exchange.events.append(.rejected(error))
    }

    private mutating func fail(_ error: RelayStreamError) {
        state = .failed
        exchange.outbound.removeAll()
        exchange.events.append(.failed(error))
    }
}

/// What a `RelayStopServer` reports.
public enum RelayStopServerEvent: Hashable, Sendable {
    /// The relay connects `source` to this node under `limit`: `accept` or `refuse`.
    case connectRequested(source: RelayPeerInfo, limit: CircuitLimit?)
    /// STATUS OK went out: the stream is the relayed connection; `leftover` are its first
    /// bytes (the source's security handshake, say).
    case circuitEstablished(leftover: [UInt8])
    /// The refusal was queued: half-close.
    case finished(RelayStatus)
    /// The relay violated the protocol and was answered: half-close.
    case rejected(RelayStreamError)
    /// The stream failed without an answer: reset it.
    case failed(RelayStreamError)
}
