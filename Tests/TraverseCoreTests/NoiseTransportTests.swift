import Testing
@testable import TraverseCore

/// `NoiseTransport`: framing, chunking, in-place encryption, tampering, nonce exhaustion.
@Suite struct NoiseTransportTests {
    /// A completed pair of transports (initiator, responder).
    static func transports() throws -> (NoiseTransport, NoiseTransport) {
        let alice = try NoisePair.ed25519Identity(seed: 1)
        let bob = try NoisePair.ed25519Identity(seed: 2)
        var pair = try NoisePair(initiator: alice, responder: bob)
        pair.run(chunking: .whole)
        return (try pair.initiator.finish(), try pair.responder.finish())
    }

    static let sizes = [0, 1, 65519, 65520, 1 << 20]

    @Test(arguments: sizes)
    func roundTripInRandomChunks(_ size: Int) throws {
        var (initiator, responder) = try Self.transports()
        var generator = SeededGenerator(seed: UInt64(size) + 1)
        var message = [UInt8](repeating: 0, count: size)
        generator.fill(&message)

        var wire: [UInt8] = []
        try initiator.encrypt(message.span, into: &wire)
        let frames = size / 65519 + (size % 65519 == 0 ? 0 : 1)
        #expect(wire.count == size + frames * 18)
        if size > 0 { #expect(wire.prefix(2) == [UInt8(min(size + 16, 65535) >> 8), UInt8(min(size + 16, 65535) & 0xFF)]) }

        var plaintext: [UInt8] = []
        for chunk in NoiseChunking.random(seed: UInt64(size)).chunks(wire, generator: &generator) {
            try responder.decrypt(chunk.span, into: &plaintext)
        }
        #expect(plaintext == message)

        // And back, one byte at a time for the small sizes.
        var back: [UInt8] = []
        try responder.encrypt(message.span, into: &back)
        var received: [UInt8] = []
        let chunking: NoiseChunking = size <= 65520 ? .bytewise : .random(seed: 9)
        for chunk in chunking.chunks(back, generator: &generator) {
            try initiator.decrypt(chunk.span, into: &received)
        }
        #expect(received == message)
    }

    @Test func manyFramesInOneCall() throws {
        var (initiator, responder) = try Self.transports()
        var wire: [UInt8] = []
        var expected: [UInt8] = []
        for index in 0..<100 {
            let message = [UInt8](repeating: UInt8(index), count: index * 37)
            expected += message
            try initiator.encrypt(message.span, into: &wire)
        }
        var plaintext: [UInt8] = [0xAA]
        try responder.decrypt(wire.span, into: &plaintext)
        #expect(plaintext == [0xAA] + expected, "decrypt appends")
    }

    @Test func tamperedFrameFails() throws {
        var (initiator, responder) = try Self.transports()
        var wire: [UInt8] = []
        try initiator.encrypt(Array("first".utf8).span, into: &wire)
        let firstLength = wire.count
        try initiator.encrypt(Array("second".utf8).span, into: &wire)
        wire[firstLength + 3] ^= 0x80
        var plaintext: [UInt8] = []
        #expect(throws: NoiseError.decryptionFailed) { try responder.decrypt(wire.span, into: &plaintext) }
        #expect(plaintext == Array("first".utf8), "the good frame stays, the bad one is removed")
        #expect(throws: NoiseError.decryptionFailed) { try responder.decrypt([UInt8]().span, into: &plaintext) }
    }

    @Test func frameShorterThanTagFails() throws {
        var (_, responder) = try Self.transports()
        var plaintext: [UInt8] = []
        #expect(throws: NoiseError.frameTooShort(length: 15)) {
            try responder.decrypt(([0x00, 0x0F] + [UInt8](repeating: 0, count: 15)).span, into: &plaintext)
        }
        #expect(plaintext.isEmpty)
    }

    @Test func partialFrameIsKeptAcrossCalls() throws {
        var (initiator, responder) = try Self.transports()
        var wire: [UInt8] = []
        try initiator.encrypt([UInt8](repeating: 1, count: 65519).span, into: &wire)
        var plaintext: [UInt8] = []
        try responder.decrypt(wire.span.extracting(0..<1), into: &plaintext)
        try responder.decrypt(wire.span.extracting(1..<40_000), into: &plaintext)
        #expect(plaintext.isEmpty)
        try responder.decrypt(wire.span.extracting(40_000...), into: &plaintext)
        #expect(plaintext.count == 65519)
    }

    @Test func nonceExhaustion() throws {
        var (initiator, responder) = try Self.transports()
        initiator.setNonces(sending: UInt64.max - 2, receiving: 0)
        responder.setNonces(sending: 0, receiving: UInt64.max - 2)
        var wire: [UInt8] = []
        // Two nonces are left (2^64 − 3 and 2^64 − 2): three frames are refused whole.
        let threeFrames = [UInt8](repeating: 7, count: 2 * 65519 + 1)
        #expect(throws: NoiseUsageError.nonceExhausted) { try initiator.encrypt(threeFrames.span, into: &wire) }
        #expect(wire.isEmpty, "a refused encryption writes nothing")
        try initiator.encrypt([1].span, into: &wire)
        try initiator.encrypt([2].span, into: &wire)
        #expect(throws: NoiseUsageError.nonceExhausted) { try initiator.encrypt([3].span, into: &wire) }
        try initiator.encrypt([UInt8]().span, into: &wire)

        var plaintext: [UInt8] = []
        try responder.decrypt(wire.span, into: &plaintext)
        #expect(plaintext == [1, 2])
        // A peer that keeps going past the last nonce is refused too.
        var extra: [UInt8] = [0x00, 0x10] + [UInt8](repeating: 0, count: 16)
        #expect(throws: NoiseError.nonceExhausted) { try responder.decrypt(extra.span, into: &plaintext) }
        extra.removeAll()
    }

    @Test func encryptAppendsAndGrowsNoFurther() throws {
        var (initiator, responder) = try Self.transports()
        var wire: [UInt8] = [0xEE]
        try initiator.encrypt([9, 9, 9].span, into: &wire)
        #expect(wire.count == 1 + 2 + 3 + 16 && wire[0] == 0xEE && wire[1...2] == [0, 19])
        var plaintext: [UInt8] = []
        try responder.decrypt(wire.span.extracting(1...), into: &plaintext)
        #expect(plaintext == [9, 9, 9])

        // Steady state: reused buffers keep their storage.
        var sendBuffer: [UInt8] = []
        var receiveBuffer: [UInt8] = []
        let message = [UInt8](repeating: 3, count: 4096)
        sendBuffer.reserveCapacity(8192)
        receiveBuffer.reserveCapacity(8192)
        let sendCapacity = sendBuffer.capacity
        let receiveCapacity = receiveBuffer.capacity
        for _ in 0..<50 {
            sendBuffer.removeAll(keepingCapacity: true)
            receiveBuffer.removeAll(keepingCapacity: true)
            try initiator.encrypt(message.span, into: &sendBuffer)
            try responder.decrypt(sendBuffer.span, into: &receiveBuffer)
        }
        #expect(receiveBuffer == message)
        #expect(sendBuffer.capacity == sendCapacity && receiveBuffer.capacity == receiveCapacity)
    }
}
