/// Limits and options shared by `MultistreamDialer` and `MultistreamListener`.
///
/// The defaults follow go-multistream, the strictest widely deployed implementation: it
/// rejects any message longer than 1024 bytes (the length counts the trailing `\n`).
public struct MultistreamConfiguration: Equatable, Hashable, Sendable {
    /// The longest message accepted from the peer, in bytes, counting the trailing `\n` but
    /// not the length prefix. A longer declared length fails the negotiation with
    /// `MultistreamError.messageTooLong` as soon as the prefix is read, so the machine never
    /// buffers more than this plus a varint. Default 1024, as in go-multistream.
    public var maximumMessageLength: Int

    /// The longest protocol name, in UTF-8 bytes. Default 1023: the longest name a
    /// 1024-byte message can carry, so any name go-multistream accepts is accepted here.
    ///
    /// Local names above it make `init` throw. A received proposal above it cannot name a
    /// supported protocol, so the listener answers `na` (the peer may then try another).
    /// rust-libp2p is reported to cap names at 140 bytes; keep local names shorter than
    /// that to talk to it.
    public var maximumProtocolNameLength: Int

    /// How many messages (proposals and `ls` requests) the listener answers on one stream
    /// before it gives up with `MultistreamError.tooManyProposals`, so a peer cannot keep a
    /// stream negotiating forever. Default 32.
    public var maximumProposals: Int

    /// Whether a dialer with exactly one protocol negotiates optimistically (rust-libp2p's
    /// `V1Lazy`, go-multistream's lazy client): it reports the protocol selected at once, so
    /// the owner can send protocol data right behind the proposal without waiting a round
    /// trip, and verifies the listener's answer later. Default `true`.
    public var optimisticNegotiation: Bool

    /// A configuration with the given limits (defaults as documented on each property).
    public init(
        maximumMessageLength: Int = 1024,
        maximumProtocolNameLength: Int = 1023,
        maximumProposals: Int = 32,
        optimisticNegotiation: Bool = true
    ) {
        self.maximumMessageLength = maximumMessageLength
        self.maximumProtocolNameLength = maximumProtocolNameLength
        self.maximumProposals = maximumProposals
        self.optimisticNegotiation = optimisticNegotiation
    }

    /// The largest `maximumMessageLength` a configuration may set (1 MiB): enough for any
    /// `ls` answer, small enough that a peer cannot make a stream hold more.
    public static let largestMaximumMessageLength = 1 << 20

    /// The longest name that both limits allow.
    var effectiveProtocolNameLimit: Int {
        min(maximumProtocolNameLength, maximumMessageLength - 1)
    }

    /// Throws when a limit makes negotiation impossible or unbounded.
    func validate() throws(MultistreamUsageError) {
        guard maximumMessageLength >= MultistreamMessage.header.count + 1,
              maximumMessageLength <= Self.largestMaximumMessageLength
        else {
            throw .invalidConfiguration(
                "maximumMessageLength must be in \(MultistreamMessage.header.count + 1)...\(Self.largestMaximumMessageLength)")
        }
        guard maximumProtocolNameLength >= 1 else {
            throw .invalidConfiguration("maximumProtocolNameLength must be at least 1")
        }
        guard maximumProposals >= 1 else {
            throw .invalidConfiguration("maximumProposals must be at least 1")
        }
    }
}
