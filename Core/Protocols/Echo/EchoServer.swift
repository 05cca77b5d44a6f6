/// The server side of Traverse's `/traverse/echo/1.0.0`: writes back every byte it reads,
/// and half-closes once the client half-closed and everything was echoed.
///
/// Backpressure: unwritten echoes are held up to `maximumBufferedBytes`. `receiveCapacity`
/// is the room left; the owner reads no more than that from the stream, so a client that
/// writes faster than it reads is held back by the stream's flow control. Bytes past the
/// capacity fail the machine with `bufferLimitExceeded`.
public struct EchoServer: StreamProtocolMachine {
    public typealias Event = EchoServerEvent

    private enum State {
        case echoing
        /// The client half-closed; the echoes drain, then the close.
        case finished
        case failed
    }

    /// The most unwritten echo bytes held.
    public let maximumBufferedBytes: Int

    private var state: State = .echoing
    private var pending = ByteBuffer()
    private var events: [EchoServerEvent] = []
    /// Bytes echoed (received) so far.
    public private(set) var echoedByteCount: UInt64 = 0

    /// A server holding at most `maximumBufferedBytes` (1 MiB by default) of unwritten echoes.
    ///
    /// - Throws: `EchoUsageError.invalidConfiguration` for a limit that is not positive.
    public init(maximumBufferedBytes: Int = 1 << 20) throws(EchoUsageError) {
        guard maximumBufferedBytes > 0 else {
            throw .invalidConfiguration("maximumBufferedBytes must be positive")
        }
        self.maximumBufferedBytes = maximumBufferedBytes
    }

    /// Bytes taken now: the room left in the echo buffer (0 after the client's end of stream).
    public var receiveCapacity: Int {
        guard case .echoing = state else { return 0 }
        return max(0, maximumBufferedBytes - pending.readableCount)
    }

    /// Queues `bytes` to be echoed.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0 else { return }
        switch state {
        case .echoing:
            guard bytes.count <= receiveCapacity else {
                fail(.bufferLimitExceeded)
                return
            }
            pending.append(bytes)
            echoedByteCount &+= UInt64(bytes.count)
        case .finished:
            fail(.unexpectedBytes)
        case .failed:
            return
        }
    }

    /// The client half-closed: report `finished` and half-close after the last echo.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .echoing = state else { return }
        state = .finished
        events.append(.finished(echoedBytes: echoedByteCount))
    }

    /// Does nothing: the server has no timer (the owner bounds idle streams).
    public mutating func handleTimeout(now: Instant) {}

    /// Appends up to `StreamProtocolLimits.transmitChunk` echo bytes and returns how many;
    /// 0 when none. Hands its storage over instead of copying when `buffer` is empty.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        guard case .failed = state else {
            return pending.read(into: &buffer, maximum: StreamProtocolLimits.transmitChunk)
        }
        return 0
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> EchoServerEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Always `nil`.
    public var nextDeadline: Instant? { nil }

    /// True once the client half-closed and every echo was handed out.
    public var wantsToCloseWrite: Bool {
        if case .finished = state { pending.isEmpty } else { false }
    }

    private mutating func fail(_ error: EchoError) {
        state = .failed
        pending.removeAll()
        events.append(.failed(error))
    }
}

/// What an `EchoServer` reports.
public enum EchoServerEvent: Equatable, Hashable, Sendable {
    /// The client half-closed after sending this many bytes; the owner half-closes once
    /// they are all written (`wantsToCloseWrite`).
    case finished(echoedBytes: UInt64)
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(EchoError)
}
