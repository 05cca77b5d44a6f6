/// The listener (responder) side of multistream-select 1.0, as a sans-IO machine.
///
/// It sends `/multistream/1.0.0` at once, without waiting for the dialer's, checks the
/// dialer's header, and answers each proposal with its echo (the protocol is selected and
/// the negotiation complete) or `na`, and each `ls` with the list of its protocols. After
/// `maximumProposals` answers it gives up with `tooManyProposals`.
///
/// ```
/// < /multistream/1.0.0\n               (sent at once)
/// > /multistream/1.0.0\n/a\n           < na\n
/// > /b\n                               < /b\n   → protocolSelected, negotiationComplete
/// ```
///
/// Bytes after the proposal it accepts (an optimistic dialer's protocol data, often in the
/// same read) are returned by `takeRemainingBytes()`. The machine has no timer: the owner
/// bounds the negotiation with its handshake deadline.
public struct MultistreamListener: ByteStreamMachine {
    public typealias Event = MultistreamEvent

    /// Waiting for the dialer's proposals (the dialer's header has arrived).
    private struct AwaitingProposal {
        /// Proposals and `ls` requests answered so far.
        var answered: Int
    }

    /// A proposal was echoed; the stream belongs to the protocol.
    private struct Negotiated {
        var protocolName: String
    }

    private enum State {
        case awaitingHeader
        case awaitingProposal(AwaitingProposal)
        case negotiated(Negotiated)
        case failed(MultistreamError)
    }

    /// The protocols this side accepts, in the order `ls` lists them.
    public let supportedProtocols: [String]

    private let encodedProtocols: [[UInt8]]
    private let configuration: MultistreamConfiguration
    private var state: State = .awaitingHeader
    private var reader: MultistreamMessageReader
    private var outputs = MultistreamOutputs()

    /// A listener that accepts `supportedProtocols` (possibly none: it then answers `na` to
    /// every proposal).
    ///
    /// - Throws: `MultistreamUsageError.invalidProtocolName` for a name that cannot be sent,
    ///   `.invalidConfiguration` for limits out of range.
    public init(
        supportedProtocols: [String], configuration: MultistreamConfiguration = .init()
    ) throws(MultistreamUsageError) {
        try configuration.validate()
        for name in supportedProtocols {
            try MultistreamProtocolName.validateLocal(name, configuration: configuration)
        }
        self.supportedProtocols = supportedProtocols
        self.encodedProtocols = supportedProtocols.map { Array($0.utf8) }
        self.configuration = configuration
        self.reader = MultistreamMessageReader(maximumMessageLength: configuration.maximumMessageLength)
        MultistreamMessage.encode(MultistreamMessage.header, into: &outputs.outbound)
    }

    /// The protocol this side echoed, once `negotiationComplete` was reported.
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
                outputs.keepRemaining(bytes, from: &offset)
            case .awaitingHeader, .awaitingProposal:
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

    /// Takes the bytes received after the accepted proposal: the start of the protocol's
    /// data (an optimistic dialer sends it in the same packet). Returns each byte once;
    /// empty before `negotiationComplete`. Bytes passed to `receive` after completion land
    /// here too.
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
        case .awaitingHeader:
            guard message == MultistreamMessage.header else {
                fail(.unsupportedHeader(MultistreamMessage.describe(message)))
                return
            }
            state = .awaitingProposal(AwaitingProposal(answered: 0))
        case .awaitingProposal(var phase):
            guard phase.answered < configuration.maximumProposals else {
                fail(.tooManyProposals)
                return
            }
            phase.answered += 1
            if message == MultistreamMessage.list {
                MultistreamMessage.encodeList(encodedProtocols, into: &outputs.outbound)
                state = .awaitingProposal(phase)
                return
            }
            let name: String
            do {
                name = try MultistreamProtocolName.decodeReceived(message)
            } catch {
                fail(.invalidProtocolName(error))
                return
            }
            if let index = encodedProtocols.firstIndex(of: message) {
                MultistreamMessage.encode(encodedProtocols[index], into: &outputs.outbound)
                state = .negotiated(Negotiated(protocolName: name))
                outputs.events.append(.protocolSelected(name))
                outputs.events.append(.negotiationComplete(name))
            } else {
                // Unknown names, including `na`, a repeated header and names over the
                // length limit (none of which can be supported), as go-multistream does.
                MultistreamMessage.encode(MultistreamMessage.notAvailable, into: &outputs.outbound)
                state = .awaitingProposal(phase)
            }
        case .negotiated, .failed:
            return
        }
    }

    private mutating func fail(_ error: MultistreamError) {
        state = .failed(error)
        outputs.events.append(.failed(error))
    }
}
