import Testing
@testable import TraverseCore

/// The Noise framework pieces (`NoiseHandshakeState`, `NoiseSymmetricState`,
/// `NoiseCipherState`) against the `Noise_XX_25519_ChaChaPoly_SHA256` vectors of cacophony
/// and snow: every handshake message byte for byte, the handshake hash, and the transport
/// messages after `Split()`.
@Suite struct NoiseVectorTests {
    static let files = ["cacophony-25519_ChaChaPoly_SHA256.json", "snow-25519_ChaChaPoly_SHA256.json"]

    @Test(arguments: files)
    func xxVector(_ file: String) throws {
        let vectors = try TestVectors.noiseVectors(file)
        let vector = try #require(vectors.vectors.first { $0.protocol_name == "Noise_XX_25519_ChaChaPoly_SHA256" })
        var initiator = NoiseHandshakeState(
            role: .initiator, prologue: hex(try #require(vector.init_prologue)),
            localStatic: X25519.KeyPair(privateKey: hex(try #require(vector.init_static))),
            localEphemeral: X25519.KeyPair(privateKey: hex(try #require(vector.init_ephemeral))))
        var responder = NoiseHandshakeState(
            role: .responder, prologue: hex(try #require(vector.resp_prologue)),
            localStatic: X25519.KeyPair(privateKey: hex(try #require(vector.resp_static))),
            localEphemeral: X25519.KeyPair(privateKey: hex(try #require(vector.resp_ephemeral))))
        #expect(vector.messages.count > 3, "the vector has transport messages")

        for (index, message) in vector.messages.prefix(3).enumerated() {
            let initiatorSends = index % 2 == 0
            var wire: [UInt8] = []
            var payload: [UInt8] = []
            if initiatorSends {
                try initiator.writeMessage(payload: hex(message.payload).span, into: &wire)
                try responder.readMessage(wire.span, payload: &payload)
            } else {
                try responder.writeMessage(payload: hex(message.payload).span, into: &wire)
                try initiator.readMessage(wire.span, payload: &payload)
            }
            #expect(wire == hex(message.ciphertext), "handshake message \(index)")
            #expect(payload == hex(message.payload), "handshake payload \(index)")
        }
        #expect(initiator.isComplete && responder.isComplete)
        #expect(initiator.handshakeHash == responder.handshakeHash)
        if let expected = vector.handshake_hash {
            #expect(initiator.handshakeHash == hex(expected))
        }

        var (initiatorSend, initiatorReceive) = initiator.split()
        var (responderSend, responderReceive) = responder.split()
        for (index, message) in vector.messages.enumerated().dropFirst(3) {
            let initiatorSends = index % 2 == 0
            var wire = hex(message.payload)
            if initiatorSends {
                try initiatorSend.encrypt(&wire, from: 0, ad: [])
            } else {
                try responderSend.encrypt(&wire, from: 0, ad: [])
            }
            #expect(wire == hex(message.ciphertext), "transport message \(index)")
            if initiatorSends {
                try responderReceive.decrypt(&wire, from: 0, ad: [])
            } else {
                try initiatorReceive.decrypt(&wire, from: 0, ad: [])
            }
            #expect(wire == hex(message.payload), "transport message \(index) decrypts")
        }
    }

    @Test func protocolNameIsTheInitialHash() {
        #expect(NoiseHandshakeState.protocolName.count == 32)
        let state = NoiseSymmetricState(protocolName: NoiseHandshakeState.protocolName)
        #expect(state.handshakeHash == NoiseHandshakeState.protocolName)
        #expect(state.chainingKey == NoiseHandshakeState.protocolName)
    }

    /// RFC 4231 test case 2 for HMAC-SHA-256, and RFC 5869 test case 3 for the HKDF shape
    /// (no salt = zero key, empty info).
    @Test func hmacAndHKDF() {
        let mac = NoiseSymmetricState.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8), suffix: nil)
        #expect(mac == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        let (first, _) = NoiseSymmetricState.hkdf(
            chainingKey: [UInt8](repeating: 0, count: 32), inputKeyMaterial: [UInt8](repeating: 0x0b, count: 22))
        #expect(first == hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"))
    }

    @Test func cipherNonceLayoutAndExhaustion() throws {
        var sender = NoiseCipherState(key: [UInt8](repeating: 7, count: 32))
        var receiver = sender
        sender.setNonce(NoiseCipherState.lastNonce)
        receiver.setNonce(NoiseCipherState.lastNonce)
        var message: [UInt8] = [1, 2, 3]
        try sender.encrypt(&message, from: 0, ad: [])
        #expect(message.count == 3 + 16)
        #expect(throws: NoiseUsageError.nonceExhausted) { try sender.encrypt(&message, from: 0, ad: []) }
        try receiver.decrypt(&message, from: 0, ad: [])
        #expect(message == [1, 2, 3])
        #expect(throws: NoiseError.nonceExhausted) { try receiver.decrypt(&message, from: 0, ad: []) }
    }

    @Test func lowOrderPointIsRejected() {
        let keyPair = X25519.KeyPair(privateKey: [UInt8](repeating: 9, count: 32))
        #expect(throws: NoiseError.lowOrderPublicKey) {
            try X25519.sharedSecret(privateKey: keyPair.privateKey, publicKey: [UInt8](repeating: 0, count: 32))
        }
        var one = [UInt8](repeating: 0, count: 32)
        one[0] = 1
        #expect(throws: NoiseError.lowOrderPublicKey) {
            try X25519.sharedSecret(privateKey: keyPair.privateKey, publicKey: one)
        }
    }
}
