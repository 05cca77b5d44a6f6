/// A libp2p peer ID: the multihash of the peer's encoded public key
/// (`shared/specs/peer-ids/peer-ids.md`).
///
/// Encoded keys of at most 42 bytes (Ed25519, secp256k1) are inlined with the identity
/// multihash, so the key can be recovered from the ID; longer ones (RSA, ECDSA) are hashed
/// with SHA-256. The text form is base58btc; CIDv1 (`libp2p-key`, base32) is parsed too.
public struct PeerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The binary form: a multihash.
    public let bytes: [UInt8]

    /// Encoded keys up to this length are inlined (identity multihash).
    public static let maximumInlineKeyLength = 42
    /// The multicodec of `libp2p-key` in CIDv1 peer IDs.
    static let libp2pKeyCodec: UInt64 = 0x72
    /// Longest text form accepted: far above any real peer ID, bounding base58 decoding.
    static let maximumTextLength = 256

    /// The peer ID of a public key given in its protobuf encoding (`PublicKey` message).
    public init(encodedPublicKey: [UInt8]) {
        let code: Multihash.Code = encodedPublicKey.count <= Self.maximumInlineKeyLength ? .identity : .sha2_256
        bytes = Multihash(hashing: encodedPublicKey, with: code).bytes
    }

    /// Parses the binary form (a multihash: identity of at most 42 bytes, or SHA-256).
    public init(bytes: Span<UInt8>) throws(PeerIDError) {
        let multihash: Multihash
        do {
            multihash = try Multihash(bytes: bytes)
        } catch {
            throw .invalidMultihash(error)
        }
        if multihash.code == .identity && multihash.digest.count > Self.maximumInlineKeyLength {
            throw .inlineKeyTooLong(multihash.digest.count)
        }
        self.bytes = multihash.bytes
    }

    /// Parses the binary form (a multihash: identity of at most 42 bytes, or SHA-256).
    public init(bytes: [UInt8]) throws(PeerIDError) {
        try self.init(bytes: bytes.span)
    }

    /// Parses the text form: base58btc (`12D3KooW…`, `Qm…`, `16Uiu2…`) or a CIDv1 with the
    /// `libp2p-key` codec in multibase base32 (`bafzaa…`).
    public init(_ text: some StringProtocol) throws(PeerIDError) {
        guard !text.isEmpty, text.utf8.count <= Self.maximumTextLength else { throw .invalidText }
        if text.hasPrefix("1") || text.hasPrefix("Qm") {
            guard let decoded = Base58.decode(text, maximumLength: Self.maximumTextLength) else {
                throw .invalidText
            }
            try self.init(bytes: decoded)
            return
        }
        guard text.hasPrefix("b") || text.hasPrefix("B"),
              let cid = Base32.decode(text.dropFirst())
        else { throw .invalidText }
        var offset = 0
        let version: UInt64
        let codec: UInt64
        do {
            version = try Varint.decode(cid.span, at: &offset)
            codec = try Varint.decode(cid.span, at: &offset)
        } catch {
            throw .invalidText
        }
        guard version == 1 else { throw .unsupportedCIDVersion(version) }
        guard codec == Self.libp2pKeyCodec else { throw .wrongCIDCodec(codec) }
        try self.init(bytes: Array(cid[offset...]))
    }

    /// The base58btc text form.
    public var description: String { Base58.encode(bytes) }

    /// The CIDv1 text form (multibase base32, codec `libp2p-key`).
    public var cidString: String {
        var cid: [UInt8] = [0x01]
        Varint.encode(Self.libp2pKeyCodec, into: &cid)
        cid.append(contentsOf: bytes)
        return "b" + Base32.encode(cid)
    }

    /// The protobuf-encoded public key inlined in this ID, when it uses the identity multihash.
    public var inlinedPublicKey: [UInt8]? {
        guard let multihash = try? Multihash(bytes: bytes.span), multihash.code == .identity else {
            return nil
        }
        return multihash.digest
    }

    /// Whether `encodedPublicKey` (a protobuf `PublicKey`) is the key this ID names.
    public func matches(encodedPublicKey: [UInt8]) -> Bool {
        PeerID(encodedPublicKey: encodedPublicKey) == self
    }

    /// Orders peer IDs by their binary form.
    public static func < (lhs: PeerID, rhs: PeerID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// Why bytes or text are not a peer ID.
public enum PeerIDError: Error, Equatable, Hashable, Sendable {
    /// The bytes are not an acceptable multihash.
    case invalidMultihash(MultihashError)
    /// An identity multihash longer than 42 bytes (longer keys must be hashed).
    case inlineKeyTooLong(Int)
    /// The text is neither base58btc nor multibase base32, or is empty or too long.
    case invalidText
    /// A CID whose version is not 1.
    case unsupportedCIDVersion(UInt64)
    /// A CID whose codec is not `libp2p-key` (0x72).
    case wrongCIDCodec(UInt64)
}
