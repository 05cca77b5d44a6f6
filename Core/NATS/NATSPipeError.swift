/// Why a pipe failed.
public enum NATSPipeError: Error, Hashable, Sendable {
    /// The peer refused the OPEN (`RESET` with `refused`).
    case refused
    /// The peer reset the pipe.
    case remoteReset(NATSPipeResetCode)
    /// No ACCEPT within `openTimeout`.
    case openTimeout
    /// No frame from the peer within `idleTimeout`.
    case idleTimeout
    /// Frames of the peer are missing: the next frame (or the count in its WINDOW) says
    /// `received` where `expected` was due. NATS dropped them (a slow consumer).
    case sequenceGap(expected: UInt64, received: UInt64)
    /// A frame the pipe already had, or a WINDOW counting fewer frames than arrived.
    case duplicateFrame(expected: UInt64, received: UInt64)
    /// The peer sent past the credit this side granted.
    case flowControlViolation(limit: UInt64, received: UInt64)
    /// A frame the pipe's state does not allow (its type).
    case unexpectedFrame(String)
    /// A window of 0 in OPEN or ACCEPT.
    case invalidWindow
    /// DATA after the peer's CLOSE.
    case dataAfterClose
    /// The connection to the NATS server ended.
    case transportClosed
}

extension NATSPipeError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .refused: "pipe refused by the peer"
        case .remoteReset(let code): "pipe reset by the peer (\(code))"
        case .openTimeout: "pipe not accepted in time"
        case .idleTimeout: "pipe idle: nothing from the peer in time"
        case .sequenceGap(let expected, let received): "pipe frames lost: expected \(expected), got \(received)"
        case .duplicateFrame(let expected, let received): "pipe frame duplicated: expected \(expected), got \(received)"
        case .flowControlViolation(let limit, let received): "peer sent \(received) bytes past a credit of \(limit)"
        case .unexpectedFrame(let type): "unexpected \(type) frame"
        case .invalidWindow: "window of 0 bytes"
        case .dataAfterClose: "DATA after CLOSE"
        case .transportClosed: "NATS connection closed"
        }
    }
}

/// Local misuse of a pipe: the command was refused and nothing changed.
public enum NATSPipeUsageError: Error, Hashable, Sendable {
    /// The pipe ended (closed, reset or failed).
    case closed
    /// `closeWrite` was called before.
    case writeClosed
    /// No such pipe (never opened, or already ended and removed).
    case unknownPipe(NATSPipeID)
    /// `maximumPipes` (or `maximumPipesPerPeer` for this peer) are open.
    case tooManyPipes
    /// A pipe to this node itself.
    case openToSelf
    /// The NATS connection is not ready (no PONG yet, or not subscribed).
    case notConnected
}

extension NATSPipeUsageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .closed: "pipe closed"
        case .writeClosed: "pipe closed for writing"
        case .unknownPipe(let id): "no pipe \(id)"
        case .tooManyPipes: "too many pipes"
        case .openToSelf: "a pipe to this node itself"
        case .notConnected: "NATS not connected"
        }
    }
}
