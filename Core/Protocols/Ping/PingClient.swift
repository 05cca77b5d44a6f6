/// The dialing side of `/ipfs/ping/1.0.0`: sends 32 random bytes, expects the same 32 bytes
/// back, and reports the round-trip time. Several pings run one after another on the same
/// stream; `finish()` asks the owner to half-close it.
///
/// ```
/// > 32 random bytes          ping(now:using:)
/// < the same 32 bytes        → roundTrip(now − sent)
/// ```
///
/// A ping unanswered after `timeout` fails with `.timeout` (via `nextDeadline`).
public struct PingClient: StreamProtocolMachine {
    public typealias Event = PingClientEvent

    /// Ready for the next ping.
    private struct Idle {}

    /// A payload was sent; its echo is arriving.
    private struct AwaitingEcho {
        var payload: [UInt8]
        /// How many bytes of the echo matched so far.
        var matched: Int
        var sentAt: Instant
        var deadline: Instant
        /// `finish()` was called while this ping was in flight: finish after its echo.
        var finishAfterEcho = false
    }

    private enum State {
        case idle(Idle)
        case awaitingEcho(AwaitingEcho)
        /// `finish()` was called: no more pings; the owner half-closes the stream.
        case finished
        /// The peer closed its side, or the machine failed.
        case closed
    }

    /// How long an echo may take before the ping fails.
    public let timeout: Duration

    private var state: State = .idle(Idle())
    private var outbound: [UInt8] = []
    private var events: [PingClientEvent] = []

    /// A client whose pings fail after `timeout` (10 s by default).
    ///
    /// - Throws: `PingUsageError.invalidConfiguration` for a timeout that is not positive.
    public init(timeout: Duration = .seconds(10)) throws(PingUsageError) {
        guard timeout > .zero else { throw .invalidConfiguration("timeout must be positive") }
        self.timeout = timeout
    }

    /// Whether a ping may be sent now (none in flight, stream open).
    public var isReady: Bool {
        if case .idle = state { true } else { false }
    }

    /// Sends a ping: 32 bytes from `generator`, timed from `now`.
    ///
    /// - Throws: `PingUsageError.pingInFlight` while the previous ping is unanswered,
    ///   `.closed` after `finish()`, a failure, or the peer's half-close.
    public mutating func ping(now: Instant, using generator: inout some RandomNumberGenerator) throws(PingUsageError) {
        switch state {
        case .idle:
            var payload = [UInt8](repeating: 0, count: PingProtocol.payloadLength)
            for index in payload.indices { payload[index] = UInt8.random(in: .min ... .max, using: &generator) }
            outbound.append(contentsOf: payload)
            state = .awaitingEcho(
                AwaitingEcho(payload: payload, matched: 0, sentAt: now, deadline: now + timeout))
        case .awaitingEcho:
            throw .pingInFlight
        case .finished, .closed:
            throw .closed
        }
    }

    /// Ends the session: no more pings. The owner half-closes the stream once
    /// `wantsToCloseWrite` is true (at once, or after the echo of the ping in flight).
    public mutating func finish() {
        switch state {
        case .idle:
            state = .finished
        case .awaitingEcho(var phase):
            // Keep waiting for the echo; the close follows it.
            phase.finishAfterEcho = true
            state = .awaitingEcho(phase)
        case .finished, .closed:
            return
        }
    }

    /// Feeds echoed bytes, compared with the payload in flight as they arrive.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        var offset = 0
        while offset < bytes.count {
            switch state {
            case .idle, .finished:
                fail(.unexpectedBytes)
                return
            case .closed:
                return
            case .awaitingEcho(var phase):
                while offset < bytes.count && phase.matched < phase.payload.count {
                    guard bytes[offset] == phase.payload[phase.matched] else {
                        fail(.mismatch)
                        return
                    }
                    offset += 1
                    phase.matched += 1
                }
                if phase.matched == phase.payload.count {
                    events.append(.roundTrip(now - phase.sentAt))
                    state = phase.finishAfterEcho ? .finished : .idle(Idle())
                } else {
                    state = .awaitingEcho(phase)
                }
            }
        }
    }

    /// The peer half-closed: a ping in flight fails with `.closed`; otherwise (unless this
    /// side finished first) the stream can carry no more pings, reported as `.closed` too.
    public mutating func receiveEndOfStream(now: Instant) {
        switch state {
        case .idle, .awaitingEcho:
            fail(.closed)
        case .finished, .closed:
            return
        }
    }

    /// Fails the ping in flight with `.timeout` once its deadline has passed.
    public mutating func handleTimeout(now: Instant) {
        guard case .awaitingEcho(let phase) = state, now >= phase.deadline else { return }
        fail(.timeout)
    }

    /// Appends the payload of a new ping (32 bytes) and returns how many bytes; 0 when none.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count
        guard count > 0 else { return 0 }
        buffer.append(contentsOf: outbound)
        outbound.removeAll(keepingCapacity: true)
        return count
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> PingClientEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// The deadline of the ping in flight.
    public var nextDeadline: Instant? {
        if case .awaitingEcho(let phase) = state { phase.deadline } else { nil }
    }

    /// True after `finish()` once no echo is outstanding.
    public var wantsToCloseWrite: Bool {
        if case .finished = state { true } else { false }
    }

    /// Unlimited: the client compares bytes as they arrive and buffers none.
    public var receiveCapacity: Int { .max }

    private mutating func fail(_ error: PingError) {
        state = .closed
        outbound.removeAll()
        events.append(.failed(error))
    }
}

/// What a `PingClient` reports.
public enum PingClientEvent: Equatable, Hashable, Sendable {
    /// The echo of the last ping arrived this long after the ping was sent.
    case roundTrip(Duration)
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(PingError)
}
