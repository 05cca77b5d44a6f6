/// A subscription's identifier (the `sid` of SUB and MSG), chosen by the client and never
/// reused on one connection.
public struct NATSSubscriptionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number on the wire.
    public let rawValue: UInt64

    /// The identifier `rawValue`.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// A message the server delivered (`MSG <subject> <sid> [reply-to] <#bytes>`).
public struct NATSMessage: Hashable, Sendable {
    /// The subject it was published to.
    public var subject: String
    /// The subscription it was delivered for.
    public var subscription: NATSSubscriptionID
    /// The reply subject the publisher gave, if any.
    public var replyTo: String?
    /// The payload.
    public var payload: [UInt8]

    /// A message with the given fields.
    public init(subject: String, subscription: NATSSubscriptionID, replyTo: String? = nil, payload: [UInt8]) {
        self.subject = subject
        self.subscription = subscription
        self.replyTo = replyTo
        self.payload = payload
    }
}

/// One operation from a NATS server, as `NATSServerOperationParser` reads it.
public enum NATSServerOperation: Hashable, Sendable {
    /// `INFO {json}`.
    case info(NATSServerInfo)
    /// `MSG …` and its payload.
    case message(NATSMessage)
    /// A MSG whose payload is over the parser's payload limit: its bytes were skipped, not kept.
    case oversizedMessage(subject: String, subscription: NATSSubscriptionID, size: Int)
    /// `PING`: answer with PONG.
    case ping
    /// `PONG`.
    case pong
    /// `+OK` (only in verbose mode).
    case ok
    /// `-ERR '<message>'`.
    case error(NATSServerError)
}
