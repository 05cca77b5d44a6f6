/// An error the NATS server reported with `-ERR '<message>'`.
///
/// The protocol splits them in two: most end the connection (the server closes it right
/// after sending them), while an invalid subject and a permissions violation leave it open.
/// `isFatal` says which; a message this client does not know counts as fatal, as the
/// official clients treat it.
public enum NATSServerError: Error, Hashable, Sendable {
    case unknownProtocolOperation
    case attemptedToConnectToRoutePort
    case authorizationViolation
    case authorizationTimeout
    case invalidClientProtocol
    case maximumControlLineExceeded
    case parserError
    case secureConnectionTLSRequired
    case staleConnection
    case maximumConnectionsExceeded
    case slowConsumer
    case maximumPayloadViolation
    /// Non-fatal: a subject the server rejects (`sub foo. 1`).
    case invalidSubject
    /// Non-fatal: the account may not publish or subscribe to a subject; the text is the
    /// server's (it names the subject).
    case permissionsViolation(String)
    /// Any other message, verbatim (at most `maximumMessageLength` bytes); fatal.
    case other(String)

    /// The longest `-ERR` text kept (longer ones are truncated).
    public static let maximumMessageLength = 256

    /// Whether the server closes the connection after this error.
    public var isFatal: Bool {
        switch self {
        case .invalidSubject, .permissionsViolation: false
        default: true
        }
    }

    /// The error for the text of an `-ERR` line (without `-ERR`; quotes and surrounding
    /// blanks are removed here, the comparison ignores case).
    public init(message raw: String) {
        var text = Substring(raw).drop { $0 == " " || $0 == "\t" }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        if text.count >= 2, text.first == "'", text.last == "'" { text = text.dropFirst().dropLast() }
        let message = String(text.prefix(Self.maximumMessageLength))
        let lowered = message.lowercased()
        let known: [(String, NATSServerError)] = [
            ("unknown protocol operation", .unknownProtocolOperation),
            ("attempted to connect to route port", .attemptedToConnectToRoutePort),
            ("authorization violation", .authorizationViolation),
            ("authorization timeout", .authorizationTimeout),
            ("invalid client protocol", .invalidClientProtocol),
            ("maximum control line exceeded", .maximumControlLineExceeded),
            ("parser error", .parserError),
            ("secure connection - tls required", .secureConnectionTLSRequired),
            ("stale connection", .staleConnection),
            ("maximum connections exceeded", .maximumConnectionsExceeded),
            ("slow consumer", .slowConsumer),
            ("maximum payload violation", .maximumPayloadViolation),
            ("invalid subject", .invalidSubject),
        ]
        if let match = known.first(where: { $0.0 == lowered }) {
            self = match.1
        } else if lowered.hasPrefix("permissions violation") {
            self = .permissionsViolation(message)
        } else {
            self = .other(message)
        }
    }
}

extension NATSServerError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unknownProtocolOperation: "NATS server: unknown protocol operation"
        case .attemptedToConnectToRoutePort: "NATS server: attempted to connect to route port"
        case .authorizationViolation: "NATS server: authorization violation"
        case .authorizationTimeout: "NATS server: authorization timeout"
        case .invalidClientProtocol: "NATS server: invalid client protocol"
        case .maximumControlLineExceeded: "NATS server: maximum control line exceeded"
        case .parserError: "NATS server: parser error"
        case .secureConnectionTLSRequired: "NATS server: secure connection, TLS required"
        case .staleConnection: "NATS server: stale connection"
        case .maximumConnectionsExceeded: "NATS server: maximum connections exceeded"
        case .slowConsumer: "NATS server: slow consumer"
        case .maximumPayloadViolation: "NATS server: maximum payload violation"
        case .invalidSubject: "NATS server: invalid subject"
        case .permissionsViolation(let text): "NATS server: \(text)"
        case .other(let text): "NATS server error: \(text)"
        }
    }
}

/// Why the bytes a NATS server sent could not be parsed: a protocol violation that ends
/// the connection.
public enum NATSProtocolError: Error, Hashable, Sendable {
    /// No line end within the control line limit.
    case controlLineTooLong(limit: Int)
    /// A line ended with a bare `\n`, or a payload was not followed by `\r\n`.
    case missingCarriageReturn
    /// An operation this client does not know (the first word of the line, truncated).
    case unknownOperation(String)
    /// `HMSG`: headers were not asked for in CONNECT.
    case unexpectedHeaders
    /// An operation before the server's INFO (its name).
    case unexpectedOperation(String)
    /// The arguments of an operation do not parse (the operation's name).
    case malformedArguments(String)
    /// The INFO JSON does not decode, or has values out of range.
    case malformedInfo
    /// A control line that is not UTF-8 where text is expected.
    case invalidText
}

extension NATSProtocolError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .controlLineTooLong(let limit): "NATS protocol: control line longer than \(limit) bytes"
        case .missingCarriageReturn: "NATS protocol: line not ended by CRLF"
        case .unknownOperation(let name): "NATS protocol: unknown operation \"\(name)\""
        case .unexpectedHeaders: "NATS protocol: HMSG although headers were not requested"
        case .unexpectedOperation(let name): "NATS protocol: \(name) before INFO"
        case .malformedArguments(let operation): "NATS protocol: malformed \(operation) arguments"
        case .malformedInfo: "NATS protocol: malformed INFO"
        case .invalidText: "NATS protocol: control line is not UTF-8"
        }
    }
}
