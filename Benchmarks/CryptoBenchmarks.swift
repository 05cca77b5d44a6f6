import CSodium
import TraverseCore

/// The one-core limit: libsodium ChaCha20-Poly1305 (IETF) sealing and opening 65519-byte
/// messages (the largest Noise frame payload), in place. Bytes counted once per seal+open.
func chachaPolyLimit(seconds: Double) -> BenchmarkResult {
    _ = sodium_init()
    let length = 65_519
    var message = [UInt8](repeating: 0x5A, count: length)
    var tag = [UInt8](repeating: 0, count: 16)
    let key = [UInt8](repeating: 7, count: 32)
    var nonce = [UInt8](repeating: 0, count: 12)
    var counter: UInt64 = 0
    let rate = measureRate(seconds: seconds) {
        counter += 1
        withUnsafeBytes(of: counter.littleEndian) { bytes in
            for index in 0..<8 { nonce[4 + index] = bytes[index] }
        }
        message.withUnsafeMutableBufferPointer { buffer in
            guard let bytes = buffer.baseAddress else { return }
            _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                bytes, &tag, nil, bytes, UInt64(length), nil, 0, nil, nonce, key)
            _ = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                bytes, nil, bytes, UInt64(length), tag, nil, 0, nonce, key)
        }
        return length
    }
    return BenchmarkResult(name: "chacha20poly1305-seal-open", value: rate / 1e6, unit: "MB/s",
                           note: "libsodium, 65519-byte messages, one core: the limit")
}

/// The libsodium operations one Noise XX handshake needs (both sides), timed alone:
/// 2 ephemeral key generations, 6 X25519 agreements, 2 Ed25519 verifications (signatures are
/// made once per identity, not per handshake), and the hashing, HKDF and AEAD calls on the
/// handshake's few hundred bytes. The rate at which they run is the bound for handshakes/s.
func noiseHandshakeBound(seconds: Double) -> BenchmarkResult {
    _ = sodium_init()
    var secret = [UInt8](repeating: 9, count: 32)
    var publicKey = [UInt8](repeating: 0, count: 32)
    var shared = [UInt8](repeating: 0, count: 32)
    var seed = [UInt8](repeating: 3, count: 32)
    var signingPublic = [UInt8](repeating: 0, count: 32)
    var signingSecret = [UInt8](repeating: 0, count: 64)
    _ = crypto_sign_seed_keypair(&signingPublic, &signingSecret, &seed)
    let signed = [UInt8](repeating: 1, count: 56)
    var signature = [UInt8](repeating: 0, count: 64)
    _ = crypto_sign_detached(&signature, nil, signed, UInt64(signed.count), signingSecret)
    _ = crypto_scalarmult_curve25519_base(&publicKey, secret)
    var payload = [UInt8](repeating: 2, count: 200)
    var tag = [UInt8](repeating: 0, count: 16)
    let key = [UInt8](repeating: 4, count: 32)
    let nonce = [UInt8](repeating: 0, count: 12)
    var digest = [UInt8](repeating: 0, count: 32)
    let rate = measureRate(seconds: seconds) {
        for _ in 0..<2 {
            secret[0] &+= 1
            _ = crypto_scalarmult_curve25519_base(&publicKey, secret)
        }
        for _ in 0..<6 { _ = crypto_scalarmult_curve25519(&shared, secret, publicKey) }
        for _ in 0..<2 { _ = crypto_sign_verify_detached(signature, signed, UInt64(signed.count), signingPublic) }
        // Per side: about 10 SHA-256 (MixHash, HMACs of HKDF) and 4 AEAD calls on short inputs.
        for _ in 0..<20 { _ = crypto_hash_sha256(&digest, payload, UInt64(payload.count)) }
        for _ in 0..<8 {
            _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                &payload, &tag, nil, payload, UInt64(payload.count), digest, 32, nil, nonce, key)
        }
        return 1
    }
    return BenchmarkResult(name: "noise-xx-libsodium-bound", value: rate, unit: "handshakes/s",
                           note: "libsodium operations of one XX handshake, both sides")
}
