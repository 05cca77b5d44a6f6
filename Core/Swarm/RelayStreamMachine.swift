/// The Circuit Relay v2 machines the swarm runs on protocol streams, and what they tell it.
enum RelayStreamMachine {
    /// The relay's side of a HOP stream (RESERVE or CONNECT from a client).
    case hopServer(RelayHopServer)
    /// A client's side of a STOP stream the relay opened (a relayed connection arriving).
    case stopServer(RelayStopServer)
    /// The relay's STOP request to the target of `circuit`.
    case stopClient(RelayStopClient, circuit: RelayCircuitID)
    /// A client's RESERVE on a relay.
    case reservationClient(RelayReservationClient)
    /// A client's CONNECT through a relay, for the relayed connection `relayed`.
    case connectClient(RelayConnectClient, relayed: ConnectionID)
    /// Held only while a machine is taken out to be mutated.
    case moved

    /// What a relay machine's events tell the swarm.
    enum Outcome {
        /// HOP: a peer asks for a reservation; answer on the machine at once.
        case reservationRequested
        /// HOP: a peer asks for a circuit to a target.
        case connectRequested(RelayPeerInfo)
        /// HOP: STATUS OK went out, the stream is the circuit's source side.
        case hopCircuitEstablished(leftover: [UInt8], remoteClosed: Bool)
        /// STOP (client side): the relay brings a connection from `source`.
        case stopConnectRequested(source: RelayPeerInfo, limit: CircuitLimit?)
        /// STOP (client side): STATUS OK went out, the stream carries the connection.
        case stopCircuitEstablished(leftover: [UInt8])
        /// STOP (relay side): the target answered.
        case stopAnswered(RelayCircuitID, Result<[UInt8], RelayCircuitFailure>)
        /// RESERVE: the relay granted the reservation (checked).
        case reserved(RelayReservationInfo)
        /// RESERVE: refused, or a bad answer.
        case reservationFailed(RelayReservationError)
        /// CONNECT: the relay answered.
        case connectAnswered(ConnectionID, Result<(limit: CircuitLimit?, leftover: [UInt8]), RelayCircuitFailure>)
        /// A server queued its final status (a refusal, a reservation, a rejection).
        case answered
    }

    var receiveCapacity: Int {
        switch self {
        case .hopServer(let m): m.receiveCapacity
        case .stopServer(let m): m.receiveCapacity
        case .stopClient(let m, _): m.receiveCapacity
        case .reservationClient(let m): m.receiveCapacity
        case .connectClient(let m, _): m.receiveCapacity
        case .moved: 0
        }
    }

    var wantsToCloseWrite: Bool {
        switch self {
        case .hopServer(let m): m.wantsToCloseWrite
        case .stopServer(let m): m.wantsToCloseWrite
        case .stopClient(let m, _): m.wantsToCloseWrite
        case .reservationClient(let m): m.wantsToCloseWrite
        case .connectClient(let m, _): m.wantsToCloseWrite
        case .moved: false
        }
    }

    var nextDeadline: Instant? {
        switch self {
        case .hopServer(let m): m.nextDeadline
        case .stopServer(let m): m.nextDeadline
        case .stopClient(let m, _): m.nextDeadline
        case .reservationClient(let m): m.nextDeadline
        case .connectClient(let m, _): m.nextDeadline
        case .moved: nil
        }
    }

    mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        switch self {
        case .hopServer(var m): self = .moved; m.receive(bytes, now: now); self = .hopServer(m)
        case .stopServer(var m): self = .moved; m.receive(bytes, now: now); self = .stopServer(m)
        case .stopClient(var m, let c): self = .moved; m.receive(bytes, now: now); self = .stopClient(m, circuit: c)
        case .reservationClient(var m): self = .moved; m.receive(bytes, now: now); self = .reservationClient(m)
        case .connectClient(var m, let r): self = .moved; m.receive(bytes, now: now); self = .connectClient(m, relayed: r)
        case .moved: break
        }
    }

    mutating func receiveEndOfStream(now: Instant) {
        switch self {
        case .hopServer(var m): self = .moved; m.receiveEndOfStream(now: now); self = .hopServer(m)
        case .stopServer(var m): self = .moved; m.receiveEndOfStream(now: now); self = .stopServer(m)
        case .stopClient(var m, let c): self = .moved; m.receiveEndOfStream(now: now); self = .stopClient(m, circuit: c)
        case .reservationClient(var m): self = .moved; m.receiveEndOfStream(now: now); self = .reservationClient(m)
        case .connectClient(var m, let r): self = .moved; m.receiveEndOfStream(now: now); self = .connectClient(m, relayed: r)
        case .moved: break
        }
    }

    mutating func handleTimeout(now: Instant) {
        switch self {
        case .hopServer(var m): self = .moved; m.handleTimeout(now: now); self = .hopServer(m)
        case .stopServer(var m): self = .moved; m.handleTimeout(now: now); self = .stopServer(m)
        case .stopClient(var m, let c): self = .moved; m.handleTimeout(now: now); self = .stopClient(m, circuit: c)
        case .reservationClient(var m): self = .moved; m.handleTimeout(now: now); self = .reservationClient(m)
        case .connectClient(var m, let r): self = .moved; m.handleTimeout(now: now); self = .connectClient(m, relayed: r)
        case .moved: break
        }
    }

    mutating func pollTransmit(into buffer: inout [UInt8]) {
        switch self {
        case .hopServer(var m): self = .moved; _ = m.pollTransmit(into: &buffer); self = .hopServer(m)
        case .stopServer(var m): self = .moved; _ = m.pollTransmit(into: &buffer); self = .stopServer(m)
        case .stopClient(var m, let c): self = .moved; _ = m.pollTransmit(into: &buffer); self = .stopClient(m, circuit: c)
        case .reservationClient(var m): self = .moved; _ = m.pollTransmit(into: &buffer); self = .reservationClient(m)
        case .connectClient(var m, let r): self = .moved; _ = m.pollTransmit(into: &buffer); self = .connectClient(m, relayed: r)
        case .moved: break
        }
    }

    /// Drains the machine's events. Failures come back as text: the stream is reset.
    mutating func drainOutcomes() -> (outcomes: [Outcome], failure: String?) {
        var outcomes: [Outcome] = []
        var failure: String?
        switch self {
        case .hopServer(var m):
            self = .moved
            while let event = m.pollEvent() {
                switch event {
                case .reservationRequested: outcomes.append(.reservationRequested)
                case .connectRequested(let target): outcomes.append(.connectRequested(target))
                case .circuitEstablished(let leftover, let remoteClosed):
                    outcomes.append(.hopCircuitEstablished(leftover: leftover, remoteClosed: remoteClosed))
                case .finished, .rejected: outcomes.append(.answered)
                case .failed(let error): failure = "relay hop: \(error)"
                }
            }
            self = .hopServer(m)
        case .stopServer(var m):
            self = .moved
            while let event = m.pollEvent() {
                switch event {
                case .connectRequested(let source, let limit): outcomes.append(.stopConnectRequested(source: source, limit: limit))
                case .circuitEstablished(let leftover): outcomes.append(.stopCircuitEstablished(leftover: leftover))
                case .finished, .rejected: outcomes.append(.answered)
                case .failed(let error): failure = "relay stop: \(error)"
                }
            }
            self = .stopServer(m)
        case .stopClient(var m, let circuit):
            self = .moved
            while let event = m.pollEvent() {
                switch event {
                case .accepted(let leftover): outcomes.append(.stopAnswered(circuit, .success(leftover)))
                case .refused(let status): outcomes.append(.stopAnswered(circuit, .failure(.refused(status))))
                case .failed(let error): outcomes.append(.stopAnswered(circuit, .failure(.stream(error))))
                }
            }
            self = .stopClient(m, circuit: circuit)
        case .reservationClient(var m):
            self = .moved
            while let event = m.pollEvent() {
                switch event {
                case .reserved(let info): outcomes.append(.reserved(info))
                case .failed(let error): outcomes.append(.reservationFailed(error))
                }
            }
            self = .reservationClient(m)
        case .connectClient(var m, let relayed):
            self = .moved
            while let event = m.pollEvent() {
                switch event {
                case .connected(let limit, let leftover):
                    outcomes.append(.connectAnswered(relayed, .success((limit: limit, leftover: leftover))))
                case .refused(let status): outcomes.append(.connectAnswered(relayed, .failure(.refused(status))))
                case .failed(let error): outcomes.append(.connectAnswered(relayed, .failure(.stream(error))))
                }
            }
            self = .connectClient(m, relayed: relayed)
        case .moved:
            break
        }
        return (outcomes, failure)
    }
}

/// Why a relay refused, or failed, a circuit request (CONNECT or STOP).
public enum RelayCircuitFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The other side answered with this status.
    case refused(RelayStatus)
    /// The exchange failed (timeout, malformed answer, stream ended).
    case stream(RelayStreamError)

    public var description: String {
        switch self {
        case .refused(let status): "refused: \(status)"
        case .stream(let error): "\(error)"
        }
    }
}

/// The swarm's decisions on the relay servers, applied in place.
extension RelayStreamMachine {
    /// Answers a waiting RESERVE, CONNECT or STOP CONNECT with a refusal.
    mutating func refuse(_ status: RelayStatus, now: Instant) {
        switch self {
        case .hopServer(var m): self = .moved; try? m.refuse(status, now: now); self = .hopServer(m)
        case .stopServer(var m): self = .moved; try? m.refuse(status, now: now); self = .stopServer(m)
        default: break
        }
    }

    /// Grants a waiting RESERVE.
    mutating func acceptReservation(_ grant: RelayReservationGrant, now: Instant) {
        guard case .hopServer(var m) = self else { return }
        self = .moved
        try? m.acceptReservation(grant, now: now)
        self = .hopServer(m)
    }

    /// Answers a waiting CONNECT with OK; returns the bytes the source sent after it and
    /// whether it already half-closed (`nil` when no CONNECT was waiting).
    mutating func acceptConnect(limit: CircuitLimit?, now: Instant) -> (leftover: [UInt8], remoteClosed: Bool)? {
        guard case .hopServer(var m) = self else { return nil }
        self = .moved
        defer { self = .hopServer(m) }
        guard (try? m.acceptConnect(limit: limit, now: now)) != nil else { return nil }
        while let event = m.pollEvent() {
            if case .circuitEstablished(let leftover, let remoteClosed) = event { return (leftover, remoteClosed) }
        }
        return nil
    }

    /// Accepts the relay's STOP CONNECT; returns the bytes the relay sent after it (`nil`
    /// when none was waiting).
    mutating func acceptStop(now: Instant) -> [UInt8]? {
        guard case .stopServer(var m) = self else { return nil }
        self = .moved
        defer { self = .stopServer(m) }
        guard (try? m.accept(now: now)) != nil else { return nil }
        while let event = m.pollEvent() {
            if case .circuitEstablished(let leftover) = event { return leftover }
        }
        return nil
    }
}

extension ProtocolStream {
    /// Runs `body` on the stream's relay machine in place; `nil` for other machines.
    @discardableResult
    mutating func withRelayMachine<T>(_ body: (inout RelayStreamMachine) -> T) -> T? {
        guard case .relay(var relayMachine) = machine else { return nil }
        machine = .moved
        defer { machine = .relay(relayMachine) }
        return body(&relayMachine)
    }
}
