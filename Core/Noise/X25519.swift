import CSodium

/// X25519 (RFC 7748) through libsodium: Noise's `25519` DH functions.
enum X25519 {
    static let keyLength = 32

    /// A key pair: a 32-byte private scalar (clamped by libsodium when used) and its public key.
    struct KeyPair: Sendable {
        let privateKey: [UInt8]
        let publicKey: [UInt8]

        /// The pair for `privateKey` (32 bytes).
        init(privateKey: [UInt8]) {
            precondition(privateKey.count == X25519.keyLength)
            Sodium.ensureInitialized()
            var publicKey = [UInt8](repeating: 0, count: X25519.keyLength)
            _ = crypto_scalarmult_curve25519_base(&publicKey, privateKey)
            self.privateKey = privateKey
            self.publicKey = publicKey
        }

        /// A new pair whose private key is drawn from `generator`.
        init(using generator: inout some RandomNumberGenerator) {
            var privateKey = [UInt8](repeating: 0, count: X25519.keyLength)
            generator.fill(&privateKey)
            self.init(privateKey: privateKey)
        }
    }

    /// `DH(privateKey, publicKey)`. Throws `.lowOrderPublicKey` when the result is all zeros,
    /// which a low-order point from the peer produces (libsodium reports it).
    static func sharedSecret(privateKey: [UInt8], publicKey: [UInt8]) throws(NoiseError) -> [UInt8] {
        precondition(privateKey.count == keyLength && publicKey.count == keyLength)
        Sodium.ensureInitialized()
        var shared = [UInt8](repeating: 0, count: keyLength)
        guard crypto_scalarmult_curve25519(&shared, privateKey, publicKey) == 0 else {
            throw .lowOrderPublicKey
        }
        return shared
    }
}
