@_spi(Fuzzing) import TraverseCore

/// Fixed identities and helpers shared by the Noise fuzz targets. Everything is seeded, so
/// a finding replays exactly.
enum NoiseFuzzSupport {
    typealias SeededGenerator = SeededRandomNumberGenerator

    static let initiatorIdentity = identity(seed: 0x1111)
    static let responderIdentity = identity(seed: 0x2222)
    static let muxers = ["/yamux/1.0.0", "/mplex/6.7.0"]

    private static func identity(seed: UInt64) -> NoiseIdentity {
        var generator = SeededGenerator(seed: seed)
        let key = PrivateKey.generateEd25519(using: &generator)
        guard let identity = try? NoiseIdentity(identityKey: key, using: &generator) else {
            preconditionFailure("an Ed25519 identity always signs")
        }
        return identity
    }

    /// A handshake machine with a seeded ephemeral key (and the raw payload, if given).
    static func machine(_ role: NoiseRole, rawPayload: [UInt8]? = nil, expectPeer: Bool = false, seed: UInt64) -> NoiseHandshake {
        var generator = SeededGenerator(seed: seed)
        let identity = role == .initiator ? initiatorIdentity : responderIdentity
        let expected = expectPeer ? (role == .initiator ? responderIdentity : initiatorIdentity).peerID : nil
        let machine: NoiseHandshake?
        if let rawPayload {
            machine = try? NoiseHandshake(
                role: role, identity: identity, expectedRemotePeer: expected, rawPayload: rawPayload, using: &generator)
        } else {
            machine = try? NoiseHandshake(
                role: role, identity: identity, expectedRemotePeer: expected, supportedMuxers: muxers, using: &generator)
        }
        guard let machine else { preconditionFailure("fuzz payloads fit in a Noise message") }
        return machine
    }

    /// Everything the machine has to transmit.
    static func drain(_ machine: inout NoiseHandshake) -> [UInt8] {
        var bytes: [UInt8] = []
        while machine.pollTransmit(into: &bytes) > 0 {}
        return bytes
    }

    /// Every event the machine reports, checking the machine's invariants: at most one
    /// terminal event, and `finish()` agrees with it.
    static func events(_ machine: inout NoiseHandshake) -> [NoiseHandshakeEvent] {
        var events: [NoiseHandshakeEvent] = []
        while let event = machine.pollEvent() { events.append(event) }
        precondition(machine.nextDeadline == nil, "Noise has no timers")
        return events
    }

    /// Feeds `bytes` to `machine` in chunks whose sizes come from `sizes` (cycled).
    static func feed(_ bytes: [UInt8], to machine: inout NoiseHandshake, sizes: [UInt8]) {
        var offset = 0
        var index = 0
        while offset < bytes.count {
            let size = sizes.isEmpty ? bytes.count : Int(sizes[index % sizes.count]) * 37 + 1
            let end = min(bytes.count, offset + size)
            let chunk = Array(bytes[offset..<end])
            machine.receive(chunk.span, now: .zero)
            offset = end
            index += 1
        }
    }

    /// Reads the fuzz input as: byte 0 the mode, byte 1 a mutation count `n`, then `n`
    /// mutations of 3 bytes (16-bit offset, XOR mask; a zero mask truncates there), then 4
    /// chunk-size bytes, then the rest.
    struct Plan {
        var mode: UInt8 = 0
        var mutations: [(offset: Int, mask: UInt8)] = []
        var chunkSizes: [UInt8] = []
        var rest: [UInt8] = []

        init(_ input: [UInt8]) {
            guard let first = input.first else { return }
            mode = first
            var offset = 1
            let count = offset < input.count ? Int(input[offset] % 8) : 0
            offset += 1
            for _ in 0..<count where offset + 3 <= input.count {
                mutations.append((Int(input[offset]) << 8 | Int(input[offset + 1]), input[offset + 2]))
                offset += 3
            }
            let sizesEnd = min(input.count, offset + 4)
            if offset < sizesEnd { chunkSizes = Array(input[offset..<sizesEnd]) }
            if sizesEnd < input.count { rest = Array(input[sizesEnd...]) }
        }

        /// `bytes` with the mutations applied (offsets taken modulo the length).
        func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var bytes = bytes
            for mutation in mutations where !bytes.isEmpty {
                let position = mutation.offset % bytes.count
                if mutation.mask == 0 {
                    bytes.removeSubrange(position...)
                } else {
                    bytes[position] ^= mutation.mask
                }
            }
            return bytes
        }
    }

    /// The plaintext messages a genuine peer sends after the handshake, cut from `rest`.
    static func transportMessages(_ rest: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var offset = 0
        while offset < rest.count {
            let length = min(rest.count - offset, Int(rest[offset]) * 300)
            messages.append(Array(rest[offset..<(offset + length)]))
            offset += max(length, 1)
        }
        return messages
    }

    /// Checks a completed handshake's result against the genuine peer.
    static func checkCompleted(_ events: [NoiseHandshakeEvent], remote: NoiseIdentity) {
        precondition(events.count <= 2, "a handshake reports at most completion and then failure")
        for event in events {
            if case .completed(let result) = event {
                precondition(result.remotePeer == remote.peerID, "only the genuine peer can authenticate")
                precondition(result.remotePublicKey == remote.identityKey.publicKey)
                precondition(result.negotiatedMuxer == nil || result.negotiatedMuxer == muxers[0])
            }
        }
    }

    /// Decrypts `wire` (already mutated or not) with `transport` in chunks; when `intact`,
    /// the plaintext must be exactly `expected`.
    static func checkTransport(
        _ transport: inout NoiseTransport, wire: [UInt8], sizes: [UInt8], expected: [UInt8], intact: Bool
    ) {
        var plaintext: [UInt8] = []
        var failed = false
        var offset = 0
        var index = 0
        repeat {
            let size = sizes.isEmpty ? wire.count : Int(sizes[index % sizes.count]) * 129 + 1
            let end = min(wire.count, offset + size)
            let chunk = Array(wire[offset..<end])
            do {
                try transport.decrypt(chunk.span, into: &plaintext)
            } catch {
                failed = true
                break
            }
            offset = end
            index += 1
        } while offset < wire.count
        if intact {
            precondition(!failed && plaintext == expected, "genuine transport frames decrypt to what was sent")
        } else {
            precondition(plaintext.count <= expected.count + wire.count)
        }
    }
}
