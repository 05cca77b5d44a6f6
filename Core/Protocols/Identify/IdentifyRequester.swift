/// The side of identify that reads the message: this side asked with `/ipfs/id/1.0.0`
/// (it opened the stream), or the peer pushes with `/ipfs/id/push/1.0.0`. It reads parts
/// until the peer's end of stream, merges them, checks them (`IdentifyMessageDecoder`) and
/// reports `received`. It sends nothing, so it wants its side closed from the start.
public struct IdentifyRequester: StreamProtocolMachine {
    public typealias Event = IdentifyRequesterEvent

    private enum State {
        case reading(IdentifyMessageDecoder)
        case received
        case failed
    }

    /// The peer whose key the message must carry, or `nil` to accept any.
    public let expectedPeer: PeerID?
    /// When reading fails with `timeout`, or `nil` for no limit.
    public let deadline: Instant?

    private var state: State
    private var events: [IdentifyRequesterEvent] = []

    /// A reader starting at `now`.
    ///
    /// - Parameters:
    ///   - expectedPeer: the connection's remote peer; a message whose public key names
    ///     another peer fails with `unexpectedPeer` (a message without a key is accepted).
    ///   - timeout: how long the message may take (30 s by default; `nil` for no limit).
    public init(
        now: Instant, expectedPeer: PeerID? = nil, limits: IdentifyLimits = .init(),
        timeout: Duration? = .seconds(30)
    ) {
        self.expectedPeer = expectedPeer
        self.deadline = timeout.map { now + $0 }
        state = .reading(IdentifyMessageDecoder(limits: limits))
    }

    /// Bytes held for a part whose end has not arrived.
    public var bufferedByteCount: Int {
        if case .reading(let decoder) = state { decoder.bufferedByteCount } else { 0 }
    }

    /// Feeds message bytes, in any chunking.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0 else { return }
        switch state {
        case .reading(var decoder):
            state = .failed
            do {
                try decoder.append(bytes)
            } catch {
                events.append(.failed(error))
                return
            }
            state = .reading(decoder)
        case .received:
            fail(.unexpectedBytes)
        case .failed:
            return
        }
    }

    /// The peer's end of stream: the message is complete; report it or why it is not valid.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .reading(let decoder) = state else { return }
        let info: IdentifyInfo
        do {
            info = try decoder.finish()
        } catch {
            fail(error)
            return
        }
        if let expectedPeer, let key = info.publicKey, key.peerID != expectedPeer {
            fail(.unexpectedPeer(key.peerID))
            return
        }
        state = .received
        events.append(.received(info))
    }

    /// Fails with `timeout` once the deadline has passed without a complete message.
    public mutating func handleTimeout(now: Instant) {
        guard case .reading = state, let deadline, now >= deadline else { return }
        fail(.timeout)
    }

    /// Always 0: the reader sends nothing.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int { 0 }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> IdentifyRequesterEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// The deadline while reading.
    public var nextDeadline: Instant? {
        if case .reading = state { deadline } else { nil }
    }

    /// True unless failed: the reader has nothing to send, so its side may close at once.
    public var wantsToCloseWrite: Bool {
        if case .failed = state { false } else { true }
    }

    /// Unlimited: the decoder's limits are the protocol's, and a longer message is the
    /// peer's violation.
    public var receiveCapacity: Int { .max }

    private mutating func fail(_ error: IdentifyError) {
        state = .failed
        events.append(.failed(error))
    }
}

/// What an `IdentifyRequester` reports.
public enum IdentifyRequesterEvent: Equatable, Sendable {
    /// The peer's message, checked.
    case received(IdentifyInfo)
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(IdentifyError)
}
