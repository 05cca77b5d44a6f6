import Testing
@testable import TraverseCore

typealias ConnectionPair = MachinePair<Connection, Connection>

enum ConnectionFixture {
    static let echoProtocol = "/traverse/echo/1.0.0"

    static func identity(seed: UInt64) throws -> NoiseIdentity {
        try NoisePair.ed25519Identity(seed: seed)
    }

    /// A client (dialer) and server connection wired together, not yet run.
    static func pair(
        chunking: Chunking = .whole, client: ConnectionConfiguration = .init(), server: ConnectionConfiguration = .init(),
        expectServer: Bool = true, wrongExpectedPeer: Bool = false, serverProtocols: [String] = [echoProtocol]
    ) throws -> (pair: ConnectionPair, clientIdentity: NoiseIdentity, serverIdentity: NoiseIdentity) {
        let clientIdentity = try identity(seed: 10)
        let serverIdentity = try identity(seed: 20)
        var generator = SeededGenerator(seed: 30)
        let expected: PeerID? = wrongExpectedPeer ? clientIdentity.peerID : (expectServer ? serverIdentity.peerID : nil)
        let a = try Connection(
            role: .client, direction: .outbound, identity: clientIdentity, expectedRemotePeer: expected,
            supportedProtocols: [echoProtocol], configuration: client, now: .zero, using: &generator)
        let b = try Connection(
            role: .server, direction: .inbound, identity: serverIdentity, supportedProtocols: serverProtocols,
            configuration: server, now: .zero, using: &generator)
        return (ConnectionPair(a, b, chunking: chunking), clientIdentity, serverIdentity)
    }
}


@Suite struct ConnectionTests {
    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 5)])
    func upgradeWithInlinedMuxer(_ chunking: Chunking) throws {
        var (pair, clientIdentity, serverIdentity) = try ConnectionFixture.pair(chunking: chunking)
        pair.run()
        guard case .established(let atClient)? = pair.eventsA.first, case .established(let atServer)? = pair.eventsB.first else {
            Issue.record("not established: \(pair.eventsA) \(pair.eventsB)")
            return
        }
        #expect(atClient.remotePeer == serverIdentity.peerID)
        #expect(atServer.remotePeer == clientIdentity.peerID)
        #expect(atClient.inlinedMuxerNegotiation && atServer.inlinedMuxerNegotiation)
        #expect(pair.a.nextDeadline != nil, "Yamux keepalive runs")
    }

    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 6)])
    func upgradeNegotiatingTheMuxerAfterNoise(_ chunking: Chunking) throws {
        var legacy = ConnectionConfiguration()
        legacy.inlinesMuxerNegotiation = false  // like py-libp2p: no NoiseExtensions
        var (pair, _, serverIdentity) = try ConnectionFixture.pair(chunking: chunking, server: legacy)
        pair.run()
        guard case .established(let atClient)? = pair.eventsA.first, case .established? = pair.eventsB.first else {
            Issue.record("not established: \(pair.eventsA) \(pair.eventsB)")
            return
        }
        #expect(atClient.remotePeer == serverIdentity.peerID)
        #expect(!atClient.inlinedMuxerNegotiation)
        try Self.echoRoundTrip(&pair, size: 70_000)
    }

    @Test(arguments: [Chunking.whole, .random(seed: 7)])
    func streamsCarryDataBothWays(_ chunking: Chunking) throws {
        var (pair, _, _) = try ConnectionFixture.pair(chunking: chunking)
        pair.run()
        try Self.echoRoundTrip(&pair, size: 1 << 20)
    }

    /// Client opens an echo stream, writes `size` bytes and half-closes; the server reads
    /// everything, writes it back, and half-closes.
    static func echoRoundTrip(_ pair: inout ConnectionPair, size: Int) throws {
        let payload = randomBytes(size, seed: UInt64(size))
        let stream = try pair.a.openStream(protocols: [ConnectionFixture.echoProtocol], now: pair.now)
        pair.drainEvents()
        #expect(pair.eventsA.contains(.streamNegotiated(stream, protocol: ConnectionFixture.echoProtocol)),
                "optimistic: negotiated at once")
        var sent = 0
        var atServer: [UInt8] = []
        var serverEnded = false
        while !serverEnded {
            if sent < payload.count {
                let rest = Array(payload[sent...])
                sent += try pair.a.write(stream, rest.span, now: pair.now)
                if sent == payload.count { try pair.a.closeWrite(stream, now: pair.now) }
            }
            pair.run()
            let chunk = try pair.b.readAll(stream)
            atServer += chunk.bytes
            serverEnded = chunk.ended
            pair.run()
        }
        #expect(pair.eventsB.contains(.inboundStream(stream, protocol: ConnectionFixture.echoProtocol)))
        #expect(atServer == payload)
        var returned = 0
        var atClient: [UInt8] = []
        var clientEnded = false
        while !clientEnded {
            if returned < atServer.count {
                let rest = Array(atServer[returned...])
                returned += try pair.b.write(stream, rest.span, now: pair.now)
                if returned == atServer.count { try pair.b.closeWrite(stream, now: pair.now) }
            }
            pair.run()
            let chunk = try pair.a.readAll(stream)
            atClient += chunk.bytes
            clientEnded = chunk.ended
            pair.run()
        }
        #expect(atClient == payload)
        #expect(pair.eventsA.contains(.streamClosed(stream)))
        #expect(pair.eventsB.contains(.streamClosed(stream)))
        #expect(pair.a.streamCount == 0 && pair.b.streamCount == 0)
    }

    @Test func dataAndFinRidingWithTheProposal() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        pair.run()
        let stream = try pair.a.openStream(protocols: [ConnectionFixture.echoProtocol], now: pair.now)
        #expect(try pair.a.write(stream, [1, 2, 3].span, now: pair.now) == 3)
        try pair.a.closeWrite(stream, now: pair.now)
        pair.run()
        #expect(pair.eventsB.contains(.inboundStream(stream, protocol: ConnectionFixture.echoProtocol)))
        let received = try pair.b.readAll(stream)
        #expect(received.bytes == [1, 2, 3])
        #expect(received.ended)
    }

    @Test func unsupportedProtocolFailsTheStreamNotTheConnection() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        pair.run()
        let stream = try pair.a.openStream(protocols: ["/unknown/1.0.0"], now: pair.now)
        pair.run()
        #expect(pair.eventsA.contains(.streamNegotiationFailed(stream, .negotiation(.protocolRefused("/unknown/1.0.0")))))
        let second = try pair.a.openStream(protocols: ["/unknown/1.0.0", "/also/unknown"], now: pair.now)
        pair.run()
        #expect(pair.eventsA.contains(.streamNegotiationFailed(second, .negotiation(.noProtocolInCommon))))
        #expect(!pair.a.isClosed && !pair.b.isClosed)
        try Self.echoRoundTrip(&pair, size: 10)
    }

    @Test func wrongExpectedPeerNeverOpens() throws {
        var (pair, _, _) = try ConnectionFixture.pair(wrongExpectedPeer: true)
        pair.run()
        guard case .closed(.securityHandshakeFailed(.unexpectedPeer))? = pair.eventsA.last else {
            Issue.record("client events: \(pair.eventsA)")
            return
        }
        #expect(!pair.eventsA.contains { if case .established = $0 { true } else { false } })
        #expect(!pair.eventsB.contains { if case .established = $0 { true } else { false } })
    }

    @Test func handshakeTimesOut() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        // Nothing is delivered: the server waits for a client that never speaks.
        pair.advance(by: .seconds(9))
        #expect(pair.eventsB.isEmpty)
        pair.advance(by: .seconds(1))
        #expect(pair.eventsB == [.closed(.handshakeTimeout)])
        #expect(pair.b.nextDeadline == nil)
    }

    @Test func peerWithoutNoiseIsRefused() throws {
        var generator = SeededGenerator(seed: 1)
        let client = try Connection(
            role: .client, direction: .outbound, identity: try ConnectionFixture.identity(seed: 1),
            supportedProtocols: [], now: .zero, using: &generator)
        let tlsOnly = try MultistreamListener(supportedProtocols: ["/tls/1.0.0"])
        var pair = MachinePair(client, tlsOnly)
        pair.run()
        #expect(pair.eventsA.last == .closed(.securityNegotiationFailed(.protocolRefused("/noise"))))
    }

    @Test func corruptedTransportFrameClosesTheConnection() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        pair.run()
        let stream = try pair.a.openStream(protocols: [ConnectionFixture.echoProtocol], now: pair.now)
        _ = try pair.a.write(stream, [UInt8](repeating: 1, count: 100).span, now: pair.now)
        var wire: [UInt8] = []
        _ = pair.a.pollTransmit(into: &wire)
        wire[wire.count - 5] ^= 0x40
        pair.b.receive(wire.span, now: pair.now)
        pair.drainEvents()
        #expect(pair.eventsB.last == .closed(.decryptionFailed(.decryptionFailed)))
        #expect(pair.b.isClosed)
        #expect(throws: ConnectionUsageError.closed) { try pair.b.openStream(protocols: ["/x"], now: pair.now) }
    }

    @Test func localCloseSendsGoAway() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        pair.run()
        pair.a.close(now: pair.now)
        pair.run()
        #expect(pair.eventsA.last == .closed(.localClose))
        #expect(pair.eventsB.last == .remoteGoingAway)
        pair.b.transportClosed(now: pair.now)
        pair.drainEvents()
        #expect(pair.eventsB.last == .closed(.transportClosed))
    }

    @Test func streamsBeforeEstablishmentAreAUsageError() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        #expect(throws: ConnectionUsageError.notEstablished) { try pair.a.openStream(protocols: ["/x"], now: .zero) }
        pair.run()
        #expect(throws: ConnectionUsageError.invalidProtocols(.noProtocols)) { try pair.a.openStream(protocols: [], now: .zero) }
    }

    @Test func outboundStreamNegotiationTimesOut() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        pair.run()
        // Two protocols: not optimistic, so the stream waits for the server's answer, which
        // never comes because nothing is delivered.
        let stream = try pair.a.openStream(protocols: ["/a/1", "/b/1"], now: pair.now)
        #expect(throws: ConnectionUsageError.streamNotNegotiated(stream)) {
            try pair.a.write(stream, [1].span, now: pair.now)
        }
        pair.advance(by: .seconds(10))
        #expect(pair.eventsA.last == .streamNegotiationFailed(stream, .timeout))
        #expect(!pair.a.isClosed)
    }

    @Test func keepaliveKeepsAnIdleConnectionAndDetectsADeadOne() throws {
        var (pair, _, _) = try ConnectionFixture.pair()
        pair.run()
        for _ in 0..<4 {
            pair.advance(by: .seconds(30))
            pair.run()
        }
        #expect(!pair.a.isClosed && !pair.b.isClosed, "pings answered: the connection stays")
        // The server stops answering: the client's next keepalive ping times out.
        pair.advance(by: .seconds(30))
        pair.advance(by: .seconds(10))
        #expect(pair.eventsA.last == .closed(.muxerClosed(.keepaliveTimeout)))
    }
}
