import Testing
@testable import TraverseCore

/// Two or more swarms on the in-memory network: dialing, identify, the built-in protocols,
/// application streams, failures and limits.
@Suite struct SwarmTests {
    /// A listening node B and a node A that dialed it.
    static func connectedPair(
        configurationA: SwarmConfiguration = .init(), configurationB: SwarmConfiguration = .init()
    ) throws -> (SwarmNetwork, DialID) {
        var network = SwarmNetwork()
        try network.addNode(seed: 1, configuration: configurationA)
        try network.addNode(seed: 2, configuration: configurationB)
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/4001"), now: network.now)
        network.settle()
        let address = try #require(network.listenAddress(1))
        let dial = network.nodes[0].swarm.dial(address, now: network.now)
        network.settle()
        return (network, dial)
    }

    @Test func dialEstablishesAndIdentifiesBothWays() throws {
        var (network, dial) = try Self.connectedPair()
        let a = network.peer(0), b = network.peer(1)
        #expect(network.listenAddress(1)?.description == "/ip4/10.0.0.2/tcp/4001/p2p/\(b)")
        let eventsA = network.takeEvents(0)
        #expect(eventsA.contains { if case .dialSucceeded(dial, b, _) = $0 { true } else { false } })
        #expect(eventsA.contains { if case .connectionEstablished(let s) = $0 { s.peer == b && s.direction == .outbound } else { false } })
        let identifiedB = eventsA.compactMap { event -> IdentifyInfo? in
            if case .peerIdentified(b, let info) = event { info } else { nil }
        }.first
        let info = try #require(identifiedB)
        #expect(info.agentVersion == "traverse/0.1.0")
        #expect(info.protocols.contains(StreamProtocolID.perf))
        #expect(info.signedPeerRecord?.record.addresses.map(\.description) == ["/ip4/10.0.0.2/tcp/4001"])
        // B saw A's socket address and told it.
        #expect(eventsA.contains { if case .addressObserved(let address, b) = $0 { address.description.hasPrefix("/ip4/10.0.0.1/tcp/") } else { false } })
        #expect(network.nodes[0].swarm.peerStore[b]?.addresses.map(\.description) == ["/ip4/10.0.0.2/tcp/4001"])
        #expect(network.nodes[0].swarm.peerStore[b]?.agentVersion == "traverse/0.1.0")
        let eventsB = network.takeEvents(1)
        #expect(eventsB.contains { if case .connectionEstablished(let s) = $0 { s.peer == a && s.direction == .inbound } else { false } })
        #expect(eventsB.contains { if case .peerIdentified(a, _) = $0 { true } else { false } })
        #expect(network.nodes[1].swarm.connections(to: a).count == 1)
    }

    @Test func pingPerfAndEcho() throws {
        var (network, _) = try Self.connectedPair()
        let b = network.peer(1)
        _ = network.takeEvents(0)
        let ping = network.nodes[0].swarm.ping(b, count: 3, now: network.now)
        let perf = network.nodes[0].swarm.perf(b, uploadBytes: 3 << 20, downloadBytes: 5 << 20, now: network.now)
        let echo = network.nodes[0].swarm.echo(b, byteCount: 1 << 20, now: network.now)
        network.settle()
        let events = network.takeEvents(0)
        #expect(events.filter { if case .pingRoundTrip(ping, _) = $0 { true } else { false } }.count == 3)
        var outcomes: [RequestID: RequestOutcome] = [:]
        for case .requestCompleted(let id, let outcome) in events { outcomes[id] = outcome }
        guard case .pinged(let times)? = outcomes[ping] else {
            Issue.record("ping: \(String(describing: outcomes[ping]))")
            return
        }
        #expect(times.count == 3)
        guard case .perf(let result)? = outcomes[perf] else {
            Issue.record("perf: \(String(describing: outcomes[perf])) \(events) B: \(network.nodes[1].events)")
            return
        }
        #expect(result.uploadBytes == 3 << 20 && result.downloadBytes == 5 << 20)
        #expect(outcomes[echo] == .echoed(byteCount: 1 << 20, elapsed: .zero))
    }

    @Test func applicationStreamCarriesBytesBothWays() throws {
        var (network, _) = try Self.connectedPair()
        let a = network.peer(0), b = network.peer(1)
        network.nodes[1].swarm.addStreamHandler("/test/chat/1", now: network.now)
        network.settle()
        _ = network.takeEvents(0)
        _ = network.takeEvents(1)
        let request = network.nodes[0].swarm.openStream(to: b, protocols: ["/test/chat/1"], now: network.now)
        network.settle()
        let opened = network.takeEvents(0).compactMap { event -> SwarmStreamID? in
            if case .streamOpened(request, let stream, "/test/chat/1") = event { stream } else { nil }
        }.first
        let streamA = try #require(opened)
        let message: [UInt8] = Array("hello over yamux".utf8)
        #expect(try network.nodes[0].swarm.write(streamA, message.span, now: network.now) == message.count)
        try network.nodes[0].swarm.closeWrite(streamA, now: network.now)
        network.settle()
        let inbound = network.takeEvents(1).compactMap { event -> SwarmStreamID? in
            if case .inboundStream(let stream, "/test/chat/1", a) = event { stream } else { nil }
        }.first
        let streamB = try #require(inbound)
        var received: [UInt8] = []
        #expect(try network.nodes[1].swarm.read(streamB, into: &received, now: network.now) == .bytes(message.count))
        #expect(received == message)
        #expect(try network.nodes[1].swarm.read(streamB, into: &received, now: network.now) == .endOfStream)
        let reply: [UInt8] = Array("hi".utf8)
        _ = try network.nodes[1].swarm.write(streamB, reply.span, now: network.now)
        try network.nodes[1].swarm.closeWrite(streamB, now: network.now)
        network.settle()
        var back: [UInt8] = []
        #expect(try network.nodes[0].swarm.read(streamA, into: &back, now: network.now) == .bytes(2))
        #expect(try network.nodes[0].swarm.read(streamA, into: &back, now: network.now) == .endOfStream)
        #expect(back == reply)
        network.settle()
        #expect(network.takeEvents(0).contains(.streamClosed(streamA)))
        #expect(throws: SwarmUsageError.unknownStream(streamA)) {
            try network.nodes[0].swarm.write(streamA, reply.span, now: network.now)
        }
    }

    @Test func unsupportedProtocolFailsTheRequest() throws {
        var (network, _) = try Self.connectedPair()
        let b = network.peer(1)
        _ = network.takeEvents(0)
        let request = network.nodes[0].swarm.openStream(to: b, protocols: ["/nobody/1", "/nobody/2"], now: network.now)
        network.settle()
        #expect(network.takeEvents(0).contains(
            .requestCompleted(request, .failed(.protocolNotSupported(["/nobody/1", "/nobody/2"])))))
        // The connection is still fine.
        let ping = network.nodes[0].swarm.ping(b, now: network.now)
        network.settle()
        #expect(network.takeEvents(0).contains { if case .requestCompleted(ping, .pinged) = $0 { true } else { false } })
    }

    @Test func wrongPeerIDFailsTheDial() throws {
        var network = SwarmNetwork()
        try network.addNode(seed: 1)
        try network.addNode(seed: 2)
        try network.addNode(seed: 3)
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        network.settle()
        let wrong = try Multiaddr("/ip4/10.0.0.2/tcp/4001/p2p/\(network.peer(2))")
        let dial = network.nodes[0].swarm.dial(wrong, now: network.now)
        network.settle()
        let failure = network.takeEvents(0).compactMap { event -> DialFailure? in
            if case .dialFailed(dial, let failure) = event { failure } else { nil }
        }.first
        guard case .allAttemptsFailed(let attempts)? = failure, let attempt = attempts.first,
              case .upgrade(.securityHandshakeFailed(.unexpectedPeer(let expected, let actual))) = attempt.reason
        else {
            Issue.record("unexpected outcome \(String(describing: failure))")
            return
        }
        #expect(expected == network.peer(2) && actual == network.peer(1))
        #expect(network.nodes[0].swarm.connectionCount == 0)
        network.settle()
        #expect(network.nodes[1].swarm.connectionCount == 0)
    }

    @Test func refusedAndSilentAddressesFail() throws {
        var network = SwarmNetwork()
        try network.addNode(seed: 1)
        let refused = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.9/tcp/1"), now: network.now)
        network.blackHoles.insert(.ipv4(IPv4Address(10, 0, 0, 8), port: 1))
        let silent = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.8/tcp/1"), now: network.now)
        let start = network.now
        network.settle()
        #expect(network.takeEvents(0).contains(.dialFailed(refused, .allAttemptsFailed([
            DialAttemptFailure(address: try Multiaddr("/ip4/10.0.0.9/tcp/1"), reason: .transport(.connectionRefused))]))))
        network.run { network in network.nodes[0].events.contains { if case .dialFailed(silent, _) = $0 { true } else { false } } }
        #expect(network.takeEvents(0).contains(.dialFailed(silent, .allAttemptsFailed([
            DialAttemptFailure(address: try Multiaddr("/ip4/10.0.0.8/tcp/1"), reason: .transport(.timedOut))]))))
        #expect(network.now - start >= SwarmConfiguration().connectTimeout)
        #expect(network.nodes[0].swarm.connectionCount == 0)
        let unsupported = network.nodes[0].swarm.dial(try Multiaddr("/ip4/1.2.3.4/udp/1/quic-v1"), now: network.now)
        let selfDial = network.nodes[0].swarm.dial(try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/\(network.peer(0))"), now: network.now)
        network.settle()
        let events = network.takeEvents(0)
        #expect(events.contains(.dialFailed(unsupported, .unsupportedAddress(try Multiaddr("/ip4/1.2.3.4/udp/1/quic-v1")))))
        #expect(events.contains(.dialFailed(selfDial, .dialedSelf)))
    }

    @Test func requestToKnownPeerDialsItAndReusesTheConnection() throws {
        var (network, _) = try Self.connectedPair()
        let b = network.peer(1)
        network.nodes[0].swarm.disconnect(b, now: network.now)
        network.settle()
        #expect(network.nodes[0].swarm.connections(to: b).isEmpty)
        _ = network.takeEvents(0)
        // The peer store learned B's address from identify: a ping dials it.
        let ping = network.nodes[0].swarm.ping(b, now: network.now)
        let second = network.nodes[0].swarm.dial(peer: b, now: network.now)
        network.settle()
        let events = network.takeEvents(0)
        #expect(events.contains { if case .requestCompleted(ping, .pinged) = $0 { true } else { false } })
        #expect(events.contains { if case .dialSucceeded(second, b, _) = $0 { true } else { false } })
        #expect(network.nodes[0].swarm.connections(to: b).count == 1)
        // A dial while connected reuses the connection.
        let third = network.nodes[0].swarm.dial(peer: b, now: network.now)
        #expect(network.nodes[0].swarm.pollEvent().map { if case .dialSucceeded(third, b, _) = $0 { true } else { false } } == true)
    }

    @Test func identifyPushCarriesNewAddresses() throws {
        var (network, _) = try Self.connectedPair()
        let b = network.peer(1)
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/10.0.0.2/tcp/5001"), now: network.now)
        network.settle()
        #expect(network.nodes[0].swarm.peerStore[b]?.addresses.map(\.description)
            == ["/ip4/10.0.0.2/tcp/4001", "/ip4/10.0.0.2/tcp/5001"])
        #expect(network.takeEvents(0).contains { if case .peerIdentified(b, _) = $0 { true } else { false } })
    }

    @Test func shutdownClosesEverythingAndTellsThePeer() throws {
        var (network, _) = try Self.connectedPair()
        let a = network.peer(0)
        _ = network.takeEvents(1)
        network.nodes[0].swarm.shutdown(now: network.now)
        network.settle()
        #expect(network.nodes[0].swarm.isIdle)
        #expect(network.takeEvents(1).contains { if case .connectionClosed(let summary, _) = $0 { summary.peer == a } else { false } })
        #expect(network.nodes[1].swarm.connectionCount == 0)
        let late = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        #expect(network.nodes[0].swarm.pollEvent() == .dialFailed(late, .shutdown))
    }

    @Test func blockedTransportPausesReadingAndTransmit() throws {
        var (network, _) = try Self.connectedPair()
        let b = network.peer(1)
        let connection = try #require(network.nodes[0].swarm.connections(to: b).first?.id)
        network.nodes[0].swarm.transportBlocked(connection, now: network.now)
        #expect(network.nodes[0].swarm.pollAction() == .pauseReading(connection))
        let ping = network.nodes[0].swarm.ping(b, now: network.now)
        var buffer: [UInt8] = []
        #expect(network.nodes[0].swarm.pollTransmit(into: &buffer) == nil)
        network.nodes[0].swarm.transportUnblocked(connection, now: network.now)
        #expect(network.nodes[0].swarm.pollAction() == .resumeReading(connection))
        network.nodes[0].paused.remove(connection)
        network.settle()
        #expect(network.takeEvents(0).contains { if case .requestCompleted(ping, .pinged) = $0 { true } else { false } })
    }

    @Test func perPeerAndInboundLimitsRefuseConnections() throws {
        var configuration = SwarmConfiguration()
        configuration.maximumConnectionsPerPeer = 1
        var network = SwarmNetwork()
        try network.addNode(seed: 1)
        try network.addNode(seed: 2, configuration: configuration)
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        network.settle()
        // Two raw dials to the same address, not deduplicated (no peer ID in the address).
        _ = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        _ = network.nodes[0].swarm.dial(try Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        network.settle()
        #expect(network.nodes[1].swarm.connections(to: network.peer(0)).count == 1)
        #expect(network.nodes[0].swarm.connections(to: network.peer(1)).count == 1)
    }

    @Test func fullPeerStoreEvictsOnlyPeersWithoutConnections() throws {
        var configuration = SwarmConfiguration()
        configuration.peerStore.maximumPeers = 2
        var network = SwarmNetwork()
        try network.addNode(seed: 1, configuration: configuration)
        for seed in 2...5 { try network.addNode(seed: UInt8(seed)) }
        _ = try network.nodes[0].swarm.listen(on: Multiaddr("/ip4/10.0.0.1/tcp/4001"), now: network.now)
        network.settle()
        let address = try #require(network.listenAddress(0))
        func connect(_ node: Int) {
            _ = network.nodes[node].swarm.dial(address, now: network.now)
            network.settle()
        }
        connect(1)
        connect(2)
        // Full of connected peers: the third is kept too (connected peers do not count), and
        // nobody is evicted.
        connect(3)
        let store = { network.nodes[0].swarm.peerStore }
        #expect(store().count == 3)
        #expect(store()[network.peer(1)] != nil && store()[network.peer(2)] != nil && store()[network.peer(3)] != nil)
        // Once peer 1 is gone, the next new peer evicts it; connected peers 2 and 3 stay.
        network.nodes[1].swarm.disconnect(network.peer(0), now: network.now)
        network.settle()
        #expect(network.nodes[0].swarm.connections(to: network.peer(1)).isEmpty)
        connect(4)
        #expect(store().count == 3)
        #expect(store()[network.peer(1)] == nil && store()[network.peer(2)] != nil)
        #expect(store()[network.peer(3)] != nil && store()[network.peer(4)] != nil)
        #expect(network.nodes[0].swarm.connections(to: network.peer(3)).count == 1)
    }

    @Test func keepaliveMeasuresRoundTripsAndIdleConnectionsStayUp() throws {
        var (network, _) = try Self.connectedPair()
        let b = network.peer(1)
        _ = network.takeEvents(0)
        network.advance(by: .seconds(95))
        #expect(network.takeEvents(0).contains { if case .roundTripTime = $0 { true } else { false } })
        #expect(network.nodes[0].swarm.connections(to: b).count == 1)
    }

    @Test func dialsDNSAndDNSAddrNames() throws {
        var network = SwarmNetwork()
        try network.addNode(seed: 1)
        try network.addNode(seed: 2)
        try network.addNode(seed: 3)
        let b = network.peer(1), c = network.peer(2)
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: network.now)
        network.settle()
        network.hostNames["b.example"] = IPv4Address(10, 0, 0, 2)
        network.txtRecords["_dnsaddr.peers.example"] = [
            "dnsaddr=/ip4/10.0.0.3/tcp/4001/p2p/\(c)",
            "dnsaddr=/dns4/b.example/tcp/4001/p2p/\(b)",
        ]
        let byName = network.nodes[0].swarm.dial(try Multiaddr("/dns4/b.example/tcp/4001/p2p/\(b)"), now: network.now)
        network.settle()
        #expect(network.takeEvents(0).contains { if case .dialSucceeded(byName, b, _) = $0 { true } else { false } })
        network.nodes[0].swarm.disconnect(b, now: network.now)
        network.settle()
        // The TXT records list C (not ours to take: another peer ID) and B by name.
        let byRecord = network.nodes[0].swarm.dial(try Multiaddr("/dnsaddr/peers.example/p2p/\(b)"), now: network.now)
        network.settle()
        #expect(network.takeEvents(0).contains { if case .dialSucceeded(byRecord, b, _) = $0 { true } else { false } })
        let unknown = network.nodes[0].swarm.dial(try Multiaddr("/dns4/nowhere.example/tcp/1"), now: network.now)
        network.settle()
        let failure = network.takeEvents(0).compactMap { event -> DialFailure? in
            if case .dialFailed(unknown, let failure) = event { failure } else { nil }
        }.first
        #expect(failure == .allAttemptsFailed([DialAttemptFailure(
            address: try Multiaddr("/dns4/nowhere.example/tcp/1"), reason: .resolution(.nameNotFound("nowhere.example")))]))
    }

    @Test func unspecifiedListenAddressExpandsToDialableInterfaces() throws {
        var swarm = try Swarm(
            identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32)), now: .zero,
            using: SeededRandomNumberGenerator(seed: 1))
        let v6 = try swarm.listen(on: Multiaddr("/ip6/::/tcp/0"), now: .zero)
        let v4 = try swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/0"), now: .zero)
        let interfaces: [SocketAddress] = [
            .ipv4(IPv4Address(127, 0, 0, 1), port: 0), .ipv4(IPv4Address(192, 168, 1, 5), port: 0),
            .ipv6(try #require(IPv6Address("::1")), port: 0), .ipv6(try #require(IPv6Address("fe80::1")), port: 0),
            .ipv6(try #require(IPv6Address("fd00::2")), port: 0),
        ]
        swarm.listenerStarted(v6, boundAddress: .ipv6(try #require(IPv6Address("::")), port: 4001), interfaces: interfaces, now: .zero)
        swarm.listenerStarted(v4, boundAddress: .ipv4(IPv4Address(0, 0, 0, 0), port: 4001), interfaces: interfaces, now: .zero)
        #expect(swarm.listenAddresses.map(\.description) == [
            "/ip6/::1/tcp/4001", "/ip6/fd00::2/tcp/4001", "/ip4/127.0.0.1/tcp/4001", "/ip4/192.168.1.5/tcp/4001",
        ])
        #expect(throws: SwarmUsageError.unsupportedListenAddress(try Multiaddr("/ip4/1.2.3.4/udp/1"))) {
            try swarm.listen(on: Multiaddr("/ip4/1.2.3.4/udp/1"), now: .zero)
        }
    }
}
