/// Why a ping stream failed: a violation by the peer, or a ping that went unanswered.
/// Reported in a `failed` event; the owner then resets the stream.
public enum PingError: Error, Equatable, Hashable, Sendable {
    /// The bytes echoed back differ from the payload sent.
    case mismatch
    /// No echo arrived within the configured timeout.
    case timeout
    /// The peer closed its side before echoing the payload in flight (or, to a client,
    /// at all: the stream can carry no more pings).
    case closed
    /// The peer closed its side in the middle of a 32-byte payload.
    case truncatedPayload(receivedBytes: Int)
    /// The peer sent bytes the protocol does not expect at this point (a client receiving
    /// bytes with no ping in flight).
    case unexpectedBytes
    /// More bytes arrived than `receiveCapacity` allowed: the owner read past the
    /// machine's backpressure limit.
    case bufferLimitExceeded
}

/// Local misuse of a ping machine: thrown by its commands, never caused by the peer. The
/// machine is left as it was.
public enum PingUsageError: Error, Equatable, Hashable, Sendable {
    /// A ping is already in flight; wait for its `roundTrip` (or failure) first.
    case pingInFlight
    /// The stream is finished, failed, or closed by the peer.
    case closed
    /// A configuration value is out of range (the text says which).
    case invalidConfiguration(String)
}

/// The ping protocol's constants.
public enum PingProtocol {
    /// The payload length: every ping is 32 random bytes.
    public static let payloadLength = 32
}
