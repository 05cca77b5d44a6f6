import CSodium

/// Ed25519 through libsodium.
enum Ed25519 {
    static let publicKeyLength = 32
    static let seedLength = 32
    static let signatureLength = 64

    /// The public key for a 32-byte seed.
    static func publicKey(seed: [UInt8]) -> [UInt8] {
        precondition(seed.count == seedLength)
        Sodium.ensureInitialized()
        var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        _ = crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        sodium_memzero(&secretKey, secretKey.count)
        return publicKey
    }

    /// The detached signature of `message` by the key with this 32-byte seed.
    static func sign(_ message: Span<UInt8>, seed: [UInt8]) -> [UInt8] {
        precondition(seed.count == seedLength)
        Sodium.ensureInitialized()
        var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        _ = crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        var signature = [UInt8](repeating: 0, count: signatureLength)
        message.withUnsafeBufferPointer { input in
            _ = crypto_sign_detached(&signature, nil, input.baseAddress, UInt64(input.count), secretKey)
        }
        sodium_memzero(&secretKey, secretKey.count)
        return signature
    }

    /// Whether `signature` is a valid signature of `message` by `publicKey`.
    static func verify(signature: [UInt8], message: Span<UInt8>, publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureLength, publicKey.count == publicKeyLength else { return false }
        Sodium.ensureInitialized()
        return message.withUnsafeBufferPointer { input in
            crypto_sign_verify_detached(signature, input.baseAddress, UInt64(input.count), publicKey) == 0
        }
    }
}
