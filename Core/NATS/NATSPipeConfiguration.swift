/// Settings and limits of one `NATSPipe`.
public struct NATSPipeConfiguration: Hashable, Sendable {
    /// The receive window: the most bytes this side buffers for its reader, and the credit
    /// it grants the peer in OPEN/ACCEPT and WINDOW frames (at most `UInt32.max`).
    public var receiveWindow: UInt32 = 256 * 1024
    /// The largest DATA payload sent (also bounded by the server's `max_payload` less the
    /// frame header).
    public var maximumFramePayload: Int = 60 * 1024
    /// The most bytes `write` holds before they go out as DATA (they are within the peer's
    /// credit too).
    public var maximumSendBuffer: Int = 256 * 1024
    /// OPEN to ACCEPT. Shorter than the connection's handshake timeout (10 s), so that a
    /// pipe nobody accepts fails as such (`openTimeout`), not as a handshake that timed out.
    public var openTimeout: Duration = .seconds(5)
    /// The longest time without a frame from the peer before the pipe fails.
    public var idleTimeout: Duration = .seconds(30)
    /// After this long without sending, a WINDOW frame goes out as a keepalive (it also
    /// repeats the credit and tells the peer how many frames were sent, so lost frames show).
    public var keepaliveInterval: Duration = .seconds(10)

    /// The defaults.
    public init() {}
}

/// What `NATSPipe.read` found.
public enum NATSPipeReadResult: Hashable, Sendable {
    /// This many bytes were appended to the destination.
    case bytes(Int)
    /// Nothing buffered now; a `readable` event will follow.
    case wouldBlock
    /// The peer closed its side and every byte has been read.
    case endOfStream
}
