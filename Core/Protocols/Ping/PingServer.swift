/// The listening side of `/ipfs/ping/1.0.0`: echoes every 32-byte payload, and half-closes
/// once the peer half-closed and every echo was handed out.
///
/// It holds at most one partial payload, and echoes waiting for the owner to write them up
/// to `maximumPendingBytes`; `receiveCapacity` tells the owner how much more it takes.
public struct PingServer: StreamProtocolMachine {
    public typealias Event = PingServerEvent

    /// Echoing payloads as they complete.
    private struct Echoing {
        /// The bytes of the payload being received (fewer than 32).
        var partial: [UInt8] = []
    }

    private enum State {
        case echoing(Echoing)
        /// The peer half-closed after whole payloads; the echoes drain, then the close.
        case finished
        case failed
    }

    /// The most echo bytes held for the owner to write.
    public let maximumPendingBytes: Int

    private var state: State = .echoing(Echoing())
    private var outbound: [UInt8] = []
    private var events: [PingServerEvent] = []
    /// Payloads echoed so far.
    public private(set) var echoedPayloadCount = 0

    /// A server holding at most `maximumPendingBytes` of unwritten echoes (1 KiB, 32 pings,
    /// by default).
    ///
    /// - Throws: `PingUsageError.invalidConfiguration` for a limit under one payload.
    public init(maximumPendingBytes: Int = 1024) throws(PingUsageError) {
        guard maximumPendingBytes >= PingProtocol.payloadLength else {
            throw .invalidConfiguration("maximumPendingBytes must hold one 32-byte payload")
        }
        self.maximumPendingBytes = maximumPendingBytes
        outbound.reserveCapacity(maximumPendingBytes)
    }

    /// Bytes taken now: the room left for echoes, less the partial payload held.
    public var receiveCapacity: Int {
        guard case .echoing(let phase) = state else { return 0 }
        return max(0, maximumPendingBytes - outbound.count - phase.partial.count)
    }

    /// Feeds bytes from the peer; each completed 32-byte payload is queued as its echo.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard case .echoing(var phase) = state else {
            if case .finished = state { fail(.unexpectedBytes) }
            return
        }
        guard bytes.count <= receiveCapacity else {
            fail(.bufferLimitExceeded)
            return
        }
        for index in bytes.indices {
            phase.partial.append(bytes[index])
            if phase.partial.count == PingProtocol.payloadLength {
                outbound.append(contentsOf: phase.partial)
                phase.partial.removeAll(keepingCapacity: true)
                echoedPayloadCount += 1
            }
        }
        state = .echoing(phase)
    }

    /// The peer half-closed: after whole payloads the server finishes (reporting
    /// `finished`); in the middle of one it fails with `truncatedPayload`.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .echoing(let phase) = state else { return }
        guard phase.partial.isEmpty else {
            fail(.truncatedPayload(receivedBytes: phase.partial.count))
            return
        }
        state = .finished
        events.append(.finished(echoedPayloads: echoedPayloadCount))
    }

    /// Does nothing: the server has no timer (the owner bounds idle streams).
    public mutating func handleTimeout(now: Instant) {}

    /// Appends the echoes queued and returns how many bytes; 0 when none.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count
        guard count > 0 else { return 0 }
        buffer.append(contentsOf: outbound)
        outbound.removeAll(keepingCapacity: true)
        return count
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> PingServerEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Always `nil`.
    public var nextDeadline: Instant? { nil }

    /// True once the peer half-closed and every echo was handed out.
    public var wantsToCloseWrite: Bool {
        if case .finished = state { outbound.isEmpty } else { false }
    }

    private mutating func fail(_ error: PingError) {
        state = .failed
        outbound.removeAll()
        events.append(.failed(error))
    }
}

/// What a `PingServer` reports.
public enum PingServerEvent: Equatable, Hashable, Sendable {
    /// The peer half-closed after this many payloads; the owner half-closes once the
    /// echoes are written (`wantsToCloseWrite`).
    case finished(echoedPayloads: Int)
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(PingError)
}
