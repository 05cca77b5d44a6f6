/// The one shape of every machine that sits on a byte stream (multistream-select, Noise,
/// Yamux, the upgraded connection, relay hop/stop, DCUtR, …).
///
/// Inputs: bytes from the peer (`receive`), commands from the layer above (each machine's
/// own methods, all taking `now`), and `handleTimeout(now:)` at `nextDeadline`.
/// Outputs are drained, never called back: after every input the driver (or the owning
/// machine) drains `pollTransmit` until it returns 0, then `pollEvent` until `nil`, then
/// reads `nextDeadline`.
///
/// Errors are values, split by who is at fault:
/// - a violation by the remote peer closes the stream or the connection, surfaces as an
///   event carrying the reason, and never traps;
/// - misuse by the local caller (writing to a closed stream, say) is a typed error thrown
///   by the command, and leaves the machine as it was.
///
/// Payload data is not copied into events: an event says a stream is readable, and the
/// caller reads the bytes out with a command, so the hot path allocates nothing per frame.
public protocol ByteStreamMachine {
    /// What the machine reports to the layer above.
    associatedtype Event

    /// Feeds bytes received from the peer. The machine consumes all of them; everything it
    /// buffers is bounded by protocol windows and configured limits, and a peer that goes
    /// past them gets a protocol error, not memory.
    mutating func receive(_ bytes: Span<UInt8>, now: Instant)

    /// Lets the machine act on time: called when `now >= nextDeadline`.
    mutating func handleTimeout(now: Instant)

    /// Appends bytes that are ready for the wire to `buffer` and returns how many were
    /// appended; 0 means nothing is pending.
    mutating func pollTransmit(into buffer: inout [UInt8]) -> Int

    /// The next event for the layer above, or `nil` when there is none.
    mutating func pollEvent() -> Event?

    /// When the machine next wants `handleTimeout(now:)`, or `nil` if it has no timer.
    var nextDeadline: Instant? { get }
}
