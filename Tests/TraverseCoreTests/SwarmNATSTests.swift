import Testing
@testable import TraverseCore

/// The NATS fallback tier in the swarm: connections carried by pipes through an in-memory
/// NATS server.
@Suite struct SwarmNATSTests {
    /// A network with a NATS server and `count` nodes using it (seeds 1, 2, …).
    private func natsNetwork(nodes count: Int = 2, pipeWindow: UInt32? = nil) throws -> SwarmNetwork {
        var network = SwarmNetwork()
        network.natsServer = MockNATSServer()
        var configuration = SwarmConfiguration()
        configuration.nats = NATSTierConfiguration(server: network.natsAddress)
        if let pipeWindow {
            configuration.nats?.transport.router.pipe.receiveWindow = pipeWindow
            configuration.nats?.transport.router.pipe.maximumSendBuffer = Int(pipeWindow)
            configuration.nats?.transport.router.pipe.maximumFramePayload = Int(pipeWindow) / 4
        }
        for seed in 1...count { try network.addNode(seed: UInt8(seed), configuration: configuration) }
        network.settle()
        return network
    }

    private func natsConnected(_ events: [SwarmEvent]) -> Bool {
        events.contains { if case .natsConnected = $0 { true } else { false } }
    }

    private func established(_ events: [SwarmEvent]) -> [ConnectionSummary] {
        events.compactMap { if case .connectionEstablished(let summary) = $0 { summary } else { nil } }
    }

    private func dialOutcome(_ events: [SwarmEvent], _ dial: DialID) -> Result<ConnectionID, DialFailure>? {
        for event in events {
            switch event {
            case .dialSucceeded(dial, _, let connection): return .success(connection)
            case .dialFailed(dial, let failure): return .failure(failure)
            default: continue
            }
        }
        return nil
    }

    @Test func bothNodesConnectToTheServerAndSubscribe() throws {
        let network = try natsNetwork()
        #expect(natsConnected(network.nodes[0].events))
        #expect(natsConnected(network.nodes[1].events))
        #expect(network.nodes[0].swarm.isNATSConnected)
        let subjects = network.natsServer!.clients.flatMap { $0.subscriptions.values }.sorted()
        #expect(subjects == ["traverse.pipe.\(network.peer(0))", "traverse.pipe.\(network.peer(1))"].sorted())
    }

    @Test func pipeConnectionIsEstablishedAndAuthenticatedBothWays() throws {
        var network = try natsNetwork()
        let dial = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, dial) != nil }
        guard case .success(let connection)? = dialOutcome(network.nodes[0].events, dial) else {
            Issue.record("dial failed: \(String(describing: dialOutcome(network.nodes[0].events, dial)))")
            return
        }
        let outbound = try #require(established(network.nodes[0].events).first)
        let inbound = try #require(established(network.nodes[1].events).first)
        #expect(outbound.id == connection)
        #expect(outbound.peer == network.peer(1) && inbound.peer == network.peer(0))
        #expect(outbound.tier == .nats && inbound.tier == .nats)
        #expect(outbound.direction == .outbound && inbound.direction == .inbound)
        #expect(!outbound.isRelayed)
        #expect(outbound.remoteAddress.peerID == network.peer(1))
        // Identify ran over the pipe both ways, with no observed address (no socket).
        network.run(until: .seconds(5)) { network in
            network.nodes[0].events.contains { if case .peerIdentified = $0 { true } else { false } }
                && network.nodes[1].events.contains { if case .peerIdentified = $0 { true } else { false } }
        }
        #expect(!network.nodes[0].events.contains { if case .addressObserved = $0 { true } else { false } })
        // The server relayed only pipe frames on the two nodes' subjects.
        let subjects = Set(network.natsServer!.published.map(\.subject))
        #expect(subjects == ["traverse.pipe.\(network.peer(0))", "traverse.pipe.\(network.peer(1))"])
    }

    @Test func pingAndEchoRunOverAPipeAndTheServerSeesNoPlaintext() throws {
        var network = try natsNetwork()
        let dial = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, dial) != nil }
        let ping = network.nodes[0].swarm.ping(network.peer(1), count: 3, now: network.now)
        let echo = network.nodes[0].swarm.echo(network.peer(1), byteCount: 1 << 20, now: network.now)
        let start = network.now
        network.run(until: .seconds(30)) { network in
            let completed = network.nodes[0].events.compactMap { event -> RequestID? in
                if case .requestCompleted(let id, _) = event { id } else { nil }
            }
            return completed.contains(ping) && completed.contains(echo)
        }
        var outcomes: [RequestID: RequestOutcome] = [:]
        for case .requestCompleted(let id, let outcome) in network.nodes[0].events { outcomes[id] = outcome }
        guard case .pinged(let times)? = outcomes[ping] else {
            Issue.record("ping: \(String(describing: outcomes[ping]))")
            return
        }
        #expect(times.count == 3)
        guard case .echoed(let count, _)? = outcomes[echo] else {
            Issue.record("echo: \(String(describing: outcomes[echo]))")
            return
        }
        #expect(count == 1 << 20)
        // No stall: both sides keep reading while their output waits for credit (with no
        // latency, nothing else takes time).
        #expect(network.now - start < .seconds(1), "took \(network.now - start)")
        // Multistream protocol names travel inside Noise: the server never sees them.
        let sniffed = network.natsServer!.sniffed
        for marker in ["/ipfs/ping/1.0.0", "/yamux/1.0.0", "/traverse/echo/1.0.0"] {
            #expect(!contains(sniffed, Array(marker.utf8)), "\(marker) in the clear")
        }
        #expect(sniffed.count > 2 << 20)
    }

    @Test func bothSidesSendingPastTheirCreditDoNotStall() throws {
        // Small pipe windows, and both sides sending at once (an echo): each side's output
        // waits for the other's credit, which comes back only when the other reads.
        var network = try natsNetwork(pipeWindow: 4 * 1024)
        let dial = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, dial) != nil }
        let echoes = (0..<4).map { _ in network.nodes[0].swarm.echo(network.peer(1), byteCount: 256 * 1024, now: network.now) }
        let start = network.now
        network.run(until: .seconds(60)) { network in
            let completed = Set(network.nodes[0].events.compactMap { event -> RequestID? in
                if case .requestCompleted(let id, _) = event { id } else { nil }
            })
            return echoes.allSatisfy(completed.contains)
        }
        let outcomes = network.nodes[0].events.compactMap { event -> RequestOutcome? in
            if case .requestCompleted(let id, let outcome) = event, echoes.contains(id) { outcome } else { nil }
        }
        #expect(outcomes.count == 4)
        #expect(outcomes.allSatisfy { if case .echoed(byteCount: 256 * 1024, _) = $0 { true } else { false } })
        // No wait for a keepalive (10 s) to unblock them: virtual time barely moved.
        #expect(network.now - start < .seconds(1), "took \(network.now - start)")
    }

    @Test func dialFallsBackToNATSWhenTheDirectAttemptFails() throws {
        var network = try natsNetwork()
        // Nothing listens at this address: the direct attempt is refused.
        let address = try Multiaddr("/ip4/10.0.0.2/tcp/4001/p2p/\(network.peer(1))")
        let dial = network.nodes[0].swarm.dial(address, now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, dial) != nil }
        guard case .success(let connection)? = dialOutcome(network.nodes[0].events, dial) else {
            Issue.record("dial failed: \(String(describing: dialOutcome(network.nodes[0].events, dial)))")
            return
        }
        #expect(network.nodes[0].swarm.establishedConnections.first { $0.id == connection }?.tier == .nats)
        // The NATS connection is reused by the next dial of the peer.
        let again = network.nodes[0].swarm.dial(peer: network.peer(1), now: network.now)
        network.settle()
        #expect(dialOutcome(network.nodes[0].events, again) == .success(connection))
    }

    @Test func aPeerOnlyDialFailsWithEveryAttemptWhenNATSCannotReachIt() throws {
        var network = try natsNetwork()
        // A peer that is not on the server: its subject has no subscriber, the OPEN goes nowhere.
        let stranger = try PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32)).peerID
        let dial = network.nodes[0].swarm.dial(peer: stranger, now: network.now)
        network.run(until: .seconds(20)) { self.dialOutcome($0.nodes[0].events, dial) != nil }
        guard case .failure(let failure)? = dialOutcome(network.nodes[0].events, dial) else {
            Issue.record("expected a failure")
            return
        }
        // Nobody accepts the pipe: the attempt fails as that, within the dial's time.
        guard case .allAttemptsFailed(let attempts) = failure else {
            Issue.record("unexpected failure \(failure)")
            return
        }
        #expect(attempts.count == 1)
        #expect(attempts.first?.reason == .nats(.openTimeout))
        #expect(attempts.first?.address.peerID == stranger)
    }

    @Test func directConnectionIsPreferredToTheNATSOne() throws {
        var network = try natsNetwork()
        _ = try network.nodes[1].swarm.listen(on: Multiaddr("/ip4/0.0.0.0/tcp/0"), now: network.now)
        network.settle()
        let listenAddress = try #require(network.listenAddress(1))
        let natsDial = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, natsDial) != nil }
        guard case .success(let overNATS)? = dialOutcome(network.nodes[0].events, natsDial) else {
            Issue.record("NATS dial failed")
            return
        }
        #expect(network.nodes[0].swarm.usableConnection(to: network.peer(1)) == overNATS)
        let directDial = network.nodes[0].swarm.dial(listenAddress, reusingConnection: false, now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, directDial) != nil }
        guard case .success(let direct)? = dialOutcome(network.nodes[0].events, directDial) else {
            Issue.record("direct dial failed")
            return
        }
        #expect(direct != overNATS)
        #expect(network.nodes[0].swarm.usableConnection(to: network.peer(1)) == direct)
        #expect(network.nodes[0].swarm.usableConnection(to: network.peer(1), tier: .nats) == overNATS)
        // A NATS-only dial reuses the NATS connection, not the direct one.
        let again = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.settle()
        #expect(dialOutcome(network.nodes[0].events, again) == .success(overNATS))
    }

    @Test func aPeerThatLiesAboutItsIdentityIsClosed() throws {
        var network = try natsNetwork(nodes: 1)
        var configuration = SwarmConfiguration()
        configuration.nats = NATSTierConfiguration(server: network.natsAddress)
        let liar = try network.addNode(seed: 3, configuration: configuration)
        // The liar's frames (and its subscription) name peer 7, but its Noise key is its own.
        let claimed = try PrivateKey(ed25519Seed: [UInt8](repeating: 7, count: 32)).peerID
        network.nodes[liar].swarm.nats.claimedPeer = claimed
        network.settle()
        #expect(natsConnected(network.nodes[liar].events))
        let dial = network.nodes[liar].swarm.dialOverNATS(peer: network.peer(0), now: network.now)
        network.run(until: .seconds(20)) { network in
            network.nodes[liar].swarm.establishedConnections.isEmpty && self.dialOutcome(network.nodes[liar].events, dial) != nil
        }
        // Node 0 never took the liar for anyone: the handshake proved another peer than the
        // OPEN claimed, so the connection was closed before it was established.
        #expect(established(network.nodes[0].events).isEmpty)
        #expect(network.nodes[0].swarm.establishedConnections.isEmpty)
        #expect(network.nodes[0].swarm.natsConnectionCount == 0)
    }

    @Test func losingTheServerClosesTheNATSConnectionsWithATypedReason() throws {
        var network = try natsNetwork()
        let dial = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, dial) != nil }
        guard case .success(let connection)? = dialOutcome(network.nodes[0].events, dial) else {
            Issue.record("dial failed")
            return
        }
        _ = network.takeEvents(0)
        _ = network.takeEvents(1)
        network.stopNATSServer()
        let events = network.takeEvents(0)
        #expect(events.contains(.natsPipeFailed(connection, .transportClosed)))
        #expect(events.contains { event in
            if case .connectionClosed(let summary, .transportClosed) = event { summary.id == connection && summary.tier == .nats } else { false }
        })
        #expect(events.contains(.natsDisconnected(.transport(.client(.transportClosed)))))
        #expect(network.takeEvents(1).contains(.natsDisconnected(.transport(.client(.transportClosed)))))
        #expect(network.nodes[0].swarm.establishedConnections.isEmpty)
        #expect(!network.nodes[0].swarm.isNATSConnected)
        // The swarm connects again after the delay; the server is gone, so that fails too.
        network.advance(by: .seconds(6))
        #expect(network.takeEvents(0).contains(.natsDisconnected(.connectFailed(.connectionRefused))))
        // A NATS dial now finds no server.
        let later = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, later) != nil }
        guard case .failure(.allAttemptsFailed(let attempts))? = dialOutcome(network.nodes[0].events, later) else {
            Issue.record("expected the NATS dial to fail")
            return
        }
        #expect(attempts.map(\.reason) == [.natsUnavailable])
        // The server is back: the swarm reconnects by itself.
        network.natsServer = MockNATSServer()
        network.advance(by: .seconds(6))
        #expect(network.nodes[0].swarm.isNATSConnected)
    }

    @Test func dialOverNATSWithoutTheTierFailsAtOnce() throws {
        var network = SwarmNetwork()
        try network.addNode(seed: 1)
        try network.addNode(seed: 2)
        let dial = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.settle()
        guard case .failure(.allAttemptsFailed(let attempts))? = dialOutcome(network.nodes[0].events, dial) else {
            Issue.record("expected a failure")
            return
        }
        #expect(attempts.map(\.reason) == [.natsUnavailable])
        // And a peer with no address is not dialed through a tier that is not there.
        let byPeer = network.nodes[0].swarm.dial(peer: network.peer(1), now: network.now)
        network.settle()
        #expect(dialOutcome(network.nodes[0].events, byPeer) == .failure(.noAddresses(network.peer(1))))
    }

    @Test func shutdownClosesThePipesAndTheServerSocket() throws {
        var network = try natsNetwork()
        let dial = network.nodes[0].swarm.dialOverNATS(peer: network.peer(1), now: network.now)
        network.run(until: .seconds(10)) { self.dialOutcome($0.nodes[0].events, dial) != nil }
        network.nodes[0].swarm.shutdown(now: network.now)
        network.run(until: .seconds(10)) { $0.nodes[0].swarm.isIdle }
        #expect(network.nodes[0].swarm.isIdle)
        #expect(network.takeEvents(0).contains(.natsDisconnected(.shutdown)))
        // The peer saw its connection end.
        network.run(until: .seconds(40)) { $0.nodes[1].swarm.establishedConnections.isEmpty }
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}

@Suite struct NATSServerURLTests {
    @Test func parsesHostsAndPorts() throws {
        let v4 = try NATSServerURL("nats://127.0.0.1:4333")
        #expect(v4.socketAddress == .ipv4(IPv4Address(127, 0, 0, 1), port: 4333))
        #expect(v4.description == "nats://127.0.0.1:4333")
        let defaultPort = try NATSServerURL("NATS://10.1.2.3/")
        #expect(defaultPort.port == 4222)
        let v6 = try NATSServerURL("nats://[::1]:5000")
        #expect(v6.host == "::1" && v6.port == 5000 && v6.socketAddress?.isIPv6 == true)
        let name = try NATSServerURL("nats://nats.example.org")
        #expect(name.host == "nats.example.org" && name.port == 4222 && name.socketAddress == nil)
    }

    @Test func refusesAnythingElse() {
        let cases: [(String, NATSServerURLError)] = [
            ("127.0.0.1:4222", .missingScheme("127.0.0.1:4222")),
            ("tls://127.0.0.1:4222", .unsupportedScheme("tls")),
            ("nats://user:secret@127.0.0.1:4222", .credentialsNotSupported),
            ("nats://:4222", .emptyHost),
            ("nats://", .emptyHost),
            ("nats://bad_host", .invalidHost("bad_host")),
            ("nats://[::1", .invalidHost("[::1")),
            ("nats://[zz]:1", .invalidHost("zz")),
            ("nats://127.0.0.1:0", .invalidPort("0")),
            ("nats://127.0.0.1:65536", .invalidPort("65536")),
            ("nats://127.0.0.1:", .invalidPort("")),
            ("nats://127.0.0.1:+1", .invalidPort("+1")),
            ("nats://127.0.0.1:4222/subject", .unexpectedPath("/subject")),
            ("nats://127.0.0.1?x=1", .unexpectedPath("?x=1")),
        ]
        for (text, expected) in cases {
            #expect(throws: expected, "\(text)") { try NATSServerURL(text) }
        }
    }
}
