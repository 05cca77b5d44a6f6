/// The key algorithms of libp2p identities (`KeyType` in `crypto.proto`).
public enum KeyType: Int, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// RSA, PKCS#1 v1.5 signatures over SHA-256; 2048 to 8192 bits.
    case rsa = 0
    /// Ed25519 (RFC 8032).
    case ed25519 = 1
    /// ECDSA on secp256k1 over SHA-256, DER signatures.
    case secp256k1 = 2
    /// ECDSA on NIST P-256 (or P-384, P-521) over SHA-256, DER signatures.
    case ecdsa = 3

    /// The name libp2p uses for this key type.
    public var description: String {
        switch self {
        case .rsa: "RSA"
        case .ed25519: "Ed25519"
        case .secp256k1: "secp256k1"
        case .ecdsa: "ECDSA"
        }
    }
}

/// Why a key could not be decoded or used.
public enum KeyError: Error, Equatable, Hashable, Sendable {
    /// The `PublicKey`/`PrivateKey` protobuf is malformed or lacks a required field.
    case malformedEncoding
    /// The encoding is longer than any supported key.
    case encodingTooLong(Int)
    /// The type-specific key bytes are not a valid key of that type.
    case invalidKeyData(KeyType)
    /// An RSA key outside the 2048–8192-bit range libp2p accepts.
    case rsaKeySizeOutOfRange(bits: Int)
    /// The private key's embedded public key does not match the one derived from it.
    case inconsistentKeyPair(KeyType)
    /// The cryptographic library refused to sign.
    case signingFailed(KeyType)
}

/// Limits on key encodings (an 8192-bit RSA key's DER form is about 2.4 KiB).
enum KeyEncodingLimits {
    static let maximumPublicKeyEncoding = 2048
    static let maximumPrivateKeyEncoding = 8192
    static let minimumRSABits = 2048
    static let maximumRSABits = 8192
}
