/// Why a NATS connection ended (the reason in `NATSClientEvent.closed`).
public enum NATSClientError: Error, Hashable, Sendable {
    /// The server sent a fatal `-ERR`.
    case server(NATSServerError)
    /// The server's bytes broke the protocol.
    case protocolViolation(NATSProtocolError)
    /// No INFO and PONG within `connectTimeout`.
    case connectTimeout
    /// `maximumOutstandingPings` keepalive PINGs went unanswered.
    case staleConnection
    /// The server wants TLS, which this client does not speak.
    case tlsRequired
    /// The server made the client queue more than `maximumPendingOutput` bytes of replies.
    case pendingOutputExceeded
    /// The socket closed (`transportClosed`).
    case transportClosed
}

extension NATSClientError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .server(let error): error.description
        case .protocolViolation(let error): error.description
        case .connectTimeout: "NATS: no INFO and PONG from the server in time"
        case .staleConnection: "NATS: keepalive PINGs unanswered"
        case .tlsRequired: "NATS: the server requires TLS"
        case .pendingOutputExceeded: "NATS: too much output queued for the server"
        case .transportClosed: "NATS: connection to the server closed"
        }
    }
}

/// Local misuse of a `NATSClient`: the command was refused and the client is unchanged.
public enum NATSClientUsageError: Error, Hashable, Sendable {
    /// The server's INFO has not arrived yet.
    case notConnected
    /// The connection is closed.
    case closed
    /// The subject (or queue group, or reply subject) is empty, too long, has blanks or
    /// control characters, empty tokens, or wildcards where none are allowed.
    case invalidSubject(String)
    /// The payload is larger than the server's `max_payload`; nothing was sent.
    case payloadTooLarge(size: Int, maximum: Int)
    /// The message does not fit in the output limit now; retry after `pollTransmit` drained
    /// (a `writable` event follows).
    case outputFull
    /// `maximumSubscriptions` are active.
    case tooManySubscriptions
    /// No such subscription.
    case unknownSubscription(NATSSubscriptionID)
}

extension NATSClientUsageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notConnected: "NATS: not connected yet"
        case .closed: "NATS: connection closed"
        case .invalidSubject(let subject): "NATS: invalid subject \"\(subject)\""
        case .payloadTooLarge(let size, let maximum): "NATS: payload of \(size) bytes over the server's maximum of \(maximum)"
        case .outputFull: "NATS: output full"
        case .tooManySubscriptions: "NATS: too many subscriptions"
        case .unknownSubscription(let id): "NATS: no subscription \(id)"
        }
    }
}

/// What a `NATSClient` reports.
public enum NATSClientEvent: Hashable, Sendable {
    /// The server answered the first PING after CONNECT: the connection is usable.
    case connected(NATSServerInfo)
    /// The server sent a new INFO after connecting (cluster changes, lame-duck mode).
    case infoUpdated(NATSServerInfo)
    /// A message for an active subscription.
    case message(NATSMessage)
    /// A message over `maximumMessagePayload` was skipped.
    case messageDropped(subject: String, subscription: NATSSubscriptionID, size: Int)
    /// A non-fatal `-ERR` (invalid subject, permissions violation).
    case error(NATSServerError)
    /// Output drained after a `publish` was refused with `outputFull`.
    case writable
    /// The connection ended: `nil` when closed locally, else the reason. The last event.
    case closed(NATSClientError?)
}
