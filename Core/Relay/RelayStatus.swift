/// The status codes of circuit relay v2 (`shared/specs/relay/circuit-v2.md`), with the
/// spec's numeric values. `UNUSED` (0) is not a status: a message carrying it, or a code
/// this enum does not know, has no status (`RelayMessageError.missingStatus`).
public enum RelayStatus: Int, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The request succeeded.
    case ok = 100
    /// The relay refused a reservation (too many reservations, rate, any reason but ACLs).
    case reservationRefused = 200
    /// Too many circuits from the initiator, to the target, or in all.
    case resourceLimitExceeded = 201
    /// Refused by peer filtering (allow/deny lists), or over a relayed connection.
    case permissionDenied = 202
    /// The relay could not open the circuit to the target (STOP failed or was refused).
    case connectionFailed = 203
    /// The target of a CONNECT has no reservation on the relay.
    case noReservation = 204
    /// The request did not decode or lacked a required field.
    case malformedMessage = 400
    /// The message was not the one the protocol expects at this point.
    case unexpectedMessage = 401

    /// The spec's name (`RESOURCE_LIMIT_EXCEEDED`, …).
    public var description: String {
        switch self {
        case .ok: "OK"
        case .reservationRefused: "RESERVATION_REFUSED"
        case .resourceLimitExceeded: "RESOURCE_LIMIT_EXCEEDED"
        case .permissionDenied: "PERMISSION_DENIED"
        case .connectionFailed: "CONNECTION_FAILED"
        case .noReservation: "NO_RESERVATION"
        case .malformedMessage: "MALFORMED_MESSAGE"
        case .unexpectedMessage: "UNEXPECTED_MESSAGE"
        }
    }

    var protobuf: Circuit_Pb_Status {
        Circuit_Pb_Status(rawValue: rawValue) ?? .unused
    }

    init?(_ protobuf: Circuit_Pb_Status) {
        self.init(rawValue: protobuf.rawValue)
    }
}

/// The protocol IDs of circuit relay v2.
public enum RelayProtocolID {
    /// The hop protocol: clients to the relay (RESERVE, CONNECT).
    public static let hop = "/libp2p/circuit/relay/0.2.0/hop"
    /// The stop protocol: the relay to the target of a circuit.
    public static let stop = "/libp2p/circuit/relay/0.2.0/stop"
}
