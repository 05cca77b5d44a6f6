/// The bounds an identify reader applies to what a peer sends. The spec sets none; these
/// follow go-libp2p (8 KiB per message, at most 10 parts) and keep every list small.
public struct IdentifyLimits: Hashable, Sendable {
    /// The longest message part, in bytes (go-libp2p: 8 KiB).
    public var maximumPartLength: Int
    /// The most length-prefixed parts merged into one message (go-libp2p: 10).
    public var maximumParts: Int
    /// The most bytes read from the stream in total, prefixes included.
    public var maximumTotalLength: Int
    /// The most protocols listed.
    public var maximumProtocols: Int
    /// The most listen addresses listed (valid or not).
    public var maximumListenAddresses: Int
    /// The longest protocol name, protocol version and agent version, in UTF-8 bytes.
    public var maximumStringLength: Int

    /// Limits with go-libp2p's message bounds and small lists by default.
    public init(
        maximumPartLength: Int = 8192, maximumParts: Int = 10, maximumTotalLength: Int = 64 * 1024,
        maximumProtocols: Int = 256, maximumListenAddresses: Int = 128, maximumStringLength: Int = 1024
    ) {
        self.maximumPartLength = maximumPartLength
        self.maximumParts = maximumParts
        self.maximumTotalLength = maximumTotalLength
        self.maximumProtocols = maximumProtocols
        self.maximumListenAddresses = maximumListenAddresses
        self.maximumStringLength = maximumStringLength
    }
}
