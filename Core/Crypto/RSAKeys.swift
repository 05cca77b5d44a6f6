import Crypto
import _CryptoExtras
import FoundationEssentials

/// RSA through swift-crypto's `_CryptoExtras`, as libp2p encodes it: public keys in PKIX
/// DER, private keys in PKCS #1 DER, PKCS #1 v1.5 signatures over SHA-256. Keys must have
/// 2048 to 8192 bits, go-libp2p's range.
enum RSAKeys {
    /// The size in bits of a PKIX (or PKCS #1) DER public key, or `nil` if it is not RSA.
    static func keySize(ofPublicKey der: [UInt8]) -> Int? {
        (try? _RSA.Signing.PublicKey(unsafeDERRepresentation: der))?.keySizeInBits
    }

    /// The PKIX DER public key of a PKCS #1 (or PKCS #8) DER private key, with its size.
    static func publicKey(ofPrivateKey der: [UInt8]) -> (der: [UInt8], bits: Int)? {
        guard let key = try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der) else { return nil }
        return (Array(key.publicKey.derRepresentation), key.keySizeInBits)
    }

    /// The PKCS #1 v1.5 signature of SHA-256(`message`).
    static func sign(_ message: Span<UInt8>, privateKey der: [UInt8]) -> [UInt8]? {
        guard let key = try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der),
              let signature = try? key.signature(for: message.sha256Digest, padding: .insecurePKCS1v1_5)
        else { return nil }
        return Array(signature.rawRepresentation)
    }

    /// Whether `signature` is a PKCS #1 v1.5 signature of SHA-256(`message`) for the key.
    static func verify(signature: [UInt8], message: Span<UInt8>, publicKey der: [UInt8]) -> Bool {
        guard let key = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: der) else { return false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature),
            for: message.sha256Digest, padding: .insecurePKCS1v1_5)
    }
}
