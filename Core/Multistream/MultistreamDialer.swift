/// The dialer (initiator) side of multistream-select 1.0, as a sans-IO machine.
///
/// It sends `/multistream/1.0.0` and its first proposal in one write at once, checks the
/// listener's header, and proposes its protocols in order until the listener echoes one;
/// when the listener answers `na` to all of them, it fails with `noProtocolInCommon`.
///
/// With exactly one protocol and `optimisticNegotiation` on, it negotiates optimistically
/// (rust-libp2p's `V1Lazy`, go-multistream's lazy client): `protocolSelected` is pending
/// right after `init`, so the owner can drain `pollTransmit` and write protocol data behind
/// the proposal in the same packet. The listener's header and echo are checked as they
/// arrive (`negotiationComplete`); an `na` fails with `protocolRefused`.
///
/// ```
/// > /multistream/1.0.0\n/yamux/1.0.0\n      (one write)
/// < /multistream/1.0.0\n/yamux/1.0.0\n      (or na\n, and the dialer tries the next)
/// ```
///
/// The machine has no timer: the owner bounds the negotiation with its handshake deadline.
public struct MultistreamDialer: ByteStreamMachine {
    public typealias Event = MultistreamEvent

    /// Waiting for the listener's `/multistream/1.0.0`.
    private struct AwaitingHeader {
        /// The proposal sent and not yet answered.
        var proposal: Int
    }

    /// Waiting for the listener's answer (echo or `na`) to one proposal.
    private struct AwaitingAnswer {
        var proposal: Int
    }

    /// The listener echoed a proposal; the stream belongs to the protocol.
    private struct Negotiated {
        var protocolName: String
    }

    private enum State {
        case awaitingHeader(AwaitingHeader)
        case awaitingAnswer(AwaitingAnswer)
        case negotiated(Negotiated)
        case failed(MultistreamError)
    }

    /// The protocols proposed, in order of preference.
    public let protocols: [String]
    /// Whether this dialer negotiates optimistically (one protocol, option on).
    public let isOptimistic: Bool

    private let encodedProtocols: [[UInt8]]
    private var state: State
    private var reader: MultistreamMessageReader
    private var outputs = MultistreamOutputs()

    /// A dialer that proposes `protocols` in order.
    ///
    /// - Throws: `MultistreamUsageError.noProtocols` for an empty list,
    ///   `.invalidProtocolName` for a name that cannot be sent (empty, containing `\n`, not
    ///   starting with `/`, too long, or the header itself), `.invalidConfiguration` for
    ///   limits out of range.
    public init(
        protocols: [String], configuration: MultistreamConfiguration = .init()
    ) throws(MultistreamUsageError) {
        try configuration.validate()
        guard !protocols.isEmpty else { throw .noProtocols }
        for name in protocols {
            try MultistreamProtocolName.validateLocal(name, configuration: configuration)
        }
        self.protocols = protocols
        self.encodedProtocols = protocols.map { Array($0.utf8) }
        self.isOptimistic = configuration.optimisticNegotiation && protocols.count == 1
        self.reader = MultistreamMessageReader(maximumMessageLength: configuration.maximumMessageLength)
        self.state = .awaitingHeader(AwaitingHeader(proposal: 0))
        MultistreamMessage.encode(MultistreamMessage.header, into: &outputs.outbound)
        MultistreamMessage.encode(encodedProtocols[0], into: &outputs.outbound)
        if isOptimistic { outputs.events.append(.protocolSelected(protocols[0])) }
    }

    /// The protocol the listener confirmed, once `negotiationComplete` was reported.
    public var negotiatedProtocol: String? {
        if case .negotiated(let negotiated) = state { negotiated.protocolName } else { nil }
    }

    /// Bytes held for a multistream message whose end has not arrived; never more than
    /// `maximumMessageLength` plus a varint.
    public var bufferedByteCount: Int { reader.partial.count }

    /// Feeds bytes from the peer, in any chunking. Before completion it takes them one
    /// message at a time; after completion they are protocol data for
    /// `takeRemainingBytes()`; after a failure they are ignored.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        var offset = 0
        while offset < bytes.count {
            switch state {
            case .failed:
                return
            case .negotiated:
                // Protocol data: kept for `takeRemainingBytes()`.
                outputs.keepRemaining(bytes, from: &offset)
            case .awaitingHeader, .awaitingAnswer:
                let message: [UInt8]
                do {
                    guard let next = try reader.nextMessage(from: bytes, at: &offset) else { return }
                    message = next
                } catch {
                    fail(error)
                    return
                }
                handle(message)
            }
        }
    }

    /// Takes the bytes received after the listener's echo: the start of the protocol's data,
    /// often in the same read as the echo. Returns each byte once; empty before
    /// `negotiationComplete`. Bytes passed to `receive` after completion land here too.
    public mutating func takeRemainingBytes() -> [UInt8] {
        outputs.takeRemainingBytes()
    }

    /// Does nothing: the machine has no timer.
    public mutating func handleTimeout(now: Instant) {}

    /// Appends the multistream bytes queued for the wire and returns how many; 0 when none.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        outputs.pollTransmit(into: &buffer)
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> MultistreamEvent? {
        outputs.pollEvent()
    }

    /// Always `nil`: the owner applies its handshake deadline.
    public var nextDeadline: Instant? { nil }

    private mutating func handle(_ message: [UInt8]) {
        switch state {
        case .awaitingHeader(let phase):
            guard message == MultistreamMessage.header else {
                fail(.unsupportedHeader(MultistreamMessage.describe(message)))
                return
            }
            state = .awaitingAnswer(AwaitingAnswer(proposal: phase.proposal))
        case .awaitingAnswer(let phase):
            let name = protocols[phase.proposal]
            if message == encodedProtocols[phase.proposal] {
                state = .negotiated(Negotiated(protocolName: name))
                if !isOptimistic { outputs.events.append(.protocolSelected(name)) }
                outputs.events.append(.negotiationComplete(name))
            } else if message == MultistreamMessage.notAvailable {
                let next = phase.proposal + 1
                if isOptimistic {
                    fail(.protocolRefused(name))
                } else if next < protocols.count {
                    MultistreamMessage.encode(encodedProtocols[next], into: &outputs.outbound)
                    state = .awaitingAnswer(AwaitingAnswer(proposal: next))
                } else {
                    fail(.noProtocolInCommon)
                }
            } else {
                fail(.unexpectedMessage(MultistreamMessage.describe(message)))
            }
        case .negotiated, .failed:
            // `receive` hands no messages over in these phases.
            return
        }
    }

    private mutating func fail(_ error: MultistreamError) {
        state = .failed(error)
        outputs.events.append(.failed(error))
    }
}
