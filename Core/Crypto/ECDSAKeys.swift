import Crypto
import FoundationEssentials

/// ECDSA on the NIST curves through swift-crypto, as libp2p encodes it: public keys in PKIX
/// (SubjectPublicKeyInfo) DER, private keys in SEC 1 DER, DER signatures over SHA-256 of the
/// message whatever the curve. go-libp2p generates P-256 keys; P-384 and P-521 keys are
/// accepted because its decoder accepts them.
enum ECDSAKeys {
    enum Curve: Sendable { case p256, p384, p521 }

    /// The curve of a PKIX DER public key, or `nil` if it is not a NIST-curve key.
    static func curve(ofPublicKey der: [UInt8]) -> Curve? {
        if (try? P256.Signing.PublicKey(derRepresentation: der)) != nil { return .p256 }
        if (try? P384.Signing.PublicKey(derRepresentation: der)) != nil { return .p384 }
        if (try? P521.Signing.PublicKey(derRepresentation: der)) != nil { return .p521 }
        return nil
    }

    /// The PKIX DER public key of a SEC 1 (or PKCS #8) DER private key.
    static func publicKey(ofPrivateKey der: [UInt8]) -> [UInt8]? {
        if let key = try? P256.Signing.PrivateKey(derRepresentation: der) { return Array(key.publicKey.derRepresentation) }
        if let key = try? P384.Signing.PrivateKey(derRepresentation: der) { return Array(key.publicKey.derRepresentation) }
        if let key = try? P521.Signing.PrivateKey(derRepresentation: der) { return Array(key.publicKey.derRepresentation) }
        return nil
    }

    /// A DER signature of SHA-256(`message`). ECDSA nonces come from the system's secure
    /// random source inside swift-crypto.
    static func sign(_ message: Span<UInt8>, privateKey der: [UInt8]) -> [UInt8]? {
        let digest = message.sha256Digest
        if let key = try? P256.Signing.PrivateKey(derRepresentation: der) {
            return (try? key.signature(for: digest)).map { Array($0.derRepresentation) }
        }
        if let key = try? P384.Signing.PrivateKey(derRepresentation: der) {
            return (try? key.signature(for: digest)).map { Array($0.derRepresentation) }
        }
        if let key = try? P521.Signing.PrivateKey(derRepresentation: der) {
            return (try? key.signature(for: digest)).map { Array($0.derRepresentation) }
        }
        return nil
    }

    /// Whether `signature` (DER) signs SHA-256(`message`) for the PKIX DER public key.
    static func verify(signature: [UInt8], message: Span<UInt8>, publicKey der: [UInt8]) -> Bool {
        let digest = message.sha256Digest
        if let key = try? P256.Signing.PublicKey(derRepresentation: der) {
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        }
        if let key = try? P384.Signing.PublicKey(derRepresentation: der) {
            guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        }
        if let key = try? P521.Signing.PublicKey(derRepresentation: der) {
            guard let parsed = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        }
        return false
    }
}
