/// The client side of `/traverse/echo/1.0.0`: sends `byteCount` bytes, half-closes, checks
/// that the same bytes come back, and reports the count and the elapsed time.
///
/// The bytes repeat one random pattern of a prime length (4093 bytes), so a reordered or
/// shifted echo does not match; the upload is produced lazily, at most
/// `StreamProtocolLimits.transmitChunk` bytes per `pollTransmit`.
public struct EchoClient: StreamProtocolMachine {
    public typealias Event = EchoClientEvent

    private struct Running {
        var sent: UInt64 = 0
        var received: UInt64 = 0
    }

    private enum State {
        case running(Running)
        case finished
        case failed
    }

    /// Bytes to send and expect back.
    public let byteCount: UInt64
    /// When the exchange started.
    public let startedAt: Instant
    /// When the exchange fails if unfinished, or `nil` for no limit.
    public let deadline: Instant?

    private static let patternLength = 4093
    private let pattern: [UInt8]
    private var state: State = .running(Running())
    private var events: [EchoClientEvent] = []

    /// An exchange of `byteCount` bytes starting at `now`, failing with `timeout` if it
    /// has not finished after `timeout` (no limit when `nil`).
    public init(
        byteCount: UInt64, now: Instant, timeout: Duration? = nil,
        using generator: inout some RandomNumberGenerator
    ) {
        self.byteCount = byteCount
        self.startedAt = now
        self.deadline = timeout.map { now + $0 }
        var pattern = [UInt8](repeating: 0, count: Self.patternLength)
        for index in pattern.indices { pattern[index] = UInt8.random(in: .min ... .max, using: &generator) }
        self.pattern = pattern
    }

    /// Checks echoed bytes against those sent.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard case .running(var phase) = state else {
            if case .finished = state, bytes.count > 0 { fail(.unexpectedBytes) }
            return
        }
        for index in bytes.indices {
            guard phase.received < phase.sent else {
                fail(.unexpectedBytes)
                return
            }
            guard bytes[index] == pattern[Int(phase.received % UInt64(Self.patternLength))] else {
                fail(.mismatch(offset: phase.received))
                return
            }
            phase.received += 1
        }
        state = .running(phase)
    }

    /// The server's end of stream: done if everything came back.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .running(let phase) = state else { return }
        guard phase.received == byteCount else {
            fail(.truncated(received: phase.received, expected: byteCount))
            return
        }
        state = .finished
        events.append(.finished(byteCount: byteCount, elapsed: now - startedAt))
    }

    /// Fails with `timeout` once the deadline has passed.
    public mutating func handleTimeout(now: Instant) {
        guard case .running = state, let deadline, now >= deadline else { return }
        fail(.timeout)
    }

    /// Appends the next piece of the bytes to send and returns how many; 0 when none.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        guard case .running(var phase) = state, phase.sent < byteCount else { return 0 }
        let count = Int(min(byteCount - phase.sent, UInt64(StreamProtocolLimits.transmitChunk)))
        var left = count
        while left > 0 {
            let start = Int(phase.sent % UInt64(Self.patternLength))
            let piece = min(left, Self.patternLength - start)
            buffer.append(contentsOf: pattern[start..<(start + piece)])
            phase.sent += UInt64(piece)
            left -= piece
        }
        state = .running(phase)
        return count
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> EchoClientEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// The deadline while the exchange runs.
    public var nextDeadline: Instant? {
        if case .running = state { deadline } else { nil }
    }

    /// True once every byte was handed out.
    public var wantsToCloseWrite: Bool {
        if case .running(let phase) = state { phase.sent == byteCount } else { false }
    }

    /// Unlimited: echoed bytes are compared, not kept.
    public var receiveCapacity: Int { .max }

    private mutating func fail(_ error: EchoError) {
        state = .failed
        events.append(.failed(error))
    }
}

/// What an `EchoClient` reports.
public enum EchoClientEvent: Equatable, Hashable, Sendable {
    /// Every byte came back identical; `elapsed` runs from the start to the server's end of
    /// stream.
    case finished(byteCount: UInt64, elapsed: Duration)
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(EchoError)
}
