/// A Noise `HandshakeState` for the XX pattern (Noise §5.3, §7.5):
///
/// ```
/// XX:
///   -> e
///   <- e, ee, s, es
///   -> s, se
/// ```
///
/// It knows nothing of libp2p: payloads are opaque bytes, and the prologue and both key
/// pairs are given, so the Noise test vectors can drive it.
struct NoiseHandshakeState: Sendable {
    /// `Noise_XX_25519_ChaChaPoly_SHA256`: exactly 32 bytes, so `h` starts as these bytes.
    static let protocolName: [UInt8] = Array("Noise_XX_25519_ChaChaPoly_SHA256".utf8)

    /// Bytes a message adds to its payload: per pattern message, keys and tags.
    static let messageOverhead = [32, 32 + 48 + 16, 48 + 16]

    private enum Token { case e, s, ee, es, se }

    private static let pattern: [[Token]] = [[.e], [.e, .ee, .s, .es], [.s, .se]]

    let role: NoiseRole
    private var symmetric: NoiseSymmetricState
    private let localStatic: X25519.KeyPair
    private let localEphemeral: X25519.KeyPair
    /// The peer's static public key, once message 2 (from the responder) or 3 (from the
    /// initiator) is read.
    private(set) var remoteStatic: [UInt8]?
    private var remoteEphemeral: [UInt8]?
    /// The index of the next pattern message (0, 1, 2; 3 when the handshake is done).
    private(set) var messageIndex = 0

    init(role: NoiseRole, prologue: [UInt8], localStatic: X25519.KeyPair, localEphemeral: X25519.KeyPair) {
        self.role = role
        self.localStatic = localStatic
        self.localEphemeral = localEphemeral
        symmetric = NoiseSymmetricState(protocolName: Self.protocolName)
        symmetric.mixHash(prologue.span)
    }

    /// Whether all three messages were written or read.
    var isComplete: Bool { messageIndex == Self.pattern.count }

    /// Whether the next message is ours to write (otherwise ours to read).
    var isLocalTurn: Bool {
        !isComplete && (messageIndex % 2 == 0) == (role == .initiator)
    }

    /// The handshake hash `h` (the channel binding once the handshake is complete).
    var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// `WriteMessage(payload, message_buffer)`: appends the next message to `message`.
    /// Must only be called on the local turn.
    mutating func writeMessage(payload: Span<UInt8>, into message: inout [UInt8]) throws(NoiseError) {
        precondition(isLocalTurn, "Noise handshake message written out of turn")
        for token in Self.pattern[messageIndex] {
            switch token {
            case .e:
                let publicKey = localEphemeral.publicKey
                message.append(contentsOf: publicKey)
                symmetric.mixHash(publicKey.span)
            case .s:
                let start = message.count
                message.append(contentsOf: localStatic.publicKey)
                try encryptAndHash(&message, from: start)
            case .ee, .es, .se:
                try mixKey(token)
            }
        }
        let start = message.count
        payload.withUnsafeBufferPointer { message.append(contentsOf: $0) }
        try encryptAndHash(&message, from: start)
        messageIndex += 1
    }

    /// `ReadMessage(message, payload_buffer)`: appends the payload of `message` to
    /// `payload`. Must only be called on the peer's turn.
    mutating func readMessage(_ message: Span<UInt8>, payload: inout [UInt8]) throws(NoiseError) {
        precondition(!isComplete && !isLocalTurn, "Noise handshake message read out of turn")
        guard message.count >= Self.messageOverhead[messageIndex] else {
            throw .frameTooShort(length: message.count)
        }
        var offset = 0
        for token in Self.pattern[messageIndex] {
            switch token {
            case .e:
                let key = message.extracting(offset..<(offset + X25519.keyLength))
                remoteEphemeral = key.withUnsafeBufferPointer { Array($0) }
                symmetric.mixHash(key)
                offset += X25519.keyLength
            case .s:
                let length = X25519.keyLength + (symmetric.hasKey ? NoiseCipherState.tagLength : 0)
                var key: [UInt8] = []
                try symmetric.decryptAndHash(message.extracting(offset..<(offset + length)), into: &key)
                remoteStatic = key
                offset += length
            case .ee, .es, .se:
                try mixKey(token)
            }
        }
        try symmetric.decryptAndHash(message.extracting(offset...), into: &payload)
        messageIndex += 1
    }

    /// `Split()`, for the local side: the cipher state to send with and the one to receive with.
    func split() -> (sending: NoiseCipherState, receiving: NoiseCipherState) {
        precondition(isComplete, "Noise split before the handshake completed")
        let (initiatorToResponder, responderToInitiator) = symmetric.split()
        return role == .initiator
            ? (initiatorToResponder, responderToInitiator)
            : (responderToInitiator, initiatorToResponder)
    }

    private mutating func encryptAndHash(_ message: inout [UInt8], from start: Int) throws(NoiseError) {
        do {
            try symmetric.encryptAndHash(&message, from: start)
        } catch {
            // A fresh handshake key has 2^64 − 1 nonces; a handshake uses at most three.
            preconditionFailure("Noise handshake ran out of nonces")
        }
    }

    /// Performs `ee`, `es` or `se`: `MixKey(DH(…))` with the keys the token names.
    private mutating func mixKey(_ token: Token) throws(NoiseError) {
        let initiator = role == .initiator
        let localKey: X25519.KeyPair
        let remoteKey: [UInt8]?
        switch token {
        case .ee:
            (localKey, remoteKey) = (localEphemeral, remoteEphemeral)
        case .es:
            (localKey, remoteKey) = initiator ? (localEphemeral, remoteStatic) : (localStatic, remoteEphemeral)
        case .se:
            (localKey, remoteKey) = initiator ? (localStatic, remoteEphemeral) : (localEphemeral, remoteStatic)
        case .e, .s:
            preconditionFailure("not a DH token")
        }
        guard let remoteKey else { preconditionFailure("XX names every remote key before its DH") }
        symmetric.mixKey(try X25519.sharedSecret(privateKey: localKey.privateKey, publicKey: remoteKey))
    }
}

/// Which side of a Noise handshake this node plays.
public enum NoiseRole: Sendable, Hashable {
    /// The side that dialled: it writes messages 1 and 3.
    case initiator
    /// The side that accepted: it writes message 2.
    case responder
}
