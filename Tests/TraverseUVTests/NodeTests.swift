import Testing
import TraverseCore
@testable import TraverseUV

/// Two nodes on loopback sockets, driven by their own event loops.
@Suite struct NodeTests {
    static func key(_ seed: UInt8) throws -> PrivateKey {
        try PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32))
    }

    /// A listening node B and a node A.
    static func pair() async throws -> (a: Node, b: Node, address: Multiaddr) {
        let a = try Node(identityKey: key(1))
        let b = try Node(identityKey: key(2))
        let addresses = try await b.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0"))
        return (a, b, try #require(addresses.first))
    }

    @Test func dialIdentifyPingEchoPerf() async throws {
        let (a, b, address) = try await Self.pair()
        #expect(address.peerID == b.peerID)
        let connection = try await a.dial(address)
        #expect(connection.peer == b.peerID)
        #expect(connection.direction == .outbound)
        let info = try await a.identify(b.peerID)
        #expect(info.agentVersion == "traverse/0.1.0")
        #expect(info.protocols.contains(StreamProtocolID.echo))
        #expect(info.signedPeerRecord?.record.addresses == [address.withoutTrailingPeerID])
        #expect(info.observedAddress == connection.localAddress)
        let times = try await a.ping(b.peerID, count: 3)
        #expect(times.count == 3)
        _ = try await a.echo(b.peerID, byteCount: 1 << 20)
        let result = try await a.perf(b.peerID, uploadBytes: 8 << 20, downloadBytes: 8 << 20)
        #expect(result.uploadBytes == 8 << 20 && result.downloadBytes == 8 << 20)
        #expect(try await b.connections().map(\.peer) == [a.peerID])
        await a.stop()
        await b.stop()
    }

    @Test func applicationProtocolHandler() async throws {
        let (a, b, address) = try await Self.pair()
        try await b.setStreamHandler("/test/upper/1") { stream in
            guard let bytes = try? await stream.readAll() else { return }
            try? await stream.write(Array(String(decoding: bytes, as: UTF8.self).uppercased().utf8))
            try? await stream.closeWrite()
        }
        _ = try await a.dial(address)
        let stream = try await a.openStream(to: b.peerID, protocols: ["/test/upper/1"])
        #expect(stream.protocol == "/test/upper/1")
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 3 << 20)
        try await stream.write(payload)
        try await stream.closeWrite()
        let reply = try await stream.readAll()
        #expect(reply == [UInt8](repeating: UInt8(ascii: "X"), count: 3 << 20))
        // Two proposals: negotiated before the stream is handed out.
        await #expect(throws: NodeError.requestFailed(.protocolNotSupported(["/test/none/1", "/test/none/2"]))) {
            _ = try await a.openStream(to: b.peerID, protocols: ["/test/none/1", "/test/none/2"])
        }
        // One proposal is optimistic: the stream comes at once and the refusal resets it.
        let optimistic = try await a.openStream(to: b.peerID, protocols: ["/test/none/1"])
        await #expect(throws: NodeError.streamReset) { _ = try await optimistic.read() }
        await a.stop()
        await b.stop()
    }

    @Test func dialFailuresAreTyped() async throws {
        let (a, b, address) = try await Self.pair()
        let port = try #require(SocketAddress(tcp: address)?.port)
        await b.stop()
        // Nothing listens there any more.
        let refused = NodeError.dialFailed(.allAttemptsFailed([DialAttemptFailure(
            address: try Multiaddr("/ip4/127.0.0.1/tcp/\(port)"), reason: .transport(.connectionRefused))]))
        await #expect(throws: refused) { _ = try await a.dial(address) }
        let c = try Node(identityKey: Self.key(3))
        let cAddress = try #require(try await c.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
        let wrongPeer = try cAddress.withoutTrailingPeerID.encapsulate(.p2p(b.peerID))
        do {
            _ = try await a.dial(wrongPeer)
            Issue.record("dialing the wrong peer succeeded")
        } catch .dialFailed(.allAttemptsFailed(let attempts)) {
            guard case .upgrade(.securityHandshakeFailed(.unexpectedPeer(let expected, let actual)))? = attempts.first?.reason else {
                Issue.record("unexpected reason \(attempts)")
                return
            }
            #expect(expected == b.peerID && actual == c.peerID)
        }
        // A name resolved with getaddrinfo.
        let cPort = try #require(SocketAddress(tcp: cAddress)?.port)
        let byName = try await a.dial(Multiaddr("/dns4/localhost/tcp/\(cPort)/p2p/\(c.peerID)"))
        #expect(byName.peer == c.peerID)
        await a.stop()
        await c.stop()
        await #expect(throws: NodeError.stopped) { _ = try await a.dial(cAddress) }
    }

    @Test func stopEndsConnectionsOnThePeer() async throws {
        let (a, b, address) = try await Self.pair()
        _ = try await a.dial(address)
        var events = b.events.makeAsyncIterator()
        await a.stop()
        var closed = false
        while let event = await events.next() {
            if case .connectionClosed(let summary, _) = event, summary.peer == a.peerID {
                closed = true
                break
            }
        }
        #expect(closed)
        #expect(try await b.connections().isEmpty)
        await b.stop()
    }
}

@Suite struct NodeLifetimeTests {
    @Test func droppingConnectedNodesWithoutStopReturns() async throws {
        var a: Node? = try Node(identityKey: NodeTests.key(11))
        var b: Node? = try Node(identityKey: NodeTests.key(12))
        let address = try #require(try await b!.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
        _ = try await a!.dial(address)
        _ = try await a!.ping(b!.peerID)
        a = nil
        b = nil
        #expect(a == nil && b == nil)
    }
}
