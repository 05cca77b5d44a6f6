import FoundationEssentials
import SwiftProtobuf

/// A libp2p private key: a node's identity.
///
/// `data` holds the type's key bytes as libp2p encodes them: Ed25519 the 32-byte seed
/// followed by the 32-byte public key; secp256k1 the 32-byte scalar; ECDSA SEC 1 DER; RSA
/// PKCS #1 DER. Every type can sign and verify; only Ed25519 and secp256k1 keys can be
/// generated here (from an injected random number generator).
public struct PrivateKey: Equatable, Sendable {
    /// The key algorithm.
    public let type: KeyType
    /// The key bytes in libp2p's encoding for `type`.
    public let data: [UInt8]
    /// The matching public key.
    public let publicKey: PublicKey

    /// Checks `data` for `type`, derives the public key, and creates the key.
    public init(type: KeyType, data: [UInt8]) throws(KeyError) {
        self.type = type
        switch type {
        case .ed25519:
            // 64 bytes is seed ‖ public key; go-libp2p once wrote the public key twice (96).
            guard data.count == 64 || data.count == 96 else { throw .invalidKeyData(type) }
            let seed = Array(data[0..<32])
            let derived = Ed25519.publicKey(seed: seed)
            guard Array(data[32..<64]) == derived else { throw .inconsistentKeyPair(type) }
            self.data = seed + derived
            publicKey = try PublicKey(type: .ed25519, data: derived)
        case .secp256k1:
            guard let derived = Secp256k1.publicKey(privateKey: data) else { throw .invalidKeyData(type) }
            self.data = data
            publicKey = try PublicKey(type: .secp256k1, data: derived)
        case .ecdsa:
            guard data.count <= KeyEncodingLimits.maximumPrivateKeyEncoding,
                  let derived = ECDSAKeys.publicKey(ofPrivateKey: data)
            else { throw .invalidKeyData(type) }
            self.data = data
            publicKey = try PublicKey(type: .ecdsa, data: derived)
        case .rsa:
            guard data.count <= KeyEncodingLimits.maximumPrivateKeyEncoding,
                  let derived = RSAKeys.publicKey(ofPrivateKey: data)
            else { throw .invalidKeyData(type) }
            guard (KeyEncodingLimits.minimumRSABits...KeyEncodingLimits.maximumRSABits).contains(derived.bits) else {
                throw .rsaKeySizeOutOfRange(bits: derived.bits)
            }
            self.data = data
            publicKey = try PublicKey(type: .rsa, data: derived.der)
        }
    }

    /// The Ed25519 key with this 32-byte seed.
    public init(ed25519Seed seed: [UInt8]) throws(KeyError) {
        guard seed.count == Ed25519.seedLength else { throw .invalidKeyData(.ed25519) }
        try self.init(type: .ed25519, data: seed + Ed25519.publicKey(seed: seed))
    }

    /// A new Ed25519 key whose seed is drawn from `generator` (pass a cryptographically
    /// secure generator such as `SecureRandomNumberGenerator` outside tests).
    public static func generateEd25519(using generator: inout some RandomNumberGenerator) -> PrivateKey {
        var seed = [UInt8](repeating: 0, count: Ed25519.seedLength)
        generator.fill(&seed)
        // A 32-byte seed is always a valid Ed25519 key.
        guard let key = try? PrivateKey(ed25519Seed: seed) else { preconditionFailure("Ed25519 seed rejected") }
        return key
    }

    /// A new secp256k1 key whose scalar is drawn from `generator`.
    public static func generateSecp256k1(using generator: inout some RandomNumberGenerator) -> PrivateKey {
        var scalar = [UInt8](repeating: 0, count: Secp256k1.privateKeyLength)
        while true {
            generator.fill(&scalar)
            // All but a negligible fraction of 32-byte strings are valid scalars.
            if let key = try? PrivateKey(type: .secp256k1, data: scalar) { return key }
        }
    }

    /// Decodes the protobuf `PrivateKey` message (`crypto.proto`).
    public init(protobufEncoding bytes: [UInt8]) throws(KeyError) {
        guard bytes.count <= KeyEncodingLimits.maximumPrivateKeyEncoding else {
            throw .encodingTooLong(bytes.count)
        }
        let message: Crypto_Pb_PrivateKey
        do {
            message = try Crypto_Pb_PrivateKey(serializedBytes: bytes)
        } catch {
            throw .malformedEncoding
        }
        try self.init(type: KeyType(message.type), data: [UInt8](message.data))
    }

    /// The deterministic protobuf `PrivateKey` encoding (what identity key files hold).
    public var protobufEncoding: [UInt8] {
        var message = Crypto_Pb_PrivateKey()
        message.type = Crypto_Pb_KeyType(type)
        message.data = .init(data)
        return (try? message.serializedBytes()) ?? []
    }

    /// The peer ID of this key's public key.
    public var peerID: PeerID { publicKey.peerID }

    /// This key's signature of `message` (Ed25519 and secp256k1 and RSA signatures are
    /// deterministic; ECDSA draws its nonce from the system's secure random source).
    public func sign(_ message: Span<UInt8>) throws(KeyError) -> [UInt8] {
        let signature: [UInt8]?
        switch type {
        case .ed25519: signature = Ed25519.sign(message, seed: Array(data[0..<32]))
        case .secp256k1: signature = Secp256k1.sign(message, privateKey: data)
        case .ecdsa: signature = ECDSAKeys.sign(message, privateKey: data)
        case .rsa: signature = RSAKeys.sign(message, privateKey: data)
        }
        guard let signature else { throw .signingFailed(type) }
        return signature
    }

    /// This key's signature of `message`.
    public func sign(_ message: [UInt8]) throws(KeyError) -> [UInt8] {
        try sign(message.span)
    }
}

extension RandomNumberGenerator {
    /// Fills `bytes` with random bytes from this generator.
    mutating func fill(_ bytes: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            var word = next()
            for _ in 0..<8 where index < bytes.count {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }
}
