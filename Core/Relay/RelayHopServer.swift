/// The relay's side of one inbound `/libp2p/circuit/relay/0.2.0/hop` stream: it reads one
/// `HopMessage` and lets its owner (the swarm, which holds `RelayResources`, the relay's key
/// and its connections) decide.
///
/// ```
/// < RESERVE              → reservationRequested   acceptReservation(grant) / refuse(status)
/// > STATUS OK + reservation + limit, or STATUS refusal          → finished(status)
/// < CONNECT peer         → connectRequested(peer) (the owner opens STOP to the target)
///                          acceptConnect(limit) / refuse(status)
/// > STATUS OK + limit    → circuitEstablished(leftover): the stream is now the circuit
/// > STATUS refusal       → finished(status)
/// < STATUS, or garbage   > UNEXPECTED_MESSAGE / MALFORMED_MESSAGE → rejected(error)
/// ```
///
/// Decisions are commands rather than a closure, so the machine stays a value and the
/// owner may take its time (a STOP round trip) between the event and the answer. The read
/// timeout covers the request only; the owner bounds its own STOP exchange.
///
/// After `finished` and `rejected`, `wantsToCloseWrite` is true: the owner half-closes
/// once the status is written. After `failed` (timeout, truncated request, too many bytes
/// after the request) it resets. After `circuitEstablished` the owner stops feeding the
/// machine and splices the stream, starting with the leftover bytes.
public struct RelayHopServer: StreamProtocolMachine {
    public typealias Event = RelayHopServerEvent

    private enum State {
        case reading
        case awaitingReservationDecision
        case awaitingConnectDecision(target: RelayPeerInfo, remoteClosed: Bool)
        /// A status was queued; the owner half-closes.
        case answered
        /// The stream became the circuit.
        case established
        case failed
    }

    private var state: State = .reading
    private var exchange: RelayMessageExchange<RelayHopServerEvent>

    /// A server for a hop stream opened at `now`, whose request must arrive within `timeout`
    /// (15 s by default, py-libp2p's `protocol_read_timeout`; `nil` for none).
    public init(now: Instant, timeout: Duration? = .seconds(15)) {
        exchange = RelayMessageExchange(now: now, timeout: timeout)
    }

    /// Feeds bytes from the client.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0 else { return }
        switch state {
        case .reading:
            switch exchange.append(bytes) {
            case .failure(let error): reject(error)
            case .success(nil): return
            case .success(let payload?): handle(payload)
            }
        case .awaitingReservationDecision, .awaitingConnectDecision:
            if case .failure(let error) = exchange.append(bytes) { fail(error) }
        case .answered, .established, .failed:
            return
        }
    }

    /// The client half-closed.
    public mutating func receiveEndOfStream(now: Instant) {
        switch state {
        case .reading:
            fail(.endOfStream(bufferedBytes: exchange.reader.bufferedByteCount))
        case .awaitingConnectDecision(let target, _):
            state = .awaitingConnectDecision(target: target, remoteClosed: true)
        case .awaitingReservationDecision, .answered, .established, .failed:
            return
        }
    }

    /// Grants the reservation asked for: queues STATUS OK with it.
    ///
    /// - Throws: `RelayUsageError.notAwaitingDecision` unless a RESERVE is waiting.
    public mutating func acceptReservation(_ grant: RelayReservationGrant, now: Instant) throws(RelayUsageError) {
        guard case .awaitingReservationDecision = state else { throw .notAwaitingDecision }
        RelayHopMessage.status(.ok, reservation: grant.reservation, limit: grant.limit).encode(into: &exchange.outbound)
        state = .answered
        exchange.events.append(.finished(.ok))
    }

    /// The circuit to the target is open (its STOP answered OK): queues STATUS OK with
    /// `limit` and hands the stream over as the circuit.
    ///
    /// - Throws: `RelayUsageError.notAwaitingDecision` unless a CONNECT is waiting.
    public mutating func acceptConnect(limit: CircuitLimit?, now: Instant) throws(RelayUsageError) {
        guard case .awaitingConnectDecision(_, let remoteClosed) = state else { throw .notAwaitingDecision }
        RelayHopMessage.status(.ok, limit: limit).encode(into: &exchange.outbound)
        state = .established
        exchange.events.append(
            .circuitEstablished(leftover: exchange.reader.takeTrailingBytes(), remoteClosed: remoteClosed))
    }

    /// Refuses the waiting request with `status` (from `RelayRefusal.status`, or
    /// `CONNECTION_FAILED` when STOP failed).
    ///
    /// - Throws: `RelayUsageError.okIsNotARefusal` for `OK`, `.notAwaitingDecision` unless a
    ///   request is waiting.
    public mutating func refuse(_ status: RelayStatus, now: Instant) throws(RelayUsageError) {
        guard status != .ok else { throw .okIsNotARefusal }
        switch state {
        case .awaitingReservationDecision, .awaitingConnectDecision:
            RelayHopMessage.status(status).encode(into: &exchange.outbound)
            state = .answered
            exchange.events.append(.finished(status))
        case .reading, .answered, .established, .failed:
            throw .notAwaitingDecision
        }
    }

    /// Fails with `timeout` when the request did not arrive by the deadline.
    public mutating func handleTimeout(now: Instant) {
        guard case .reading = state, let deadline = exchange.deadline, now >= deadline else { return }
        fail(.timeout)
    }

    /// Appends the queued status.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        exchange.pollTransmit(into: &buffer)
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> RelayHopServerEvent? { exchange.pollEvent() }

    /// The request's deadline while reading it.
    public var nextDeadline: Instant? {
        if case .reading = state { exchange.deadline } else { nil }
    }

    /// True once a status that ends the stream was queued.
    public var wantsToCloseWrite: Bool {
        if case .answered = state { true } else { false }
    }

    /// What the reader holds room for: the request, then at most 4 KiB after it; 0 once the
    /// stream is the circuit (its owner reads it from then on).
    public var receiveCapacity: Int {
        switch state {
        case .reading, .awaitingReservationDecision, .awaitingConnectDecision: exchange.reader.capacity
        case .established: 0
        case .answered, .failed: Int.max
        }
    }

    private mutating func handle(_ payload: [UInt8]) {
        let message: RelayHopMessage
        do {
            message = try RelayHopMessage(payload: payload)
        } catch {
            reject(.malformedMessage(error))
            return
        }
        switch message {
        case .reserve:
            state = .awaitingReservationDecision
            exchange.events.append(.reservationRequested)
        case .connect(let peer):
            state = .awaitingConnectDecision(target: peer, remoteClosed: false)
            exchange.events.append(.connectRequested(peer))
        case .status:
            reject(.unexpectedMessage)
        }
    }

    /// Answers a violation with MALFORMED_MESSAGE or UNEXPECTED_MESSAGE.
    private mutating func reject(_ error: RelayStreamError) {
        let status: RelayStatus = if case .unexpectedMessage = error { .unexpectedMessage } else { .malformedMessage }
        RelayHopMessage.status(status).encode(into: &exchange.outbound)
        state = .answered
        exchange.events.append(.rejected(error))
    }

    private mutating func fail(_ error: RelayStreamError) {
        state = .failed
        exchange.outbound.removeAll()
        exchange.events.append(.failed(error))
    }
}

/// What a `RelayHopServer` reports.
public enum RelayHopServerEvent: Hashable, Sendable {
    /// The client asks for a reservation: answer with `acceptReservation` or `refuse`.
    case reservationRequested
    /// The client asks for a circuit to `target`: check `RelayResources.openCircuit`, open
    /// STOP to the target on its reserved connection, then `acceptConnect` or `refuse`.
    case connectRequested(RelayPeerInfo)
    /// STATUS OK went out: the stream is now the circuit. `leftover` are bytes the client
    /// sent after CONNECT (forward them first); `remoteClosed` says it already half-closed.
    case circuitEstablished(leftover: [UInt8], remoteClosed: Bool)
    /// A final status was queued (OK for a reservation, or a refusal): half-close.
    case finished(RelayStatus)
    /// The client violated the protocol and was answered with MALFORMED_MESSAGE or
    /// UNEXPECTED_MESSAGE: half-close.
    case rejected(RelayStreamError)
    /// The stream failed without an answer: reset it.
    case failed(RelayStreamError)
}

/// A reservation the relay grants: what `RelayHopServer.acceptReservation` sends.
public struct RelayReservationGrant: Hashable, Sendable {
    /// The reservation on the wire (expiry, addresses, voucher).
    public var reservation: RelayReservation
    /// The limit of the peer's circuits.
    public var limit: CircuitLimit?

    /// A grant of `reservation` under `limit`.
    public init(reservation: RelayReservation, limit: CircuitLimit?) {
        self.reservation = reservation
        self.limit = limit
    }

    /// A grant for `peer` until `expiration` (UNIX seconds), with a voucher sealed by
    /// `relayKey`. Each of the relay's `addresses` gets the relay's `/p2p` ID appended when
    /// it has none; addresses naming another peer, or relayed ones, are left out.
    public init(
        relayKey: PrivateKey, peer: PeerID, expiration: UInt64, addresses: [Multiaddr], limit: CircuitLimit?
    ) throws(KeyError) {
        let relay = relayKey.publicKey.peerID
        let voucher = try ReservationVoucher(relay: relay, peer: peer, expiration: expiration).seal(with: relayKey)
        let withID = RelayAddresses.ofRelay(relay, from: addresses)
        self.init(
            reservation: RelayReservation(expiration: expiration, addresses: withID, voucher: voucher.encoded),
            limit: limit)
    }
}

/// The relay addresses a reservation carries.
enum RelayAddresses {
    /// `addresses` with `/p2p/relay` appended where they name no peer; those naming another
    /// peer, and relayed (`/p2p-circuit`) ones, are left out.
    static func ofRelay(_ relay: PeerID, from addresses: [Multiaddr]) -> [Multiaddr] {
        var result: [Multiaddr] = []
        for address in addresses where !address.isCircuit {
            if let named = address.peerID {
                if named == relay { result.append(address) }
            } else if let extended = try? address.encapsulate(.p2p(relay)) {
                result.append(extended)
            }
        }
        return result
    }
}
