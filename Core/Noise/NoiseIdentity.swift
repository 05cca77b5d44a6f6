/// A node's long-lived Noise material: its libp2p identity key, an X25519 static key pair,
/// and the identity key's signature over that static key, made once so that a handshake
/// costs no signing.
///
/// Create one per node (or per listener) and hand it to every `NoiseHandshake`.
public struct NoiseIdentity: Sendable {
    /// The libp2p identity key the handshake payload is signed with.
    public let identityKey: PrivateKey
    /// The X25519 static public key the identity vouches for.
    public let staticPublicKey: [UInt8]
    /// The signature of `"noise-libp2p-static-key:" ‖ staticPublicKey` by `identityKey`.
    public let staticKeySignature: [UInt8]

    let staticKeyPair: X25519.KeyPair
    /// The protobuf encoding of the identity's public key (the payload's `identity_key`).
    let encodedPublicKey: [UInt8]

    /// Draws a new X25519 static key pair from `generator` (a cryptographically secure one,
    /// such as `SecureRandomNumberGenerator`, outside tests) and signs it with `identityKey`.
    public init(identityKey: PrivateKey, using generator: inout some RandomNumberGenerator) throws(KeyError) {
        try self.init(identityKey: identityKey, staticKeyPair: X25519.KeyPair(using: &generator))
    }

    /// The identity with a given static key pair.
    init(identityKey: PrivateKey, staticKeyPair: X25519.KeyPair) throws(KeyError) {
        let signature = try identityKey.sign(NoisePayload.signedMessage(staticKey: staticKeyPair.publicKey))
        self.init(identityKey: identityKey, staticKeyPair: staticKeyPair, staticKeySignature: signature)
    }

    /// The identity with a given static key pair and signature (tests forge bad ones).
    init(identityKey: PrivateKey, staticKeyPair: X25519.KeyPair, staticKeySignature: [UInt8]) {
        self.identityKey = identityKey
        self.staticKeyPair = staticKeyPair
        self.staticKeySignature = staticKeySignature
        staticPublicKey = staticKeyPair.publicKey
        encodedPublicKey = identityKey.publicKey.protobufEncoding
    }

    /// The peer ID this identity authenticates as.
    public var peerID: PeerID { identityKey.peerID }
}
