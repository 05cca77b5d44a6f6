import TraverseCore

typealias BenchmarkRandom = SeededRandomNumberGenerator

enum BenchmarkSetupError: Error { case handshakeFailed }

func noiseIdentity(seed: UInt64) throws -> NoiseIdentity {
    var random = BenchmarkRandom(seed: seed)
    return try NoiseIdentity(identityKey: PrivateKey.generateEd25519(using: &random), using: &random)
}

/// Runs a Noise XX handshake between two fresh machines in memory.
func completeHandshake(
    _ initiatorIdentity: NoiseIdentity, _ responderIdentity: NoiseIdentity, random: inout BenchmarkRandom,
    wire: inout [UInt8]
) throws -> (NoiseTransport, NoiseTransport) {
    var initiator = try NoiseHandshake(role: .initiator, identity: initiatorIdentity, using: &random)
    var responder = try NoiseHandshake(role: .responder, identity: responderIdentity, using: &random)
    for _ in 0..<3 {
        wire.removeAll(keepingCapacity: true)
        if initiator.pollTransmit(into: &wire) > 0 { responder.receive(wire.span, now: .zero) }
        wire.removeAll(keepingCapacity: true)
        if responder.pollTransmit(into: &wire) > 0 { initiator.receive(wire.span, now: .zero) }
    }
    guard case .completed? = initiator.pollEvent(), case .completed? = responder.pollEvent() else {
        throw BenchmarkSetupError.handshakeFailed
    }
    return (try initiator.finish(), try responder.finish())
}

/// (b) Noise transport: encrypt on one side, decrypt on the other, 1 MiB writes.
func noiseTransportThroughput(seconds: Double) throws -> BenchmarkResult {
    var random = BenchmarkRandom(seed: 1)
    var wire: [UInt8] = []
    var (sender, receiver) = try completeHandshake(
        try noiseIdentity(seed: 1), try noiseIdentity(seed: 2), random: &random, wire: &wire)
    let plaintext = [UInt8](repeating: 0xA5, count: 1 << 20)
    var ciphertext: [UInt8] = []
    var received: [UInt8] = []
    let rate = measureRate(seconds: seconds) {
        ciphertext.removeAll(keepingCapacity: true)
        received.removeAll(keepingCapacity: true)
        try? sender.encrypt(plaintext.span, into: &ciphertext)
        try? receiver.decrypt(ciphertext.span, into: &received)
        precondition(received.count == plaintext.count)
        return plaintext.count
    }
    return BenchmarkResult(name: "noise-transport", value: rate / 1e6, unit: "MB/s")
}

/// (c) Yamux framing through a pair of in-memory sessions, no encryption: each round writes
/// 256 KiB to each of `streams` streams, carries the frames across, and reads them out.
func yamuxThroughput(streams streamCount: Int, seconds: Double) throws -> BenchmarkResult {
    var client = YamuxSession(role: .client, configuration: .init(), now: .zero)
    var server = YamuxSession(role: .server, configuration: .init(), now: .zero)
    var wire: [UInt8] = []
    var streams: [YamuxStreamID] = []
    for _ in 0..<streamCount { streams.append(try client.openStream(now: .zero)) }
    func carry() {
        wire.removeAll(keepingCapacity: true)
        _ = client.pollTransmit(into: &wire)
        server.receive(wire.span, now: .zero)
        wire.removeAll(keepingCapacity: true)
        _ = server.pollTransmit(into: &wire)
        client.receive(wire.span, now: .zero)
        while client.pollEvent() != nil {}
        while server.pollEvent() != nil {}
    }
    carry()
    let chunk = [UInt8](repeating: 0x3C, count: 256 * 1024 / max(1, streamCount / 16))
    var sink: [UInt8] = []
    let rate = measureRate(seconds: seconds) {
        var moved = 0
        for stream in streams {
            moved += (try? client.write(stream, chunk.span, now: .zero)) ?? 0
        }
        carry()
        for stream in streams {
            sink.removeAll(keepingCapacity: true)
            _ = try? server.read(stream, into: &sink, now: .zero)
        }
        carry()
        return moved
    }
    return BenchmarkResult(name: "yamux-framing-\(streamCount)-stream\(streamCount == 1 ? "" : "s")", value: rate / 1e9, unit: "GB/s")
}

/// (d) A full upgraded connection pair (Noise + Yamux) in memory, one stream.
func connectionThroughput(seconds: Double) throws -> BenchmarkResult {
    var random = BenchmarkRandom(seed: 3)
    let protocolName = "/bench/1.0.0"
    var client = try Connection(
        role: .client, direction: .outbound, identity: try noiseIdentity(seed: 3), supportedProtocols: [],
        now: .zero, using: &random)
    var server = try Connection(
        role: .server, direction: .inbound, identity: try noiseIdentity(seed: 4), supportedProtocols: [protocolName],
        now: .zero, using: &random)
    var wire: [UInt8] = []
    func carry() {
        for _ in 0..<2 {
            wire.removeAll(keepingCapacity: true)
            _ = client.pollTransmit(into: &wire)
            if !wire.isEmpty { server.receive(wire.span, now: .zero) }
            wire.removeAll(keepingCapacity: true)
            _ = server.pollTransmit(into: &wire)
            if !wire.isEmpty { client.receive(wire.span, now: .zero) }
        }
        while client.pollEvent() != nil {}
        while server.pollEvent() != nil {}
    }
    for _ in 0..<4 { carry() }
    let stream = try client.openStream(protocols: [protocolName], now: .zero)
    carry()
    let chunk = [UInt8](repeating: 0x77, count: 1 << 20)
    var sink: [UInt8] = []
    let rate = measureRate(seconds: seconds) {
        let moved = (try? client.write(stream, chunk.span, now: .zero)) ?? 0
        carry()
        sink.removeAll(keepingCapacity: true)
        while case .bytes? = try? server.read(stream, into: &sink, now: .zero) {}
        carry()
        return moved
    }
    return BenchmarkResult(name: "connection-noise-yamux-1-stream", value: rate / 1e6, unit: "MB/s")
}

/// (e) Complete Noise XX handshakes (both sides, in memory, fresh ephemeral keys each time).
func noiseHandshakeRate(seconds: Double) throws -> BenchmarkResult {
    let initiatorIdentity = try noiseIdentity(seed: 5)
    let responderIdentity = try noiseIdentity(seed: 6)
    var random = BenchmarkRandom(seed: 7)
    var wire: [UInt8] = []
    let rate = measureRate(seconds: seconds) {
        _ = try? completeHandshake(initiatorIdentity, responderIdentity, random: &random, wire: &wire)
        return 1
    }
    return BenchmarkResult(name: "noise-xx-handshakes", value: rate, unit: "handshakes/s")
}
