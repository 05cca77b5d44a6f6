/// A Yamux stream ID: odd for streams the client opens, even for the server's.
public struct YamuxStreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 32-bit ID on the wire.
    public let rawValue: UInt32

    /// The stream with this wire ID.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static func < (lhs: YamuxStreamID, rhs: YamuxStreamID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "stream \(rawValue)" }
}

/// What a Yamux session reports to its owner.
public enum YamuxEvent: Equatable, Sendable {
    /// The peer opened a stream (it has been acknowledged).
    case inboundStream(YamuxStreamID)
    /// Data arrived on a stream whose buffer was empty: `read` returns it.
    case readable(YamuxStreamID)
    /// A stream that could not take all of a write can take more now.
    case writable(YamuxStreamID)
    /// The peer will send no more on this stream (FIN); buffered data remains readable.
    case remoteClosedWrite(YamuxStreamID)
    /// The peer reset the stream; its buffered data is gone.
    case reset(YamuxStreamID)
    /// Both directions have closed and the stream's data has been read: the stream is gone.
    case streamClosed(YamuxStreamID)
    /// A ping's reply arrived after this round-trip time.
    case roundTripTime(Duration)
    /// The peer sent GoAway: it will accept no new streams. Existing streams carry on.
    case goAwayReceived(YamuxGoAwayCode)
    /// The session ended; every stream with it. Nothing follows this event.
    case sessionClosed(YamuxCloseReason)
}

/// Why a Yamux session ended.
public enum YamuxCloseReason: Equatable, Sendable {
    /// The local side closed the session.
    case localClose
    /// The peer broke the protocol (a GoAway with the protocol-error code was sent).
    case protocolViolation(YamuxProtocolError)
    /// A keepalive ping went unanswered for the ping timeout.
    case keepaliveTimeout
}

/// Protocol violations by the peer. Each ends the session.
public enum YamuxProtocolError: Error, Equatable, Hashable, Sendable {
    /// A header whose version is not 0.
    case unsupportedVersion(UInt8)
    /// A frame type other than 0–3.
    case unknownFrameType(UInt8)
    /// A Data or WindowUpdate frame on stream 0.
    case streamFrameOnSessionID(UInt8)
    /// A Ping or GoAway frame on a stream other than 0.
    case sessionFrameOnStreamID(UInt8, UInt32)
    /// A SYN with a stream ID of this side's parity, or not above the peer's last one.
    case invalidStreamID(UInt32)
    /// A SYN for a stream that is open.
    case duplicateStream(UInt32)
    /// More data than the stream's receive window allowed.
    case receiveWindowExceeded(UInt32)
    /// A window update that overflows the send window.
    case sendWindowOverflow(UInt32)
    /// Data after the peer's FIN on the same stream.
    case dataAfterFin(UInt32)
    /// More ping requests than `maximumPendingPingReplies` while our replies were not read.
    case pingFlood
}

/// Misuse of a Yamux session by its owner. The session is unchanged.
public enum YamuxUsageError: Error, Equatable, Hashable, Sendable {
    /// The session has closed.
    case sessionClosed
    /// The peer sent GoAway: no new streams.
    case remoteGoingAway
    /// `maximumStreams` streams are open.
    case tooManyStreams
    /// `maximumAckBacklog` opened streams await the peer's ACK.
    case ackBacklogFull
    /// Every stream ID of this side's parity has been used.
    case streamIDsExhausted
    /// No such stream (never opened, or already closed or reset).
    case unknownStream(YamuxStreamID)
    /// The local side already closed this stream for writing.
    case writeAfterClose(YamuxStreamID)
}

/// What `read` found on a stream.
public enum YamuxReadResult: Equatable, Sendable {
    /// This many bytes were appended to the destination.
    case bytes(Int)
    /// Nothing buffered now; a `readable` event will follow.
    case wouldBlock
    /// The peer closed its side and every byte has been read.
    case endOfStream
}
