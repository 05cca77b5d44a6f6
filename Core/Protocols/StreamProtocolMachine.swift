/// A machine that runs an application protocol on one stream of a connection (ping, perf,
/// echo, identify, …), after multistream-select chose the protocol.
///
/// The owner shuttles bytes between the stream and the machine:
/// - bytes read from the stream go to `receive(_:now:)`, at most `receiveCapacity` at a time;
/// - the end of the peer's side (its half-close) goes to `receiveEndOfStream(now:)`;
/// - bytes from `pollTransmit(into:)` are written to the stream, and once `pollTransmit`
///   returns 0 and `wantsToCloseWrite` is true, the owner half-closes the stream;
/// - a `failed` event (a violation by the peer) makes the owner reset the stream.
///
/// Backpressure: a machine that echoes what it reads (ping and echo servers) holds its
/// pending output in a bounded buffer. Its `receiveCapacity` says how many more bytes it
/// takes; the owner reads no more than that from the stream, so the rest waits in the
/// stream's receive window and the peer is slowed down by flow control. Bytes past the
/// capacity fail the machine (`bufferLimitExceeded`) rather than grow its buffer.
public protocol StreamProtocolMachine: ByteStreamMachine {
    /// The peer half-closed its side of the stream: no more bytes will arrive.
    mutating func receiveEndOfStream(now: Instant)

    /// Whether the owner should half-close the stream once `pollTransmit` returns 0.
    var wantsToCloseWrite: Bool { get }

    /// How many bytes `receive` accepts now; `Int.max` for a machine whose limits are the
    /// protocol's own (a longer message is then the peer's violation).
    var receiveCapacity: Int { get }
}

/// The protocol IDs of the stream protocols, as multistream-select negotiates them.
public enum StreamProtocolID {
    /// Ping: 32-byte payloads echoed back.
    public static let ping = "/ipfs/ping/1.0.0"
    /// Identify: the responder sends its identify message and closes.
    public static let identify = "/ipfs/id/1.0.0"
    /// Identify push: the opener sends its identify message and closes.
    public static let identifyPush = "/ipfs/id/push/1.0.0"
    /// Perf: an upload, then a download of the size the client asked for.
    public static let perf = "/perf/1.0.0"
    /// Traverse's echo: the server writes back what it reads until the client half-closes.
    public static let echo = "/traverse/echo/1.0.0"
    /// DCUtR: the peer that accepted a relayed connection opens it to coordinate a hole
    /// punch (`HolePunchInitiator`, `HolePunchResponder`).
    public static let dcutr = "/libp2p/dcutr"
}

/// Limits shared by the stream protocol machines.
public enum StreamProtocolLimits {
    /// The most bytes the bulk machines (perf, echo) append per `pollTransmit` call, so an
    /// owner writing into a flow-controlled stream is handed output in bounded pieces.
    public static let transmitChunk = 256 * 1024
}
