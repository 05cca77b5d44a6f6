import Testing
@testable import TraverseCore

/// The libp2p Noise handshake: two machines in memory, every key type, any chunking, muxer
/// negotiation, and what a bad peer can do.
@Suite struct NoiseHandshakeTests {
    static let chunkings: [NoiseChunking] = [.whole, .bytewise, .random(seed: 3), .random(seed: 4)]

    @Test(arguments: chunkings)
    func ed25519Handshake(_ chunking: NoiseChunking) throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        var pair = try NoisePair(initiator: alice, responder: bob, expectedPeer: bob.peerID)
        pair.run(chunking: chunking)
        #expect(pair.initiatorEvents == [.completed(.init(
            remotePeer: bob.peerID, remotePublicKey: bob.identityKey.publicKey, negotiatedMuxer: nil))])
        #expect(pair.responderEvents == [.completed(.init(
            remotePeer: alice.peerID, remotePublicKey: alice.identityKey.publicKey, negotiatedMuxer: nil))])
        #expect(pair.initiator.nextDeadline == nil && pair.responder.nextDeadline == nil)
        var initiator = try pair.initiator.finish()
        var responder = try pair.responder.finish()
        try expectRoundTrip(&initiator, &responder, message: Array("hello".utf8))
        try expectRoundTrip(&responder, &initiator, message: Array("world".utf8))
    }

    @Test(arguments: ["ECDSA private key", "secp256k1 private key", "rsa private key", "ED25519 private key"])
    func everyKeyType(_ name: String) throws {
        let key = try TestVectors.privateKey(named: name)
        let other = try TestVectors.privateKey(named: name == "ED25519 private key" ? "rsa private key" : "ED25519 private key")
        let local = try NoisePair.identity(key, seed: 10)
        let remote = try NoisePair.identity(other, seed: 11)
        for (initiator, responder) in [(local, remote), (remote, local)] {
            var pair = try NoisePair(initiator: initiator, responder: responder, expectedPeer: responder.peerID)
            pair.run(chunking: .random(seed: 5))
            #expect(pair.initiatorEvents == [.completed(.init(
                remotePeer: responder.peerID, remotePublicKey: responder.identityKey.publicKey, negotiatedMuxer: nil))])
            #expect(pair.responderEvents == [.completed(.init(
                remotePeer: initiator.peerID, remotePublicKey: initiator.identityKey.publicKey, negotiatedMuxer: nil))])
        }
    }

    @Test func messageShapes() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        var pair = try NoisePair(initiator: alice, responder: bob, initiatorMuxers: ["/yamux/1.0.0"])
        var first: [UInt8] = []
        #expect(pair.initiator.pollTransmit(into: &first) == 34)
        #expect(first.prefix(2) == [0x00, 0x20], "message 1 is the bare ephemeral key: no payload, no extensions")
        var nothing: [UInt8] = []
        #expect(pair.initiator.pollTransmit(into: &nothing) == 0)
        #expect(pair.responder.pollTransmit(into: &nothing) == 0, "the responder speaks second")
        #expect(throws: NoiseUsageError.handshakeIncomplete) { _ = try pair.initiator.finish() }
    }

    @Test func muxerNegotiation() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        let cases: [([String], [String], String?)] = [
            (["/yamux/1.0.0", "/mplex/6.7.0"], ["/mplex/6.7.0", "/yamux/1.0.0"], "/yamux/1.0.0"),
            (["/mplex/6.7.0", "/yamux/1.0.0"], ["/yamux/1.0.0"], "/yamux/1.0.0"),
            (["/yamux/1.0.0"], [], nil),
            ([], ["/yamux/1.0.0"], nil),
            ([], [], nil),
            (["/mplex/6.7.0"], ["/yamux/1.0.0"], nil),
        ]
        for (initiatorMuxers, responderMuxers, expected) in cases {
            var pair = try NoisePair(
                initiator: alice, responder: bob, initiatorMuxers: initiatorMuxers, responderMuxers: responderMuxers)
            pair.run(chunking: .whole)
            let initiator = try pair.initiator.finish()
            let responder = try pair.responder.finish()
            #expect(initiator.negotiatedMuxer == expected, "\(initiatorMuxers) / \(responderMuxers)")
            #expect(responder.negotiatedMuxer == expected, "\(initiatorMuxers) / \(responderMuxers)")
        }
    }

    @Test func expectedPeerMismatch() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        let carol = try NoisePair.ed25519Identity(seed: 3)
        var pair = try NoisePair(initiator: alice, responder: bob, expectedPeer: carol.peerID)
        pair.run(chunking: .whole)
        #expect(pair.initiatorEvents == [.failed(.unexpectedPeer(expected: carol.peerID, actual: bob.peerID))])
        #expect(pair.responderEvents.isEmpty, "the initiator never sent message 3")
        var leftover: [UInt8] = []
        #expect(pair.initiator.pollTransmit(into: &leftover) == 0)
        #expect(throws: NoiseUsageError.handshakeFailed(.unexpectedPeer(expected: carol.peerID, actual: bob.peerID))) {
            _ = try pair.initiator.finish()
        }
    }

    @Test(arguments: [0, 1, 2])
    func tamperedMessage(_ flight: Int) throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        var pair = try NoisePair(initiator: alice, responder: bob)
        pair.run(chunking: .whole) { index, bytes in
            if index == flight { bytes[bytes.count - 1] ^= 0x01 }
        }
        if flight == 0 {
            // Message 1 is the bare ephemeral key: a flipped bit changes the key, and the
            // initiator finds out from message 2's tag.
            #expect(pair.initiatorEvents == [.failed(.decryptionFailed)])
            #expect(pair.responderEvents.isEmpty)
        } else if flight == 1 {
            #expect(pair.initiatorEvents == [.failed(.decryptionFailed)])
            #expect(pair.responderEvents.isEmpty)
        } else {
            #expect(pair.responderEvents == [.failed(.decryptionFailed)])
        }
    }

    @Test func invalidSignature() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        let mallory = try NoisePair.ed25519Identity(seed: 3)
        // Bob's identity key in the payload, but the static key signed by Mallory.
        let forged = NoiseIdentity(
            identityKey: bob.identityKey, staticKeyPair: bob.staticKeyPair,
            staticKeySignature: mallory.staticKeySignature)
        var pair = try NoisePair(initiator: alice, responder: forged)
        pair.run(chunking: .whole)
        #expect(pair.initiatorEvents == [.failed(.invalidSignature)])

        // A signature over another static key by the right identity key fails too.
        let otherStatic = try NoisePair.identity(bob.identityKey, seed: 99)
        let replayed = NoiseIdentity(
            identityKey: bob.identityKey, staticKeyPair: bob.staticKeyPair,
            staticKeySignature: otherStatic.staticKeySignature)
        var second = try NoisePair(initiator: replayed, responder: alice)
        second.run(chunking: .whole)
        #expect(second.responderEvents == [.failed(.invalidSignature)])
    }

    @Test func malformedPayloads() throws {
        let bob = try NoisePair.ed25519Identity(seed: 2)
        let cases: [([UInt8], NoiseError)] = [
            ([0xFF, 0xFF, 0xFF], .malformedPayload),
            ([], .missingIdentityKey),
            ([0x0A, 0x01, 0x00, 0x12, 0x01, 0x01], .invalidIdentityKey(.malformedEncoding)),
            (NoisePayload.encode(identity: bob, muxers: []).prefix(38) + [], .missingSignature),
        ]
        for (payload, expected) in cases {
            #expect(throws: expected) {
                _ = try NoisePayload(decoding: payload, remoteStaticKey: bob.staticPublicKey)
            }
        }
        let valid = try NoisePayload(decoding: NoisePayload.encode(identity: bob, muxers: ["/yamux/1.0.0"]),
                                     remoteStaticKey: bob.staticPublicKey)
        #expect(valid.identityKey == bob.identityKey.publicKey && valid.streamMuxers == ["/yamux/1.0.0"])
    }

    /// A frame of the largest size (65535 bytes of garbage) in place of message 2, split
    /// anyhow, then more bytes: the initiator buffers one frame, fails once, and ignores
    /// the rest.
    @Test(arguments: [NoiseChunking.whole, .random(seed: 8)])
    func oversizeGarbageFrame(_ chunking: NoiseChunking) throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        var generator = SeededGenerator(seed: 1)
        var initiator = try NoiseHandshake(role: .initiator, identity: alice, using: &generator)
        var garbage: [UInt8] = [0xFF, 0xFF]
        for index in 0..<(65535 + 5000) { garbage.append(UInt8(truncatingIfNeeded: index &* 31)) }
        for chunk in chunking.chunks(garbage, generator: &generator) { initiator.receive(chunk.span, now: .zero) }
        #expect(initiator.pollEvent() == .failed(.decryptionFailed))
        #expect(initiator.pollEvent() == nil)
    }

    @Test func shortFrames() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        var generator = SeededGenerator(seed: 1)
        var responder = try NoiseHandshake(role: .responder, identity: alice, using: &generator)
        responder.receive([0x00, 0x05, 1, 2, 3, 4, 5].span, now: .zero)
        #expect(responder.pollEvent() == .failed(.frameTooShort(length: 5)))
        var initiator = try NoiseHandshake(role: .initiator, identity: alice, using: &generator)
        initiator.receive([0x00, 0x00].span, now: .zero)
        #expect(initiator.pollEvent() == .failed(.frameTooShort(length: 0)))
    }

    @Test func lowOrderEphemeralKey() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        var generator = SeededGenerator(seed: 1)
        var responder = try NoiseHandshake(role: .responder, identity: alice, using: &generator)
        responder.receive(([0x00, 0x20] + [UInt8](repeating: 0, count: 32)).span, now: .zero)
        var nothing: [UInt8] = []
        #expect(responder.pollTransmit(into: &nothing) == 0)
        #expect(responder.pollEvent() == .failed(.lowOrderPublicKey))
    }

    /// The initiator's first transport frames ride in the same write as message 3.
    @Test(arguments: [NoiseChunking.whole, .bytewise, .random(seed: 12)])
    func transportDataCoalescedWithLastMessage(_ chunking: NoiseChunking) throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        var pair = try NoisePair(initiator: alice, responder: bob)
        var first: [UInt8] = []
        _ = pair.initiator.pollTransmit(into: &first)
        pair.responder.receive(first.span, now: .zero)
        var second: [UInt8] = []
        _ = pair.responder.pollTransmit(into: &second)
        pair.initiator.receive(second.span, now: .zero)
        var third: [UInt8] = []
        _ = pair.initiator.pollTransmit(into: &third)
        #expect(pair.initiator.pollEvent() != nil)
        var initiator = try pair.initiator.finish()
        let early = Array("early data".utf8)
        let later = [UInt8](repeating: 0x5A, count: 100_000)
        try initiator.encrypt(early.span, into: &third)
        try initiator.encrypt(later.span, into: &third)

        var generator = SeededGenerator(seed: chunking.seed)
        for chunk in chunking.chunks(third, generator: &generator) { pair.responder.receive(chunk.span, now: .zero) }
        guard case .completed = pair.responder.pollEvent() else {
            Issue.record("responder did not complete")
            return
        }
        var responder = try pair.responder.finish()
        #expect(responder.hasCarriedBytes)
        var plaintext: [UInt8] = []
        try responder.decrypt([UInt8]().span, into: &plaintext)
        #expect(plaintext == early + later)
        #expect(!responder.hasCarriedBytes)
    }

    @Test func tooMuchDataBeforeFinish() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        var pair = try NoisePair(initiator: alice, responder: bob)
        pair.run(chunking: .whole)
        let chunk = [UInt8](repeating: 0, count: NoiseHandshake.maximumCarriedBytes)
        pair.responder.receive(chunk.span, now: .zero)
        #expect(pair.responder.pollEvent() == nil)
        pair.responder.receive([0].span, now: .zero)
        #expect(pair.responder.pollEvent() == .failed(.tooMuchEarlyData))
    }

    @Test func finishNeedsDrainedTransmit() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        var pair = try NoisePair(initiator: alice, responder: bob)
        var first: [UInt8] = []
        _ = pair.initiator.pollTransmit(into: &first)
        pair.responder.receive(first.span, now: .zero)
        var second: [UInt8] = []
        _ = pair.responder.pollTransmit(into: &second)
        pair.initiator.receive(second.span, now: .zero)
        #expect(pair.initiator.isCompleted)
        #expect(throws: NoiseUsageError.transmitPending) { _ = try pair.initiator.finish() }
    }

    @Test func oversizeMuxerListIsLocalMisuse() throws {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        var generator = SeededGenerator(seed: 1)
        let muxers = [String](repeating: String(repeating: "m", count: 1000), count: 70)
        #expect(throws: NoiseUsageError.self) {
            _ = try NoiseHandshake(role: .responder, identity: alice, supportedMuxers: muxers, using: &generator)
        }
    }

    private func expectRoundTrip(_ sender: inout NoiseTransport, _ receiver: inout NoiseTransport, message: [UInt8]) throws {
        var wire: [UInt8] = []
        try sender.encrypt(message.span, into: &wire)
        var plaintext: [UInt8] = []
        try receiver.decrypt(wire.span, into: &plaintext)
        #expect(plaintext == message)
    }
}
