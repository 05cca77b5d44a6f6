import CSodium

/// A Noise `CipherState` for ChaChaPoly: a 32-byte key and a 64-bit message counter.
///
/// The nonce is 4 zero bytes followed by the little-endian counter (Noise §12.3). Messages
/// are encrypted and decrypted in place in the caller's buffer with libsodium's detached
/// ChaCha20-Poly1305 (IETF) functions, so nothing is copied. The counter value 2^64 − 1 is
/// reserved (Noise §5.1): once it is reached every further call refuses.
struct NoiseCipherState: Sendable {
    static let keyLength = 32
    static let tagLength = 16

    /// The largest counter value a message may use (2^64 − 1 itself is reserved).
    static let lastNonce = UInt64.max - 1

    private var key: [UInt8]
    /// The counter the next message uses.
    private(set) var nonce: UInt64

    init(key: [UInt8]) {
        precondition(key.count == Self.keyLength)
        self.key = key
        self.nonce = 0
    }

    /// How many more messages this state can encrypt or decrypt.
    var remainingMessages: UInt64 { UInt64.max - nonce }

    /// Sets the counter; for tests of nonce exhaustion.
    mutating func setNonce(_ value: UInt64) { nonce = value }

    /// Encrypts `buffer[start...]` in place with associated data `ad` and appends the tag.
    mutating func encrypt(_ buffer: inout [UInt8], from start: Int, ad: [UInt8]) throws(NoiseUsageError) {
        guard nonce <= Self.lastNonce else { throw .nonceExhausted }
        precondition(start >= 0 && start <= buffer.count)
        Sodium.ensureInitialized()
        let length = buffer.count - start
        buffer.append(contentsOf: repeatElement(0, count: Self.tagLength))
        withNonce { nonceBytes in
            buffer.withUnsafeMutableBufferPointer { bytes in
                let base = bytes.baseAddress! + start
                ad.withUnsafeBufferPointer { adBytes in
                    _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                        base, base + length, nil, base, UInt64(length),
                        adBytes.baseAddress, UInt64(adBytes.count), nil, nonceBytes, key)
                }
            }
        }
        nonce += 1
    }

    /// Decrypts `buffer[start...]` (ciphertext ‖ 16-byte tag) in place with associated data
    /// `ad` and removes the tag. On failure the buffer is unchanged and the counter too.
    mutating func decrypt(_ buffer: inout [UInt8], from start: Int, ad: [UInt8]) throws(NoiseError) {
        guard nonce <= Self.lastNonce else { throw .nonceExhausted }
        guard start >= 0, buffer.count - start >= Self.tagLength else {
            throw .frameTooShort(length: buffer.count - max(start, 0))
        }
        Sodium.ensureInitialized()
        let length = buffer.count - start - Self.tagLength
        let status = withNonce { nonceBytes in
            buffer.withUnsafeMutableBufferPointer { bytes in
                let base = bytes.baseAddress! + start
                return ad.withUnsafeBufferPointer { adBytes in
                    crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                        base, nil, base, UInt64(length), base + length,
                        adBytes.baseAddress, UInt64(adBytes.count), nonceBytes, key)
                }
            }
        }
        // libsodium verifies the tag before it writes any plaintext.
        guard status == 0 else { throw .decryptionFailed }
        buffer.removeLast(Self.tagLength)
        nonce += 1
    }

    /// Runs `body` with the 12-byte nonce for the current counter, on the stack.
    private func withNonce<Result>(_ body: (UnsafePointer<UInt8>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 12) { nonceBytes in
            let counter = nonce
            for index in 0..<4 { nonceBytes[index] = 0 }
            for index in 0..<8 { nonceBytes[4 + index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
            return body(UnsafePointer(nonceBytes.baseAddress!))
        }
    }
}
