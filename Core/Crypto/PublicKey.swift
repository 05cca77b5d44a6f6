import FoundationEssentials
import SwiftProtobuf

/// A libp2p public key: the key of a peer's identity, which its peer ID names.
///
/// `data` holds the type's key bytes as libp2p encodes them: Ed25519 32 raw bytes;
/// secp256k1 the 33-byte compressed point; RSA and ECDSA PKIX (SubjectPublicKeyInfo) DER.
public struct PublicKey: Hashable, Sendable {
    /// The key algorithm.
    public let type: KeyType
    /// The key bytes in libp2p's encoding for `type`.
    public let data: [UInt8]

    /// Checks `data` for `type` and creates the key. secp256k1 keys given uncompressed are
    /// stored compressed, as go-libp2p re-encodes them.
    public init(type: KeyType, data: [UInt8]) throws(KeyError) {
        self.type = type
        switch type {
        case .ed25519:
            guard data.count == Ed25519.publicKeyLength else { throw .invalidKeyData(type) }
            self.data = data
        case .secp256k1:
            guard let compressed = Secp256k1.compressedPublicKey(parsing: data) else { throw .invalidKeyData(type) }
            self.data = compressed
        case .ecdsa:
            guard ECDSAKeys.curve(ofPublicKey: data) != nil else { throw .invalidKeyData(type) }
            self.data = data
        case .rsa:
            guard let bits = RSAKeys.keySize(ofPublicKey: data) else { throw .invalidKeyData(type) }
            guard (KeyEncodingLimits.minimumRSABits...KeyEncodingLimits.maximumRSABits).contains(bits) else {
                throw .rsaKeySizeOutOfRange(bits: bits)
            }
            self.data = data
        }
    }

    /// Decodes the protobuf `PublicKey` message (`crypto.proto`).
    public init(protobufEncoding bytes: [UInt8]) throws(KeyError) {
        guard bytes.count <= KeyEncodingLimits.maximumPublicKeyEncoding else {
            throw .encodingTooLong(bytes.count)
        }
        let message: Crypto_Pb_PublicKey
        do {
            // Decoded as partial: a missing `Type` means its default, RSA (0). py-libp2p leaves
            // it out of the key it embeds in signed envelopes; rust-libp2p reads it the same way.
            message = try Crypto_Pb_PublicKey(serializedBytes: bytes, partial: true)
        } catch {
            throw .malformedEncoding
        }
        try self.init(message)
    }

    /// Converts a decoded message, whose `Data` must be present.
    init(_ message: Crypto_Pb_PublicKey) throws(KeyError) {
        guard message.hasData else { throw .malformedEncoding }
        // A `Type` outside the enum lands in the unknown fields; it is not a default RSA key.
        guard message.hasType || message.unknownFields.data.isEmpty else { throw .malformedEncoding }
        try self.init(type: KeyType(message.type), data: [UInt8](message.data))
    }

    /// The deterministic protobuf `PublicKey` encoding: the bytes a peer ID hashes and that
    /// identify, Noise and signed envelopes carry.
    public var protobufEncoding: [UInt8] {
        var message = Crypto_Pb_PublicKey()
        message.type = Crypto_Pb_KeyType(type)
        message.data = .init(data)
        // Serialising a message whose required fields are set cannot fail.
        return (try? message.serializedBytes()) ?? []
    }

    /// The peer ID of this key.
    public var peerID: PeerID { PeerID(encodedPublicKey: protobufEncoding) }

    /// Whether `signature` is this key's signature of `message`.
    public func verify(signature: [UInt8], for message: Span<UInt8>) -> Bool {
        switch type {
        case .ed25519: Ed25519.verify(signature: signature, message: message, publicKey: data)
        case .secp256k1: Secp256k1.verify(signature: signature, message: message, publicKey: data)
        case .ecdsa: ECDSAKeys.verify(signature: signature, message: message, publicKey: data)
        case .rsa: RSAKeys.verify(signature: signature, message: message, publicKey: data)
        }
    }

    /// Whether `signature` is this key's signature of `message`.
    public func verify(signature: [UInt8], for message: [UInt8]) -> Bool {
        verify(signature: signature, for: message.span)
    }
}

extension PeerID {
    /// The public key inlined in this peer ID (Ed25519 and secp256k1 IDs carry it), or `nil`
    /// for hashed IDs (RSA, ECDSA) and IDs whose inlined bytes are not a valid key.
    public var publicKey: PublicKey? {
        guard let encoded = inlinedPublicKey else { return nil }
        return try? PublicKey(protobufEncoding: encoded)
    }
}

extension KeyType {
    init(_ type: Crypto_Pb_KeyType) {
        switch type {
        case .rsa: self = .rsa
        case .ed25519: self = .ed25519
        case .secp256K1: self = .secp256k1
        case .ecdsa: self = .ecdsa
        }
    }
}

extension Crypto_Pb_KeyType {
    init(_ type: KeyType) {
        switch type {
        case .rsa: self = .rsa
        case .ed25519: self = .ed25519
        case .secp256k1: self = .secp256K1
        case .ecdsa: self = .ecdsa
        }
    }
}
