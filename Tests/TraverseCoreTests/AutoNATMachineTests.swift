import Testing
@testable import TraverseCore

@Suite struct AutoNATServerTests {
    typealias F = AutoNATFixtures

    func server(observed: IPAddress = F.observed, configuration: AutoNATServerConfiguration = .init()) -> AutoNATServer {
        AutoNATServer(peer: F.client, observedIP: observed, now: .zero, configuration: configuration)
    }

    func response(_ bytes: [UInt8]) throws -> AutoNATDialResponse? {
        var reader = AutoNATMessageReader()
        guard case .dialResponse(let response)? = try reader.append(bytes.span) else { return nil }
        return response
    }

    @Test func dialBackOnlyTheObservedIP() throws {
        var server = server()
        let request = AutoNATMessage.dial(peer: F.client, addresses: [
            F.address("/ip4/192.168.1.2/tcp/4001"),  // private, another IP
            F.address("/ip4/81.2.3.4/tcp/4001"),
            F.address("/ip4/81.2.3.5/tcp/4001"),  // another IP
            F.address("/ip4/81.2.3.4/udp/4001/quic-v1"),  // not TCP
            F.address("/ip4/81.2.3.4/tcp/4001/p2p/\(F.client)"),  // duplicate once /p2p is dropped
            F.address("/ip4/81.2.3.4/tcp/4002/p2p/\(F.other)"),  // names another peer
            F.address("/ip4/81.2.3.4/tcp/4003/p2p/\(F.server)/p2p-circuit"),  // relayed
            F.address("/ip4/81.2.3.4/tcp/0"),
            F.address("/dns4/example.com/tcp/4001"),
            F.address("/ip4/81.2.3.4/tcp/4005/p2p/\(F.client)"),
        ])
        server.receive(request.encoded, chunking: .bytewise)
        let expected = [F.address("/ip4/81.2.3.4/tcp/4001"), F.address("/ip4/81.2.3.4/tcp/4005")]
        #expect(server.events() == [.dialBackRequested(addresses: expected)])
        #expect(server.dialBackAddresses == expected)
        #expect(server.transmitted().isEmpty && !server.wantsToCloseWrite)
        // The client half-closing after its request is expected.
        server.receiveEndOfStream(now: .zero)
        #expect(server.events().isEmpty)

        #expect(throws: AutoNATUsageError.addressNotRequested(F.address("/ip4/81.2.3.5/tcp/4001"))) {
            try server.dialBackSucceeded(F.address("/ip4/81.2.3.5/tcp/4001"), now: .zero)
        }
        #expect(throws: AutoNATUsageError.okIsNotARefusal) { try server.refuse(.ok, now: .zero) }
        try server.dialBackSucceeded(F.address("/ip4/81.2.3.4/tcp/4005/p2p/\(F.client)"), now: .zero)
        let ok = AutoNATDialResponse(status: .ok, address: F.address("/ip4/81.2.3.4/tcp/4005"))
        #expect(server.events() == [.answered(ok)])
        #expect(try response(server.transmitted()) == ok)
        #expect(server.wantsToCloseWrite && server.nextDeadline == nil)
        #expect(throws: AutoNATUsageError.notAwaitingDialBack) { try server.dialBackFailed(now: .zero) }
    }

    @Test func addressFilterLimitsAndScopes() {
        let many = (1...40).map { F.address("/ip4/81.2.3.4/tcp/\($0)") }
        let kept = AutoNATServer.dialBackAddresses(from: many, peer: F.client, observedIP: F.observed)
        #expect(kept == Array(many.prefix(16)))
        // A private observed IP is refused unless allowed.
        let lan = IPAddress.ipv4(IPv4Address(192, 168, 1, 2))
        let lanAddress = [F.address("/ip4/192.168.1.2/tcp/4001")]
        #expect(AutoNATServer.dialBackAddresses(from: lanAddress, peer: F.client, observedIP: lan).isEmpty)
        var allowing = AutoNATServerConfiguration()
        allowing.allowNonPublicAddresses = true
        #expect(AutoNATServer.dialBackAddresses(from: lanAddress, peer: F.client, observedIP: lan, configuration: allowing) == lanAddress)
        // An IPv4-mapped observed IP matches the IPv4 address.
        let mapped = IPAddress.ipv6(IPv6Address(ipv4Mapped: IPv4Address(81, 2, 3, 4)))
        #expect(AutoNATServer.dialBackAddresses(from: [F.address("/ip4/81.2.3.4/tcp/1")], peer: F.client, observedIP: mapped).count == 1)
        let v6 = IPAddress.ipv6(IPv6Address(high: 0x2606_4700_0000_0000, low: 1))
        #expect(AutoNATServer.dialBackAddresses(
            from: [F.address("/ip6/2606:4700::1/tcp/1"), F.address("/ip6/2606:4700::2/tcp/1")], peer: F.client, observedIP: v6)
            == [F.address("/ip6/2606:4700::1/tcp/1")])
    }

    @Test func noMatchingAddressIsRefused() throws {
        var server = server()
        server.receive(AutoNATMessage.dial(peer: F.client, addresses: [F.address("/ip4/5.6.7.8/tcp/4001")]).encoded, chunking: .whole)
        #expect(server.events() == [.rejected(.noDialableAddress)])
        let answer = try #require(try response(server.transmitted()))
        #expect(answer.status == .dialRefused)
        #expect(server.wantsToCloseWrite)
    }

    @Test func badPeerIDIsABadRequest() throws {
        var server = server()
        server.receive(AutoNATMessage.dial(peer: F.other, addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]).encoded, chunking: .whole)
        #expect(server.events() == [.rejected(.peerMismatch(claimed: F.other))])
        #expect(try response(server.transmitted())?.status == .badRequest)
    }

    @Test func malformedOrUnexpectedRequestIsABadRequest() throws {
        var garbage = server()
        garbage.receive([0x02, 0xFF, 0xFF], chunking: .whole)
        #expect(garbage.events() == [.rejected(.malformed(.malformedProtobuf))])
        #expect(try response(garbage.transmitted())?.status == .badRequest)

        var unexpected = server()
        unexpected.receive(AutoNATMessage.dialResponse(AutoNATDialResponse(status: .ok)).encoded, chunking: .whole)
        #expect(unexpected.events() == [.rejected(.unexpectedMessage)])
        #expect(try response(unexpected.transmitted())?.status == .badRequest)

        var oversized = server()
        var prefix: [UInt8] = []
        Varint.encode(5000, into: &prefix)
        oversized.receive(prefix, chunking: .whole)
        #expect(oversized.events() == [.rejected(.malformed(.tooLong(length: 5000, maximum: 4096)))])
    }

    @Test func streamFailures() throws {
        var truncated = server()
        truncated.receive([0x10, 0x08], chunking: .whole)
        truncated.receiveEndOfStream(now: .zero)
        #expect(truncated.events() == [.failed(.endOfStream(bufferedBytes: 2))])
        #expect(truncated.transmitted().isEmpty && !truncated.wantsToCloseWrite)

        var trailing = server()
        let request = AutoNATMessage.dial(peer: F.client, addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]).encoded
        trailing.receive(request, chunking: .whole)
        #expect(trailing.events().count == 1)
        trailing.receive([0], chunking: .whole)
        #expect(trailing.events() == [.failed(.unexpectedBytes)])
        #expect(throws: AutoNATUsageError.notAwaitingDialBack) { try trailing.dialBackFailed(now: .zero) }
    }

    @Test func deadlines() throws {
        var configuration = AutoNATServerConfiguration()
        configuration.timeout = .seconds(30)
        var silent = server(configuration: configuration)
        #expect(silent.nextDeadline == .zero + .seconds(30))
        silent.handleTimeout(now: .zero + .seconds(29))
        #expect(silent.events().isEmpty)
        silent.handleTimeout(now: .zero + .seconds(30))
        #expect(silent.events() == [.failed(.timeout)])

        var dialing = server(configuration: configuration)
        dialing.receive(AutoNATMessage.dial(peer: F.client, addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]).encoded, chunking: .whole)
        _ = dialing.events()
        #expect(dialing.nextDeadline == .zero + .seconds(30))
        dialing.handleTimeout(now: .zero + .seconds(30))
        let timedOut = AutoNATDialResponse(status: .dialError, statusText: "dial back timed out")
        #expect(dialing.events() == [.answered(timedOut)])
        #expect(try response(dialing.transmitted()) == timedOut)
        #expect(dialing.wantsToCloseWrite)
    }

    @Test func refusalAndFailureAnswers() throws {
        for (act, status) in [
            ({ (s: inout AutoNATServer) throws in try s.dialBackFailed(reason: "connection refused", now: .zero) }, AutoNATResponseStatus.dialError),
            ({ (s: inout AutoNATServer) throws in try s.refuse(.dialRefused, text: "too many dial backs", now: .zero) }, .dialRefused),
            ({ (s: inout AutoNATServer) throws in try s.refuse(.internalError, now: .zero) }, .internalError),
        ] {
            var server = server()
            server.receive(AutoNATMessage.dial(peer: F.client, addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]).encoded, chunking: .whole)
            _ = server.events()
            try act(&server)
            #expect(try response(server.transmitted())?.status == status)
        }
        var long = server()
        long.receive(AutoNATMessage.dial(peer: F.client, addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]).encoded, chunking: .whole)
        _ = long.events()
        try long.dialBackFailed(reason: String(repeating: "é", count: 1000), now: .zero)
        #expect(try #require(try response(long.transmitted())?.statusText).utf8.count <= AutoNATServer.maximumStatusTextLength)
    }
}

@Suite struct AutoNATClientTests {
    typealias F = AutoNATFixtures

    func client(_ addresses: [Multiaddr] = [F.address("/ip4/81.2.3.4/tcp/4001")]) throws -> AutoNATClient {
        try AutoNATClient(local: F.client, addresses: addresses, now: .zero)
    }

    func reply(_ response: AutoNATDialResponse, to client: inout AutoNATClient) -> [AutoNATClientEvent] {
        client.receive(AutoNATMessage.dialResponse(response).encoded, chunking: .random(seed: 3))
        return client.events()
    }

    @Test func sendsDialAndReadsEveryStatus() throws {
        var client = try client([
            F.address("/ip4/81.2.3.4/tcp/4001/p2p/\(F.client)"), F.address("/ip4/81.2.3.4/tcp/4001"),
            F.address("/ip6/2606:4700::1/tcp/4001"),
        ])
        #expect(client.addresses == [F.address("/ip4/81.2.3.4/tcp/4001"), F.address("/ip6/2606:4700::1/tcp/4001")])
        var reader = AutoNATMessageReader()
        #expect(try reader.append(client.transmitted().span) == .dial(peer: F.client, addresses: client.addresses))
        #expect(client.wantsToCloseWrite)
        #expect(reply(AutoNATDialResponse(status: .ok, address: F.address("/ip6/2606:4700::1/tcp/4001")), to: &client)
            == [.reachable(address: F.address("/ip6/2606:4700::1/tcp/4001"))])
        #expect(client.nextDeadline == nil)

        var unasked = try self.client()
        #expect(reply(AutoNATDialResponse(status: .ok, address: F.address("/ip4/9.9.9.9/tcp/1")), to: &unasked)
            == [.reachable(address: nil)])
        var unreachable = try self.client()
        #expect(reply(AutoNATDialResponse(status: .dialError, statusText: "refused"), to: &unreachable)
            == [.unreachable(statusText: "refused")])
        for status in [AutoNATResponseStatus.dialRefused, .badRequest, .internalError] {
            var refused = try self.client()
            #expect(reply(AutoNATDialResponse(status: status), to: &refused) == [.refused(status, statusText: nil)])
        }
        #expect(AutoNATClientEvent.reachable(address: nil).observation == .public)
        #expect(AutoNATClientEvent.unreachable(statusText: nil).observation == .private)
        #expect(AutoNATClientEvent.refused(.dialRefused, statusText: nil).observation == nil)
        #expect(AutoNATClientEvent.failed(.timeout).observation == nil)
    }

    @Test func misuseAndLimits() throws {
        #expect(throws: AutoNATUsageError.noAddresses) { try AutoNATClient(local: F.client, addresses: [], now: .zero) }
        var configuration = AutoNATClientConfiguration()
        configuration.maximumAddresses = 200
        let huge = (1...200).map { F.address("/dns4/\(String(repeating: "a", count: 40)).example/tcp/\($0)") }
        #expect {
            try AutoNATClient(local: F.client, addresses: huge, now: .zero, configuration: configuration)
        } throws: { error in
            if case .requestTooLong = error as? AutoNATUsageError { true } else { false }
        }
        let many = (1...40).map { F.address("/ip4/81.2.3.4/tcp/\($0)") }
        #expect(try AutoNATClient(local: F.client, addresses: many, now: .zero).addresses.count == 16)
    }

    @Test func failures() throws {
        var timedOut = try client()
        #expect(timedOut.nextDeadline == .zero + .seconds(60))
        timedOut.handleTimeout(now: .zero + .seconds(59))
        #expect(timedOut.events().isEmpty)
        timedOut.handleTimeout(now: .zero + .seconds(60))
        #expect(timedOut.events() == [.failed(.timeout)])
        timedOut.receiveEndOfStream(now: .zero + .seconds(61))
        #expect(timedOut.events().isEmpty)

        var ended = try client()
        ended.receive([0x05, 0x08], chunking: .whole)
        ended.receiveEndOfStream(now: .zero)
        #expect(ended.events() == [.failed(.endOfStream(bufferedBytes: 2))])

        var unexpected = try client()
        unexpected.receive(AutoNATMessage.dial(peer: F.server, addresses: []).encoded, chunking: .whole)
        #expect(unexpected.events() == [.failed(.unexpectedMessage)])

        var garbage = try client()
        garbage.receive([0x01, 0xFF], chunking: .whole)
        #expect(garbage.events() == [.failed(.malformedMessage(.malformedProtobuf))])
    }
}

@Suite struct AutoNATPairTests {
    typealias F = AutoNATFixtures

    /// A client and a server on one in-memory stream; `decide` answers the dial back.
    func exchange(
        claiming: PeerID = F.client, addresses: [Multiaddr], chunking: Chunking = .whole,
        decide: (inout AutoNATServer, [Multiaddr]) throws -> Void
    ) throws -> (client: [AutoNATClientEvent], server: [AutoNATServerEvent]) {
        let client = try AutoNATClient(local: claiming, addresses: addresses, now: .zero)
        let server = AutoNATServer(peer: F.client, observedIP: F.observed, now: .zero)
        var pair = StreamPair(client, server, chunking: chunking)
        pair.run()
        var serverEvents = pair.eventsB
        if case .dialBackRequested(let dialable)? = serverEvents.last {
            try decide(&pair.b, dialable)
            pair.run()
            serverEvents = pair.eventsB
        }
        return (pair.eventsA, serverEvents)
    }

    @Test func reachableOverTheStream() throws {
        for chunking in [Chunking.whole, .bytewise, .random(seed: 9)] {
            let (client, server) = try exchange(
                addresses: [F.address("/ip4/10.0.0.2/tcp/4001"), F.address("/ip4/81.2.3.4/tcp/4001")], chunking: chunking
            ) { server, dialable in
                #expect(dialable == [F.address("/ip4/81.2.3.4/tcp/4001")])
                try server.dialBackSucceeded(dialable[0], now: .zero)
            }
            #expect(client == [.reachable(address: F.address("/ip4/81.2.3.4/tcp/4001"))])
            #expect(server.count == 2)
        }
    }

    @Test func unreachableRefusedAndBadPeer() throws {
        let unreachable = try exchange(addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]) { server, _ in
            try server.dialBackFailed(reason: "timeout", now: .zero)
        }
        #expect(unreachable.client == [.unreachable(statusText: "timeout")])

        let refused = try exchange(addresses: [F.address("/ip4/10.0.0.2/tcp/4001")]) { _, _ in
            Issue.record("no dial back expected")
        }
        #expect(refused.server == [.rejected(.noDialableAddress)])
        guard case .refused(.dialRefused, _)? = refused.client.first else { Issue.record("\(refused.client)"); return }

        let impostor = try exchange(claiming: F.other, addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]) { _, _ in
            Issue.record("no dial back expected")
        }
        #expect(impostor.server == [.rejected(.peerMismatch(claimed: F.other))])
        guard case .refused(.badRequest, _)? = impostor.client.first else { Issue.record("\(impostor.client)"); return }
    }

    @Test func admissionRefusalReachesTheClient() throws {
        var admission = AutoNATServerAdmission(now: .zero)
        let (client, _) = try exchange(addresses: [F.address("/ip4/81.2.3.4/tcp/4001")]) { server, _ in
            #expect(admission.admitDialBack(for: F.client, relayed: true, now: .zero) == .relayedConnection)
            try server.refuse(.dialRefused, text: AutoNATAdmissionRefusal.peerRateExceeded.description, now: .zero)
        }
        #expect(client == [.refused(.dialRefused, statusText: "too many dial backs for this peer")])
    }
}

@Suite struct AutoNATServerAdmissionTests {
    typealias F = AutoNATFixtures

    @Test func relayedConnectionsAreRefusedOutright() {
        var admission = AutoNATServerAdmission(now: .zero)
        #expect(admission.admitsStream(onRelayedConnection: true) == .relayedConnection)
        #expect(admission.admitsStream(onRelayedConnection: false) == nil)
        #expect(admission.admitDialBack(for: F.client, relayed: true, now: .zero) == .relayedConnection)
        #expect(admission.trackedPeerCount == 0)
    }

    @Test func perPeerRate() {
        var admission = AutoNATServerAdmission(now: .zero)
        for _ in 0..<3 { #expect(admission.admitDialBack(for: F.client, now: .zero) == nil) }
        #expect(admission.admitDialBack(for: F.client, now: .zero) == .peerRateExceeded)
        #expect(admission.admitDialBack(for: F.other, now: .zero) == nil)
        // One token per 20 s comes back.
        #expect(admission.admitDialBack(for: F.client, now: .zero + .seconds(19)) == .peerRateExceeded)
        #expect(admission.admitDialBack(for: F.client, now: .zero + .seconds(20)) == nil)
        #expect(admission.admitDialBack(for: F.client, now: .zero + .seconds(20)) == .peerRateExceeded)
    }

    @Test func globalRate() {
        var configuration = AutoNATServerAdmissionConfiguration()
        configuration.globalDialBacks = 5
        var admission = AutoNATServerAdmission(configuration: configuration, now: .zero)
        let peers = F.peers(6)
        for peer in peers.prefix(5) { #expect(admission.admitDialBack(for: peer, now: .zero) == nil) }
        #expect(admission.admitDialBack(for: peers[5], now: .zero) == .globalRateExceeded)
        // A global refusal takes nothing from the peer's own bucket.
        #expect(admission.admitDialBack(for: peers[5], now: .zero + .seconds(12)) == nil)
        #expect(admission.admitDialBack(for: peers[5], now: .zero + .seconds(24)) == nil)
        #expect(admission.admitDialBack(for: peers[5], now: .zero + .seconds(36)) == nil)
    }

    @Test func trackedPeersAreBounded() {
        var configuration = AutoNATServerAdmissionConfiguration()
        configuration.maximumTrackedPeers = 3
        configuration.globalDialBacks = 100
        var admission = AutoNATServerAdmission(configuration: configuration, now: .zero)
        let peers = F.peers(5)
        for peer in peers.prefix(3) { #expect(admission.admitDialBack(for: peer, now: .zero) == nil) }
        #expect(admission.admitDialBack(for: peers[3], now: .zero) == .tooManyPeers)
        #expect(admission.trackedPeerCount == 3)
        // Once their buckets refilled, the old peers are forgotten to make room.
        #expect(admission.admitDialBack(for: peers[3], now: .zero + .seconds(20)) == nil)
        #expect(admission.trackedPeerCount == 1)
    }
}
