/// Why a relay stream machine failed: a violation by the peer, or time.
public enum RelayStreamError: Error, Hashable, Sendable {
    /// The peer's message did not decode (answered with `MALFORMED_MESSAGE` where this side
    /// answers).
    case malformedMessage(RelayMessageError)
    /// The peer's message was not one expected here (answered with `UNEXPECTED_MESSAGE`
    /// where this side answers).
    case unexpectedMessage
    /// The peer's message did not arrive in time.
    case timeout
    /// The peer ended the stream before its message was complete.
    case endOfStream(bufferedBytes: Int)
    /// The peer sent more than `RelayMessageReader.maximumTrailingBytes` after its message
    /// before it was answered.
    case trailingBytesExceeded
}

/// Local misuse of a relay stream machine: a command in the wrong phase or with a value it
/// cannot send. The machine is unchanged.
public enum RelayUsageError: Error, Hashable, Sendable {
    /// The machine is not waiting for this decision.
    case notAwaitingDecision
    /// `refuse` was given `OK`.
    case okIsNotARefusal
}

/// The steps every relay stream machine shares: read one length-prefixed message with a
/// deadline, hold what follows it, queue output and events.
struct RelayMessageExchange<Event>: Sendable where Event: Sendable {
    var reader = RelayMessageReader()
    var outbound: [UInt8] = []
    var events: [Event] = []
    var deadline: Instant?

    init(now: Instant, timeout: Duration?) {
        deadline = timeout.map { now + $0 }
    }

    /// Feeds bytes; returns the message payload once it is complete, or the error.
    mutating func append(_ bytes: Span<UInt8>) -> Result<[UInt8]?, RelayStreamError> {
        do {
            return .success(try reader.append(bytes))
        } catch .trailingBytesExceeded {
            return .failure(.trailingBytesExceeded)
        } catch {
            return .failure(.malformedMessage(error))
        }
    }

    mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count
        guard count > 0 else { return 0 }
        buffer.append(contentsOf: outbound)
        outbound.removeAll()
        return count
    }

    mutating func pollEvent() -> Event? {
        events.isEmpty ? nil : events.removeFirst()
    }
}
