/// Why an echo stream failed: a violation by the peer (or an owner reading past the
/// server's backpressure limit). Reported in a `failed` event; the owner resets the stream.
public enum EchoError: Error, Equatable, Hashable, Sendable {
    /// More bytes arrived than `receiveCapacity` allowed.
    case bufferLimitExceeded
    /// Bytes arrived after the peer's end of stream, or more than were sent came back.
    case unexpectedBytes
    /// The bytes that came back differ from those sent (at this offset).
    case mismatch(offset: UInt64)
    /// The server closed its side before echoing everything.
    case truncated(received: UInt64, expected: UInt64)
    /// The echo did not complete within the configured timeout.
    case timeout
}

/// Local misuse of an echo machine: thrown by its initialiser, never caused by the peer.
public enum EchoUsageError: Error, Equatable, Hashable, Sendable {
    /// A configuration value is out of range (the text says which).
    case invalidConfiguration(String)
}
