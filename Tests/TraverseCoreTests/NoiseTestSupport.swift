import Testing
@testable import TraverseCore

/// How a test hands bytes from one Noise machine to the other.
enum NoiseChunking: Sendable, CustomTestStringConvertible {
    case whole
    case bytewise
    case random(seed: UInt64)

    var testDescription: String {
        switch self {
        case .whole: "whole"
        case .bytewise: "one byte at a time"
        case .random(let seed): "random chunks (seed \(seed))"
        }
    }

    /// `bytes` cut into chunks.
    func chunks(_ bytes: [UInt8], generator: inout SeededGenerator) -> [[UInt8]] {
        switch self {
        case .whole:
            return bytes.isEmpty ? [] : [bytes]
        case .bytewise:
            return bytes.map { [$0] }
        case .random:
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < bytes.count {
                let length = Int.random(in: 1...max(1, min(bytes.count - offset, 70_000)), using: &generator)
                chunks.append(Array(bytes[offset..<(offset + length)]))
                offset += length
            }
            return chunks
        }
    }

    var seed: UInt64 {
        if case .random(let seed) = self { return seed }
        return 1
    }
}

/// An initiator and a responder wired to each other in memory.
struct NoisePair {
    var initiator: NoiseHandshake
    var responder: NoiseHandshake
    var initiatorEvents: [NoiseHandshakeEvent] = []
    var responderEvents: [NoiseHandshakeEvent] = []

    static func identity(_ key: PrivateKey, seed: UInt64) throws -> NoiseIdentity {
        var generator = SeededGenerator(seed: seed)
        return try NoiseIdentity(identityKey: key, using: &generator)
    }

    static func ed25519Identity(seed: UInt64) throws -> NoiseIdentity {
        var generator = SeededGenerator(seed: seed)
        return try identity(PrivateKey.generateEd25519(using: &generator), seed: seed &+ 1000)
    }

    init(
        initiator initiatorIdentity: NoiseIdentity, responder responderIdentity: NoiseIdentity,
        expectedPeer: PeerID? = nil, initiatorMuxers: [String] = [], responderMuxers: [String] = [], seed: UInt64 = 1
    ) throws {
        var generator = SeededGenerator(seed: seed)
        initiator = try NoiseHandshake(
            role: .initiator, identity: initiatorIdentity, expectedRemotePeer: expectedPeer,
            supportedMuxers: initiatorMuxers, using: &generator)
        responder = try NoiseHandshake(
            role: .responder, identity: responderIdentity, supportedMuxers: responderMuxers, using: &generator)
    }

    /// Runs the exchange until neither side has bytes to send, passing each flight through
    /// `tamper` (index 0, 1, 2 for the three handshake messages).
    mutating func run(chunking: NoiseChunking, tamper: (Int, inout [UInt8]) -> Void = { _, _ in }) {
        var generator = SeededGenerator(seed: chunking.seed)
        var flight = 0
        for _ in 0..<8 {
            var sent = false
            for initiatorSends in [true, false] {
                var bytes: [UInt8] = []
                if initiatorSends {
                    _ = initiator.pollTransmit(into: &bytes)
                } else {
                    _ = responder.pollTransmit(into: &bytes)
                }
                if bytes.isEmpty { continue }
                sent = true
                tamper(flight, &bytes)
                flight += 1
                for chunk in chunking.chunks(bytes, generator: &generator) {
                    if initiatorSends {
                        responder.receive(chunk.span, now: .zero)
                    } else {
                        initiator.receive(chunk.span, now: .zero)
                    }
                }
                while let event = initiator.pollEvent() { initiatorEvents.append(event) }
                while let event = responder.pollEvent() { responderEvents.append(event) }
            }
            if !sent { break }
        }
    }
}
