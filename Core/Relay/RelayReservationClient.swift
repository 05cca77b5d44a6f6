/// A reservation this node holds on a relay, checked.
public struct RelayReservationInfo: Hashable, Sendable {
    /// The relay.
    public var relay: PeerID
    /// When it expires, in UNIX seconds (UTC), as the relay said.
    public var expiration: UInt64
    /// When it expires on the driver's clock.
    public var expiresAt: Instant
    /// When to refresh it: at the refresh threshold (80 %) of its lifetime.
    public var refreshAt: Instant
    /// The relay's addresses (each ending in its `/p2p` ID); append
    /// `/p2p-circuit/p2p/<own ID>` to advertise them.
    public var addresses: [Multiaddr]
    /// The limit of circuits through the relay, `nil` when it applies none.
    public var limit: CircuitLimit?
    /// The verified voucher, when the relay sent one.
    public var voucher: ReservationVoucher?
    /// The voucher's envelope bytes, to hand to peers.
    public var voucherEnvelope: [UInt8]?
}

/// Why a reservation failed.
public enum RelayReservationError: Error, Hashable, Sendable {
    /// The relay refused with `status`: give up on this relay (report it).
    case refused(RelayStatus)
    /// The exchange failed (malformed or unexpected reply, timeout, end of stream).
    case stream(RelayStreamError)
    /// STATUS OK without a reservation.
    case missingReservation
    /// The reservation's expiry is not in the future.
    case expired(expiration: UInt64, unixTime: UInt64)
    /// No voucher, and the configuration requires one.
    case missingVoucher
    /// The voucher's envelope does not open (signature, domain, type, payload, signer).
    case invalidVoucher(EnvelopeError)
    /// The voucher was issued by another relay than the one asked.
    case voucherRelayMismatch(PeerID)
    /// The voucher is for another peer than this node.
    case voucherPeerMismatch(PeerID)
    /// The voucher's expiration differs from the reservation's.
    case voucherExpirationMismatch(voucher: UInt64, reservation: UInt64)
}

/// The client's side of a reservation on `/libp2p/circuit/relay/0.2.0/hop`: sends RESERVE,
/// reads STATUS, and checks the reservation: an expiry in the future and a voucher signed by
/// the relay, naming the relay and this node, with the same expiry.
///
/// ```
/// > RESERVE                  (queued at init)
/// < STATUS OK + reservation  → reserved(info)   (refresh at info.refreshAt with a new machine)
/// < STATUS other             → failed(.refused(status))
/// ```
///
/// The core reads no clock: the owner passes `unixTime`, the wall-clock UNIX time in seconds
/// at `now`, to judge the expiry.
public struct RelayReservationClient: StreamProtocolMachine {
    public typealias Event = RelayReservationClientEvent

    private enum State { case awaitingStatus, done }

    /// The relay asked.
    public let relay: PeerID
    /// This node.
    public let local: PeerID
    private let unixTime: UInt64
    private let start: Instant
    private let configuration: RelayClientConfiguration
    private var state: State = .awaitingStatus
    private var exchange: RelayMessageExchange<RelayReservationClientEvent>

    /// Queues RESERVE to `relay` for `local`, at `now` (wall clock `unixTime`); the reply
    /// must arrive within `timeout`.
    public init(
        relay: PeerID, local: PeerID, now: Instant, unixTime: UInt64,
        configuration: RelayClientConfiguration = .init(), timeout: Duration? = .seconds(15)
    ) {
        self.relay = relay
        self.local = local
        self.unixTime = unixTime
        self.start = now
        self.configuration = configuration
        exchange = RelayMessageExchange(now: now, timeout: timeout)
        RelayHopMessage.reserve.encode(into: &exchange.outbound)
    }

    /// Feeds bytes from the relay.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0, case .awaitingStatus = state else { return }
        switch exchange.append(bytes) {
        case .failure(let error): finish(.failure(.stream(error)))
        case .success(nil): return
        case .success(let payload?):
            switch Result(catching: { () throws(RelayMessageError) in try RelayHopMessage(payload: payload) }) {
            case .failure(let error): finish(.failure(.stream(.malformedMessage(error))))
            case .success(.reserve), .success(.connect): finish(.failure(.stream(.unexpectedMessage)))
            case .success(.status(let status, let reservation, let limit)):
                guard status == .ok else {
                    finish(.failure(.refused(status)))
                    return
                }
                finish(check(reservation, limit: limit))
            }
        }
    }

    /// The relay half-closed: a failure unless the reply was complete.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .awaitingStatus = state else { return }
        finish(.failure(.stream(.endOfStream(bufferedBytes: exchange.reader.bufferedByteCount))))
    }

    /// Fails with `timeout` when no reply arrived by the deadline.
    public mutating func handleTimeout(now: Instant) {
        guard case .awaitingStatus = state, let deadline = exchange.deadline, now >= deadline else { return }
        finish(.failure(.stream(.timeout)))
    }

    /// Appends RESERVE.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int { exchange.pollTransmit(into: &buffer) }
    /// The next event, or `nil`.
    public mutating func pollEvent() -> RelayReservationClientEvent? { exchange.pollEvent() }
    /// The reply's deadline.
    public var nextDeadline: Instant? {
        if case .awaitingStatus = state { exchange.deadline } else { nil }
    }
    /// True: RESERVE is all this side sends (go-libp2p's client closes its side too).
    public var wantsToCloseWrite: Bool { true }
    /// Room for the reply and at most 4 KiB after it.
    public var receiveCapacity: Int {
        if case .awaitingStatus = state { exchange.reader.capacity } else { Int.max }
    }

    private func check(_ reservation: RelayReservation?, limit: CircuitLimit?) -> Result<RelayReservationInfo, RelayReservationError> {
        guard let reservation else { return .failure(.missingReservation) }
        guard reservation.expiration > unixTime else {
            return .failure(.expired(expiration: reservation.expiration, unixTime: unixTime))
        }
        var voucher: ReservationVoucher?
        if let envelope = reservation.voucher {
            let opened: ReservationVoucher
            do {
                opened = try ReservationVoucher.open(envelope).voucher
            } catch {
                return .failure(.invalidVoucher(error))
            }
            guard opened.relay == relay else { return .failure(.voucherRelayMismatch(opened.relay)) }
            guard opened.peer == local else { return .failure(.voucherPeerMismatch(opened.peer)) }
            guard opened.expiration == reservation.expiration else {
                return .failure(.voucherExpirationMismatch(voucher: opened.expiration, reservation: reservation.expiration))
            }
            voucher = opened
        } else if configuration.requireVoucher {
            return .failure(.missingVoucher)
        }
        let lifetimeSeconds = reservation.expiration - unixTime
        let lifetime = Duration.seconds(Int64(clamping: lifetimeSeconds))
        let threshold = min(1, max(0, configuration.reservationRefreshThreshold.isNaN ? 0.8 : configuration.reservationRefreshThreshold))
        let refreshNanoseconds = Double(lifetime.nanosecondsClamped) * threshold
        let refreshAfter = Duration.nanoseconds(Int64(clamping: refreshNanoseconds < 9.2e18 ? Int64(refreshNanoseconds) : .max))
        return .success(
            RelayReservationInfo(
                relay: relay, expiration: reservation.expiration, expiresAt: start + lifetime,
                refreshAt: start + refreshAfter, addresses: RelayAddresses.ofRelay(relay, from: reservation.addresses),
                limit: limit, voucher: voucher, voucherEnvelope: voucher == nil ? nil : reservation.voucher))
    }

    private mutating func finish(_ result: Result<RelayReservationInfo, RelayReservationError>) {
        state = .done
        switch result {
        case .success(let info): exchange.events.append(.reserved(info))
        case .failure(let error): exchange.events.append(.failed(error))
        }
    }
}

/// What a `RelayReservationClient` reports (exactly one event).
public enum RelayReservationClientEvent: Hashable, Sendable {
    /// The relay granted a reservation, checked.
    case reserved(RelayReservationInfo)
    /// The reservation failed; `.refused` means the relay said no.
    case failed(RelayReservationError)
}

/// The initiator's side of a circuit on `/libp2p/circuit/relay/0.2.0/hop`: sends CONNECT
/// to `target` through the relay and reads STATUS.
///
/// ```
/// > CONNECT target           (queued at init)
/// < STATUS OK + limit        → connected(limit, leftover): the stream is the relayed
///                              connection, starting with `leftover`
/// < STATUS other             → refused(status)
/// ```
public struct RelayConnectClient: StreamProtocolMachine {
    public typealias Event = RelayConnectClientEvent

    private enum State { case awaitingStatus, done }

    /// The peer to reach.
    public let target: PeerID
    private var state: State = .awaitingStatus
    private var exchange: RelayMessageExchange<RelayConnectClientEvent>

    /// Queues CONNECT to `target`; the reply must arrive within `timeout`.
    public init(target: PeerID, now: Instant, timeout: Duration? = .seconds(15)) {
        self.target = target
        exchange = RelayMessageExchange(now: now, timeout: timeout)
        RelayHopMessage.connect(peer: RelayPeerInfo(id: target)).encode(into: &exchange.outbound)
    }

    /// Feeds bytes from the relay.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0, case .awaitingStatus = state else { return }
        switch exchange.append(bytes) {
        case .failure(let error): finish(.failed(error))
        case .success(nil): return
        case .success(let payload?):
            switch Result(catching: { () throws(RelayMessageError) in try RelayHopMessage(payload: payload) }) {
            case .failure(let error): finish(.failed(.malformedMessage(error)))
            case .success(.reserve), .success(.connect): finish(.failed(.unexpectedMessage))
            case .success(.status(.ok, _, let limit)):
                finish(.connected(limit: limit, leftover: exchange.reader.takeTrailingBytes()))
            case .success(.status(let status, _, _)):
                finish(.refused(status))
            }
        }
    }

    /// The relay half-closed before answering: a failure.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .awaitingStatus = state else { return }
        finish(.failed(.endOfStream(bufferedBytes: exchange.reader.bufferedByteCount)))
    }

    /// Fails with `timeout` when no reply arrived by the deadline.
    public mutating func handleTimeout(now: Instant) {
        guard case .awaitingStatus = state, let deadline = exchange.deadline, now >= deadline else { return }
        finish(.failed(.timeout))
    }

    /// Appends CONNECT.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int { exchange.pollTransmit(into: &buffer) }
    /// The next event, or `nil`.
    public mutating func pollEvent() -> RelayConnectClientEvent? { exchange.pollEvent() }
    /// The reply's deadline.
    public var nextDeadline: Instant? {
        if case .awaitingStatus = state { exchange.deadline } else { nil }
    }
    /// Never: on OK the stream carries the relayed connection.
    public var wantsToCloseWrite: Bool { false }
    /// Room for the reply and at most 4 KiB after it; 0 once answered (on OK the owner
    /// reads the circuit itself).
    public var receiveCapacity: Int {
        if case .awaitingStatus = state { exchange.reader.capacity } else { 0 }
    }

    private mutating func finish(_ event: RelayConnectClientEvent) {
        state = .done
        exchange.events.append(event)
    }
}

/// What a `RelayConnectClient` reports (exactly one event).
public enum RelayConnectClientEvent: Hashable, Sendable {
    /// The relay connected the circuit: the stream is the relayed connection under `limit`;
    /// `leftover` are its first bytes (the target's), to feed the next layer first.
    case connected(limit: CircuitLimit?, leftover: [UInt8])
    /// The relay refused with `status`.
    case refused(RelayStatus)
    /// The exchange failed; reset the stream.
    case failed(RelayStreamError)
}
