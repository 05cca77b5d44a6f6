import CSodium

/// A Noise `SymmetricState` for SHA-256 (Noise §5.2): the chaining key `ck`, the handshake
/// hash `h`, and the `CipherState` that handshake payloads are encrypted with once a key is
/// mixed in.
struct NoiseSymmetricState: Sendable {
    static let hashLength = 32

    private(set) var chainingKey: [UInt8]
    /// The handshake hash `h`; after the handshake, the channel-binding value.
    private(set) var handshakeHash: [UInt8]
    private var cipher: NoiseCipherState?

    /// `InitializeSymmetric(protocol_name)`.
    init(protocolName: [UInt8]) {
        if protocolName.count <= Self.hashLength {
            handshakeHash = protocolName + [UInt8](repeating: 0, count: Self.hashLength - protocolName.count)
        } else {
            handshakeHash = SHA256.hash(protocolName)
        }
        chainingKey = handshakeHash
        cipher = nil
    }

    /// Whether a key has been mixed in (payloads are encrypted from then on).
    var hasKey: Bool { cipher != nil }

    /// `MixHash(data)`: `h = SHA-256(h ‖ data)`.
    mutating func mixHash(_ data: Span<UInt8>) {
        Sodium.ensureInitialized()
        var state = crypto_hash_sha256_state()
        _ = crypto_hash_sha256_init(&state)
        handshakeHash.withUnsafeBufferPointer { previous in
            _ = crypto_hash_sha256_update(&state, previous.baseAddress, UInt64(previous.count))
        }
        data.withUnsafeBufferPointer { bytes in
            _ = crypto_hash_sha256_update(&state, bytes.baseAddress, UInt64(bytes.count))
        }
        handshakeHash.withUnsafeMutableBufferPointer { output in
            _ = crypto_hash_sha256_final(&state, output.baseAddress!)
        }
    }

    /// `MixKey(input_key_material)`: `ck, k = HKDF(ck, ikm, 2)`, and the cipher restarts at
    /// nonce 0 with `k`.
    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let (nextChainingKey, key) = Self.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial)
        chainingKey = nextChainingKey
        cipher = NoiseCipherState(key: key)
    }

    /// `EncryptAndHash(buffer[start...])`, in place: encrypts the plaintext at the end of
    /// `buffer` (when a key is set), then mixes the ciphertext into `h`.
    mutating func encryptAndHash(_ buffer: inout [UInt8], from start: Int) throws(NoiseUsageError) {
        if var cipher {
            try cipher.encrypt(&buffer, from: start, ad: handshakeHash)
            self.cipher = cipher
        }
        mixHash(buffer.span.extracting(start...))
    }

    /// `DecryptAndHash(ciphertext)`: appends the plaintext of `ciphertext` to `plaintext`
    /// (decrypted in place there when a key is set) and mixes the ciphertext into `h`.
    mutating func decryptAndHash(_ ciphertext: Span<UInt8>, into plaintext: inout [UInt8]) throws(NoiseError) {
        let start = plaintext.count
        ciphertext.withUnsafeBufferPointer { plaintext.append(contentsOf: $0) }
        if var cipher {
            do {
                try cipher.decrypt(&plaintext, from: start, ad: handshakeHash)
            } catch {
                plaintext.removeSubrange(start...)
                throw error
            }
            self.cipher = cipher
        }
        mixHash(ciphertext)
    }

    /// `Split()`: the two transport cipher states, the initiator's sending one first.
    func split() -> (initiatorToResponder: NoiseCipherState, responderToInitiator: NoiseCipherState) {
        let (first, second) = Self.hkdf(chainingKey: chainingKey, inputKeyMaterial: [])
        return (NoiseCipherState(key: first), NoiseCipherState(key: second))
    }

    /// Noise's `HKDF(ck, ikm, 2)` over HMAC-SHA-256 (RFC 5869 with `ck` as salt, empty info).
    static func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8]) -> ([UInt8], [UInt8]) {
        let pseudorandomKey = hmac(key: chainingKey, message: inputKeyMaterial, suffix: nil)
        let first = hmac(key: pseudorandomKey, message: [], suffix: 0x01)
        let second = hmac(key: pseudorandomKey, message: first, suffix: 0x02)
        return (first, second)
    }

    /// HMAC-SHA-256 of `message ‖ suffix` under `key`.
    static func hmac(key: [UInt8], message: [UInt8], suffix: UInt8?) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        _ = crypto_auth_hmacsha256_init(&state, key, key.count)
        message.withUnsafeBufferPointer { bytes in
            _ = crypto_auth_hmacsha256_update(&state, bytes.baseAddress, UInt64(bytes.count))
        }
        if var suffix {
            _ = crypto_auth_hmacsha256_update(&state, &suffix, 1)
        }
        var output = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        _ = crypto_auth_hmacsha256_final(&state, &output)
        sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size)
        return output
    }
}
