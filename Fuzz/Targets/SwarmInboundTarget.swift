import TraverseCore

extension FuzzTarget {
    /// A swarm serving an authenticated peer whose streams carry arbitrary bytes: the input
    /// picks the protocol (identify, identify push, ping, perf, echo, relay hop and stop
    /// — the swarm is a relay that also takes relayed connections —, an unknown one), then
    /// cuts the rest into writes, half-closes, resets and jumps in time. The swarm must keep
    /// its limits, never trap, and end idle after `shutdown`.
    public static let swarmInbound = FuzzTarget(name: "swarm-inbound") { input in
        guard input.count >= 1 else { return }
        var generator = SeededRandomNumberGenerator(seed: 7)
        var configuration = SwarmConfiguration()
        // Perf downloads as large as the input asks would only measure the fuzzer's patience.
        configuration.maximumPerfDownloadBytes = 1 << 20
        configuration.relay.roles = [.hop, .stop, .client]
        guard let serverKey = try? PrivateKey(ed25519Seed: [UInt8](repeating: 1, count: 32)),
              let clientKey = try? PrivateKey(ed25519Seed: [UInt8](repeating: 2, count: 32)),
              var swarm = try? Swarm(
                identityKey: serverKey, configuration: configuration, now: .zero, using: SeededRandomNumberGenerator(seed: 1)),
              let clientIdentity = try? NoiseIdentity(identityKey: clientKey, using: &generator)
        else { preconditionFailure("fixed keys always work") }
        var now = Instant(nanoseconds: 1_000_000_000)
        guard let listener = try? swarm.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/4001"), now: now) else {
            preconditionFailure("a TCP address always listens")
        }
        swarm.listenerStarted(listener, boundAddress: .ipv4(IPv4Address(127, 0, 0, 1), port: 4001), interfaces: [], now: now)
        guard let id = swarm.accepted(
            listener: listener, remote: .ipv4(IPv4Address(127, 0, 0, 2), port: 5000),
            local: .ipv4(IPv4Address(127, 0, 0, 1), port: 4001), now: now),
            var client = try? Connection(
                role: .client, direction: .outbound, identity: clientIdentity, expectedRemotePeer: swarm.localPeer,
                supportedProtocols: [], now: now, using: &generator)
        else { preconditionFailure("the first connection is always accepted") }

        var wire: [UInt8] = []
        /// Carries bytes both ways until neither side has any.
        func exchange() {
            for _ in 0..<64 {
                var moved = false
                wire.removeAll(keepingCapacity: true)
                if client.pollTransmit(into: &wire) > 0 {
                    swarm.received(id, wire.span, now: now)
                    moved = true
                }
                wire.removeAll(keepingCapacity: true)
                while swarm.pollTransmit(into: &wire) != nil {}
                if !wire.isEmpty {
                    client.receive(wire.span, now: now)
                    moved = true
                }
                while swarm.pollAction() != nil {}
                while swarm.pollEvent() != nil {}
                var scratch: [UInt8] = []
                while let event = client.pollEvent() {
                    // Read what the swarm sends so windows stay open.
                    if case .streamReadable(let stream) = event {
                        while case .bytes? = try? client.read(stream, into: &scratch, now: now) { scratch.removeAll() }
                    }
                }
                if !moved { return }
            }
        }
        exchange()
        precondition(client.establishment != nil, "the upgrade in memory always completes")

        let protocols = [
            StreamProtocolID.identify, StreamProtocolID.identifyPush, StreamProtocolID.ping,
            StreamProtocolID.perf, StreamProtocolID.echo, RelayProtocolID.hop, RelayProtocolID.stop, "/fuzz/unknown/1",
        ]
        var offset = 1
        guard let stream = try? client.openStream(protocols: [protocols[Int(input[0]) % protocols.count]], now: now) else {
            return
        }
        exchange()
        while offset < input.count {
            let control = input[offset]
            offset += 1
            switch control % 8 {
            case 0:
                now = now + .milliseconds(Int64(control) * 200)
                swarm.handleTimeout(now: now)
                client.handleTimeout(now: now)
            case 1:
                try? client.closeWrite(stream, now: now)
            case 2 where control > 250:
                try? client.reset(stream, now: now)
            default:
                let length = min(Int(control), input.count - offset)
                var chunk: [UInt8] = []
                for index in offset..<(offset + length) { chunk.append(input[index]) }
                offset += length
                _ = try? client.write(stream, chunk.span, now: now)
            }
            exchange()
            // One socket, and at most one relayed connection its STOP stream carries.
            precondition(swarm.connectionCount <= 2, "one socket, at most one relayed connection")
        }
        swarm.shutdown(now: now)
        exchange()
        swarm.transportClosed(id, nil, now: now)
        while swarm.pollAction() != nil {}
        precondition(swarm.isIdle, "after shutdown and the socket's end nothing is left")
    }
}
