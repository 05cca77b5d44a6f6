import TraverseCore

/// Peers and helpers for the NATS targets (deterministic, made once).
enum NATSFuzzing {
    static let alice = RelayFuzzing.key(31).publicKey.peerID
    static let bob = RelayFuzzing.key(32).publicKey.peerID

    /// Splits `bytes` into records of `[u16 length][bytes]` (the last may be short).
    static func records(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        var records: [[UInt8]] = []
        var index = bytes.startIndex
        while index + 2 <= bytes.endIndex {
            let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            let start = index + 2
            let end = min(start + length, bytes.endIndex)
            records.append(Array(bytes[start..<end]))
            index = end
        }
        return records
    }

    /// Runs a parser over `pieces`: the operations and the error, if any.
    static func parse(_ pieces: [[UInt8]], controlLine: Int, payload: Int) -> ([NATSServerOperation], NATSProtocolError?) {
        var parser = NATSServerOperationParser(maximumControlLineLength: controlLine, maximumPayloadLength: payload)
        var operations: [NATSServerOperation] = []
        for piece in pieces {
            parser.append(piece.span)
            do {
                while let operation = try parser.next() {
                    if case .message(let message) = operation { precondition(message.payload.count <= payload) }
                    operations.append(operation)
                }
            } catch {
                return (operations, error)
            }
            precondition(parser.bufferedByteCount <= controlLine + payload + 4 + piece.count, "parser buffer unbounded")
        }
        return (operations, nil)
    }
}

extension FuzzTarget {
    /// What a NATS server sends, arbitrary: the first byte picks small limits (bit 0) and a
    /// subscription once INFO arrived (bit 1). `NATSServerOperationParser` fed whole and in
    /// pieces gives the same operations and error, and buffers boundedly; a `NATSClient` fed
    /// the pieces (then timeouts) reports at most one `closed`, last, keeps its output within
    /// its limit, and its output starts with CONNECT.
    public static let natsServerInput = FuzzTarget(name: "nats-server-input") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let small = options & 1 == 1
        let controlLine = small ? 64 : 16 * 1024
        let payload = small ? 32 : 1 << 20
        let stream = bytes.dropFirst()
        let pieces = MultistreamFuzzing.pieces(stream)
        let whole = NATSFuzzing.parse([Array(stream)], controlLine: controlLine, payload: payload)
        let chunked = NATSFuzzing.parse(pieces, controlLine: controlLine, payload: payload)
        precondition(whole.0 == chunked.0 && whole.1 == chunked.1, "chunking changed the parse")

        var configuration = NATSClientConfiguration()
        configuration.maximumControlLineLength = controlLine
        configuration.maximumMessagePayload = payload
        configuration.maximumPendingOutput = 4096
        var client = NATSClient(now: .zero, configuration: configuration)
        var output: [UInt8] = []
        var events: [NATSClientEvent] = []
        var subscribed = false
        for piece in pieces {
            client.receive(piece.span, now: .zero)
            if options & 2 == 2, !subscribed, client.serverInfo != nil {
                subscribed = (try? client.subscribe(to: "traverse.pipe.x", now: .zero)) != nil
                _ = try? client.publish(to: "a", payload: piece.span, now: .zero)
            }
            precondition(client.pendingOutputCount <= configuration.maximumPendingOutput + NATSClient.controlOutputReserve)
            while client.pollTransmit(into: &output) > 0 {}
            while let event = client.pollEvent() { events.append(event) }
        }
        client.handleTimeout(now: .zero + .seconds(5))
        client.handleTimeout(now: .zero + .seconds(3600))
        while client.pollTransmit(into: &output) > 0 {}
        while let event = client.pollEvent() { events.append(event) }
        let closes = events.indices.filter { if case .closed = events[$0] { true } else { false } }
        precondition(closes.count <= 1 && (closes.first.map { $0 == events.count - 1 } ?? true), "closed not once and last")
        for case .message(let message) in events { precondition(message.payload.count <= payload) }
        if !output.isEmpty { precondition(output.starts(with: Array("CONNECT {".utf8)), "output before CONNECT") }
    }

    /// Pipe frames: anything that decodes re-encodes to the same bytes. Then the input as
    /// `[u16 length][payload]` records fed to Bob's `NATSPipeRouter` after a genuine OPEN
    /// from Alice (reading what pipes buffer, with a timeout at the end): every frame it
    /// publishes decodes, comes from Bob and fits the payload limit; pipes stay within the
    /// limits and windows.
    public static let natsPipeFrame = FuzzTarget(name: "nats-pipe-frame") { input in
        let bytes = input.array
        if let frame = try? NATSPipeFrame(decoding: bytes) {
            precondition(frame.encoded == bytes, "pipe frame did not re-encode identically")
        }
        var configuration = NATSPipeRouterConfiguration()
        configuration.maximumPipes = 4
        configuration.maximumPipesPerPeer = 2
        configuration.pipe.receiveWindow = 256
        configuration.pipe.maximumFramePayload = 100
        var router = NATSPipeRouter(local: NATSFuzzing.bob, configuration: configuration)
        let open = NATSPipeFrame(
            session: NATSPipeSessionID(rawValue: 1), sender: NATSFuzzing.alice, fromOpener: true, body: .open(window: 300))
        var now = Instant.zero
        var sink: [UInt8] = []
        for record in [open.encoded] + NATSFuzzing.records(bytes[...]) {
            now = now + .milliseconds(100)
            router.receive(record, now: now)
            while let event = router.pollEvent() {
                switch event {
                case .inbound(let id, _), .pipe(let id, .readable):
                    sink.removeAll()
                    _ = try? router.read(id, into: &sink, now: now)
                    _ = try? router.write(id, [1, 2, 3].span, now: now)
                default:
                    break
                }
            }
            precondition(router.pipeCount <= configuration.maximumPipes)
            var payload: [UInt8] = []
            while router.pollPublish(into: &payload, maximumPayload: 200) != nil {
                precondition(payload.count <= 200, "frame over the payload limit")
                let frame = try? NATSPipeFrame(decoding: payload)
                precondition(frame?.sender == NATSFuzzing.bob, "published frame does not decode")
                payload.removeAll()
            }
        }
        router.handleTimeout(now: now + .seconds(60))
        while router.pollEvent() != nil {}
        var payload: [UInt8] = []
        while router.pollPublish(into: &payload, maximumPayload: 200) != nil { payload.removeAll() }
        precondition(router.pipeCount == 0, "pipes outlived the idle timeout")
    }
}
