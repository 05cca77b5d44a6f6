/// The side of identify that writes the message: the peer asked with `/ipfs/id/1.0.0`
/// (it answers), or this side pushes with `/ipfs/id/push/1.0.0` (it opened the stream).
/// It queues its framed message at once, reports `sent` when the owner has drained it,
/// and then wants the stream half-closed.
///
/// The other side only reads: bytes from it fail the stream with `unexpectedBytes`.
public struct IdentifyResponder: StreamProtocolMachine {
    public typealias Event = IdentifyResponderEvent

    private enum State {
        case sending
        /// Everything was handed out: the owner half-closes.
        case sent
        case failed
    }

    private var state: State = .sending
    private var outbound: [UInt8] = []
    private var events: [IdentifyResponderEvent] = []

    /// A writer of `info`, whose observed address is replaced by `observedAddress` (the
    /// address this side sees the peer at on this connection, if any).
    ///
    /// - Throws: `IdentifyUsageError.messageTooLong` when the message cannot fit in
    ///   `maximumPartLength`-byte parts.
    public init(info: IdentifyInfo, observedAddress: Multiaddr?, maximumPartLength: Int = 8192) throws(IdentifyUsageError) {
        var info = info
        info.observedAddress = observedAddress
        try info.encode(into: &outbound, maximumPartLength: maximumPartLength)
    }

    /// Bytes from the peer, who should send none: the stream fails with `unexpectedBytes`.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0 else { return }
        switch state {
        case .sending, .sent: fail(.unexpectedBytes)
        case .failed: return
        }
    }

    /// The peer half-closed (it has nothing to say): nothing changes.
    public mutating func receiveEndOfStream(now: Instant) {}

    /// Does nothing: the writer has no timer.
    public mutating func handleTimeout(now: Instant) {}

    /// Appends the framed message and returns its length; 0 afterwards.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        guard case .sending = state else { return 0 }
        let count = outbound.count
        buffer.append(contentsOf: outbound)
        outbound = []
        state = .sent
        events.append(.sent)
        return count
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> IdentifyResponderEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Always `nil`.
    public var nextDeadline: Instant? { nil }

    /// True once the message was handed out.
    public var wantsToCloseWrite: Bool {
        if case .sent = state { true } else { false }
    }

    /// Unlimited: received bytes are a violation, never buffered.
    public var receiveCapacity: Int { .max }

    private mutating func fail(_ error: IdentifyError) {
        state = .failed
        outbound = []
        events.append(.failed(error))
    }
}

/// What an `IdentifyResponder` reports.
public enum IdentifyResponderEvent: Equatable, Hashable, Sendable {
    /// The message was handed out; the owner half-closes the stream once it is written.
    case sent
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(IdentifyError)
}
