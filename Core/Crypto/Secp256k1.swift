import CSecp256k1

/// ECDSA on secp256k1 through libsecp256k1, the way libp2p uses it: compressed 33-byte
/// public keys, 32-byte private keys, DER signatures over SHA-256 of the message.
enum Secp256k1 {
    /// A context for signing and verification. libsecp256k1 contexts are safe to share
    /// between threads for every operation that takes them as `const`, which is all we do.
    nonisolated(unsafe) static let context: OpaquePointer = {
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("secp256k1_context_create failed")
        }
        return context
    }()

    static let privateKeyLength = 32
    static let compressedPublicKeyLength = 33
    static let maximumSignatureLength = 72

    /// Parses a compressed (33-byte) or uncompressed (65-byte) public key and returns its
    /// compressed form, or `nil` if it is not a point on the curve.
    static func compressedPublicKey(parsing bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count == 33 || bytes.count == 65 else { return nil }
        var point = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(context, &point, bytes, bytes.count) == 1 else { return nil }
        return serializeCompressed(point)
    }

    /// The compressed public key of a 32-byte private key, or `nil` if the scalar is invalid.
    static func publicKey(privateKey: [UInt8]) -> [UInt8]? {
        guard privateKey.count == privateKeyLength,
              secp256k1_ec_seckey_verify(context, privateKey) == 1
        else { return nil }
        var point = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_create(context, &point, privateKey) == 1 else { return nil }
        return serializeCompressed(point)
    }

    /// The DER signature of SHA-256(`message`) (RFC 6979 deterministic nonce, low S).
    static func sign(_ message: Span<UInt8>, privateKey: [UInt8]) -> [UInt8]? {
        guard privateKey.count == privateKeyLength else { return nil }
        let digest = SHA256.hash(message)
        var signature = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_sign(context, &signature, digest, privateKey, nil, nil) == 1 else {
            return nil
        }
        var der = [UInt8](repeating: 0, count: maximumSignatureLength)
        var length = der.count
        guard secp256k1_ecdsa_signature_serialize_der(context, &der, &length, &signature) == 1 else {
            return nil
        }
        return Array(der.prefix(length))
    }

    /// Whether `signature` (DER) signs SHA-256(`message`) for the public key (33 or 65 bytes).
    /// High-S signatures are accepted, as go-libp2p does.
    static func verify(signature: [UInt8], message: Span<UInt8>, publicKey: [UInt8]) -> Bool {
        guard !signature.isEmpty, signature.count <= maximumSignatureLength + 8 else { return false }
        var point = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(context, &point, publicKey, publicKey.count) == 1 else { return false }
        var parsed = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_der(context, &parsed, signature, signature.count) == 1 else {
            return false
        }
        var normalized = secp256k1_ecdsa_signature()
        _ = secp256k1_ecdsa_signature_normalize(context, &normalized, &parsed)
        let digest = SHA256.hash(message)
        return secp256k1_ecdsa_verify(context, &normalized, digest, &point) == 1
    }

    private static func serializeCompressed(_ point: secp256k1_pubkey) -> [UInt8] {
        var point = point
        var output = [UInt8](repeating: 0, count: compressedPublicKeyLength)
        var length = output.count
        _ = secp256k1_ec_pubkey_serialize(
            context, &output, &length, &point, UInt32(SECP256K1_EC_COMPRESSED))
        return output
    }
}
