import Testing
@testable import TraverseCore

@Suite struct NATSTransportTests {
    typealias F = NATSFixtures

    @Test func connectsAndSubscribesToItsInboundSubject() {
        var network = TransportNetwork([F.alice, F.bob])
        var generator = SeededGenerator(seed: 1)
        #expect(throws: NATSPipeUsageError.notConnected) {
            try network.transports[0].open(to: F.bob, now: .zero, using: &generator)
        }
        network.run()
        guard case .connected(let info)? = network.events[0].first else {
            Issue.record("\(network.events[0])")
            return
        }
        #expect(info.serverID == "MOCK" && network.transports[0].isReady)
        #expect(Array(network.server.clients[0].subscriptions.values) == ["traverse.pipe.\(F.alice)"])
        #expect(Array(network.server.clients[1].subscriptions.values) == ["traverse.pipe.\(F.bob)"])
    }

    @Test func pipeCarriesOneMiBThroughTheServer() throws {
        var configuration = NATSPipeTransportConfiguration()
        configuration.router.pipe.receiveWindow = 64 * 1024
        var network = TransportNetwork([F.alice, F.bob], maximumPayload: 8 * 1024, configuration: configuration)
        network.run()
        var generator = SeededGenerator(seed: 2)
        let alice = try network.transports[0].open(to: F.bob, now: network.now, using: &generator)
        network.run()
        guard case .inbound(let bob, let remote)? = network.events[1].last else {
            Issue.record("\(network.events[1])")
            return
        }
        #expect(remote == F.alice)
        #expect(network.events[0].last == .pipe(alice, .opened))
        let data = randomBytes(1 << 20, seed: 11)
        var offset = 0
        var received: [UInt8] = []
        var rounds = 0
        while received.count < data.count && rounds < 10_000 {
            rounds += 1
            if offset < data.count {
                offset += try network.transports[0].write(alice, Array(data[offset..<min(data.count, offset + 100_000)]).span, now: network.now)
            }
            network.run()
            _ = try network.transports[1].read(bob, into: &received, now: network.now)
        }
        #expect(received == data)
        // Every message went to a subject derived from the peer IDs, within max_payload.
        let subjects = Set(network.server.published.map(\.subject))
        #expect(subjects == ["traverse.pipe.\(F.alice)", "traverse.pipe.\(F.bob)"])
        #expect(network.server.published.allSatisfy { $0.size <= 8 * 1024 })
    }

    @Test func serverLimitTooSmallEndsTheTransport() {
        var network = TransportNetwork([F.alice], maximumPayload: 512)
        network.run()
        #expect(network.events[0] == [.closed(.serverPayloadTooSmall(512))])
        #expect(network.transports[0].nextDeadline == nil)
    }

    @Test func closingResetsPipesAndEndsTheTransport() throws {
        var network = TransportNetwork([F.alice, F.bob])
        network.run()
        var generator = SeededGenerator(seed: 3)
        _ = try network.transports[0].open(to: F.bob, now: network.now, using: &generator)
        network.run()
        guard case .inbound(let bob, _)? = network.events[1].last else { Issue.record("no inbound"); return }
        network.transports[0].close(now: network.now)
        network.run()
        #expect(network.events[0].last == .closed(nil))
        #expect(network.events[1].last == .pipe(bob, .failed(.remoteReset(.shutdown))))
    }

    @Test func lostServerConnectionFailsThePipes() throws {
        var network = TransportNetwork([F.alice, F.bob])
        network.run()
        var generator = SeededGenerator(seed: 4)
        let alice = try network.transports[0].open(to: F.bob, now: network.now, using: &generator)
        network.run()
        network.transports[0].transportClosed(now: network.now)
        var events: [NATSPipeTransportEvent] = []
        while let event = network.transports[0].pollEvent() { events.append(event) }
        #expect(events == [.pipe(alice, .failed(.transportClosed)), .closed(.client(.transportClosed))])
    }

    @Test func subscriptionPermissionViolationEndsTheTransport() {
        var transport = NATSPipeTransport(local: F.alice, now: .zero)
        transport.receive(Array("INFO {\"max_payload\":1048576}\r\nPONG\r\n".utf8).span, now: .zero)
        var sink: [UInt8] = []
        while transport.pollTransmit(into: &sink) > 0 {}
        let error = "Permissions Violation for Subscription to \"traverse.pipe.\(F.alice)\""
        transport.receive(Array("-ERR '\(error)'\r\n".utf8).span, now: .zero)
        var events: [NATSPipeTransportEvent] = []
        while let event = transport.pollEvent() { events.append(event) }
        #expect(events.last == .closed(.subscriptionRefused(.permissionsViolation(error))))
    }

    /// A `Connection` whose transport is a pipe.
    struct PipedConnection {
        var connection: Connection
        var pipe: NATSPipeID
        var outbound: [UInt8] = []
        var events: [ConnectionEvent] = []
    }

    /// Moves bytes between a connection and its pipe; returns whether anything moved.
    static func pump(_ piped: inout PipedConnection, _ transport: inout NATSPipeTransport, now: Instant) throws -> Bool {
        var moved = false
        if piped.outbound.isEmpty { while piped.connection.pollTransmit(into: &piped.outbound) > 0 {} }
        if !piped.outbound.isEmpty {
            let written = try transport.write(piped.pipe, piped.outbound.span, now: now)
            piped.outbound.removeFirst(written)
            moved = moved || written > 0
        }
        var input: [UInt8] = []
        if case .bytes(let count) = try transport.read(piped.pipe, into: &input, maximum: 64 * 1024, now: now), count > 0 {
            piped.connection.receive(input.span, now: now)
            moved = true
        }
        while let event = piped.connection.pollEvent() {
            piped.events.append(event)
            moved = true
        }
        return moved
    }

    @Test func noiseAndYamuxRunOverAPipeAndTheServerSeesOnlyCiphertext() throws {
        let aliceIdentity = try NoisePair.ed25519Identity(seed: 10)
        let bobIdentity = try NoisePair.ed25519Identity(seed: 20)
        var network = TransportNetwork([aliceIdentity.peerID, bobIdentity.peerID])
        var sniffed: [UInt8] = []
        network.run()
        var generator = SeededGenerator(seed: 5)
        let alicePipe = try network.transports[0].open(to: bobIdentity.peerID, now: network.now, using: &generator)
        network.run()
        guard case .inbound(let bobPipe, let remote)? = network.events[1].last else { Issue.record("no inbound"); return }
        let echo = ConnectionFixture.echoProtocol
        var alice = PipedConnection(
            connection: try Connection(
                role: .client, direction: .outbound, identity: aliceIdentity, expectedRemotePeer: bobIdentity.peerID,
                supportedProtocols: [echo], now: network.now, using: &generator),
            pipe: alicePipe)
        var bob = PipedConnection(
            connection: try Connection(
                role: .server, direction: .inbound, identity: bobIdentity, supportedProtocols: [echo], now: network.now,
                using: &generator),
            pipe: bobPipe)

        let marker = Array("a plaintext marker the NATS server must never see".utf8)
        var stream: StreamID?
        var atBob: [UInt8] = []
        for _ in 0..<1000 {
            var moved = try Self.pump(&alice, &network.transports[0], now: network.now)
            moved = try Self.pump(&bob, &network.transports[1], now: network.now) || moved
            moved = network.step() || moved
            if stream == nil, alice.events.contains(where: { if case .established = $0 { true } else { false } }) {
                stream = try alice.connection.openStream(protocols: [echo], now: network.now)
                _ = try alice.connection.write(stream!, marker.span, now: network.now)
                try alice.connection.closeWrite(stream!, now: network.now)
            }
            for case .inboundStream(let id, _) in bob.events {
                while case .bytes? = try? bob.connection.read(id, into: &atBob, now: network.now) {}
            }
            for case .streamReadable(let id) in bob.events {
                while case .bytes? = try? bob.connection.read(id, into: &atBob, now: network.now) {}
            }
            bob.events.removeAll { if case .streamReadable = $0 { true } else { false } }
            if atBob == marker { break }
            if !moved { break }
        }
        guard case .established(let atAlice)? = alice.events.first,
              case .established(let atBobSide)? = bob.events.first
        else {
            Issue.record("not established: \(alice.events) \(bob.events)")
            return
        }
        #expect(atAlice.remotePeer == bobIdentity.peerID && atBobSide.remotePeer == aliceIdentity.peerID)
        #expect(remote == aliceIdentity.peerID, "the pipe's claimed opener is the peer Noise proved")
        #expect(atBob == marker)
        sniffed = network.server.sniffed
        #expect(!sniffed.isEmpty)
        #expect(sniffed.firstRange(of: marker) == nil, "the server saw only ciphertext")
    }
}
