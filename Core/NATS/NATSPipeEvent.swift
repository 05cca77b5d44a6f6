/// What a `NATSPipe` reports.
public enum NATSPipeEvent: Hashable, Sendable {
    /// The peer accepted (opener only): writes can start.
    case opened
    /// Bytes (or the end of the stream) arrived while nothing was buffered: read them.
    case readable
    /// A short write can be retried: the peer granted more credit.
    case writable
    /// The peer sent CLOSE: after the buffered bytes, `read` returns `endOfStream`.
    case remoteClosedWrite
    /// Both sides closed and every byte was read: the pipe is gone. The last event.
    case closed
    /// The pipe failed (a RESET went to the peer where it can be told). The last event.
    case failed(NATSPipeError)
}

/// A pipe's identifier in its router, never reused.
public struct NATSPipeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number.
    public let rawValue: UInt64

    /// The identifier `rawValue`.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "pipe \(rawValue)" }
}
