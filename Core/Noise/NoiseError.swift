/// Why a Noise handshake or a Noise transport failed because of what the remote peer sent.
///
/// Every case is a violation by the peer (or an attacker on the path): the connection is
/// closed, never reused. Misuse by the local caller is a `NoiseUsageError` instead.
public enum NoiseError: Error, Equatable, Hashable, Sendable {
    /// A frame too short for what it must carry: a handshake message without room for its
    /// keys and tags, or a transport frame shorter than the 16-byte tag.
    case frameTooShort(length: Int)
    /// A ciphertext whose Poly1305 tag did not verify (tampered, truncated, or encrypted
    /// under another key).
    case decryptionFailed
    /// A Diffie-Hellman result of all zeros: the peer sent a low-order X25519 point.
    case lowOrderPublicKey
    /// The decrypted handshake payload is not a `NoiseHandshakePayload` protobuf.
    case malformedPayload
    /// The handshake payload has no `identity_key`.
    case missingIdentityKey
    /// The handshake payload has no `identity_sig`, or one longer than any key type makes.
    case missingSignature
    /// The `identity_key` is not a valid libp2p public key.
    case invalidIdentityKey(KeyError)
    /// The `identity_sig` does not sign `"noise-libp2p-static-key:" ‖ static key` under the
    /// `identity_key`.
    case invalidSignature
    /// The peer authenticated as someone other than the peer that was dialled.
    case unexpectedPeer(expected: PeerID, actual: PeerID)
    /// The peer sent 2^64 − 1 transport messages: no nonce is left to decrypt another.
    case nonceExhausted
    /// More transport data arrived before `NoiseHandshake.finish()` than the handshake
    /// machine holds (`NoiseHandshake.maximumCarriedBytes`).
    case tooMuchEarlyData
}

/// Misuse of the Noise API by the local caller; the value it was called on is unchanged.
public enum NoiseUsageError: Error, Equatable, Hashable, Sendable {
    /// `finish()` was called before the handshake completed.
    case handshakeIncomplete
    /// `finish()` was called while the final handshake message still waits in
    /// `pollTransmit`: drain it first, or the peer never completes.
    case transmitPending
    /// `finish()` was called on a handshake that failed.
    case handshakeFailed(NoiseError)
    /// Sending would need a nonce past 2^64 − 2: the connection must be closed instead.
    case nonceExhausted
    /// The local handshake payload (identity key, signature and muxer list) does not fit in
    /// one Noise message.
    case payloadTooLong(Int)
}
