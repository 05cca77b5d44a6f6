import Testing
@testable import TraverseCore

@Suite struct HolePunchMachineTests {
    /// B, the initiator (accepted the relayed connection), and A, the responder.
    let initiatorAddresses = [try! Multiaddr("/ip4/5.6.7.8/tcp/4001"), try! Multiaddr("/ip4/192.168.2.2/tcp/4001")]
    let responderAddresses = [
        try! Multiaddr("/ip4/1.2.3.4/tcp/4001"), try! Multiaddr("/ip4/192.168.1.2/tcp/4001"),
        try! Multiaddr("/ip4/1.2.3.4/udp/4001/quic-v1"),
    ]
    let start = Instant(nanoseconds: 1_000_000_000)
    func at(_ milliseconds: Int) -> Instant { start + .milliseconds(milliseconds) }

    func dial(of events: [HolePunchEvent]) -> HolePunchDial? {
        guard events.count == 1, case .dial(let dial) = events[0] else { return nil }
        return dial
    }

    /// The exchange over a relayed path with `oneWay` latency each way, on a controlled clock.
    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 3)])
    func pairwiseExchangeDialsTogether(_ chunking: Chunking) throws {
        var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, now: at(0))
        var responder = HolePunchResponder(localAddresses: responderAddresses, now: at(0))
        #expect(initiator.nextDeadline == at(10_000))

        let connect = initiator.transmitted()
        var reader = HolePunchMessageReader()
        reader.append(connect.span)
        #expect(try reader.next() == .connect(addresses: initiatorAddresses))
        responder.receive(connect, chunking: chunking, now: at(30))
        #expect(responder.events().isEmpty)
        let answer = responder.transmitted()
        #expect(!answer.isEmpty && !responder.wantsToCloseWrite)

        initiator.receive(answer, chunking: chunking, now: at(60))
        #expect(initiator.roundTripTime == .milliseconds(60))
        let sync = initiator.transmitted()
        #expect(sync == HolePunchMessage.sync.encoded)
        #expect(initiator.wantsToCloseWrite)
        #expect(initiator.events().isEmpty)
        #expect(initiator.nextDeadline == at(90))
        initiator.handleTimeout(now: at(89))
        #expect(initiator.events().isEmpty)

        responder.receive(sync, chunking: chunking, now: at(90))
        let responderDial = try #require(dial(of: responder.events()))
        #expect(responderDial.addresses == [try Multiaddr("/ip4/5.6.7.8/tcp/4001")])
        #expect(responderDial.connectionRole == .client)
        #expect(responderDial.roundTripTime == nil)
        #expect(responderDial.remoteAddresses == initiatorAddresses)
        #expect(responder.wantsToCloseWrite && responder.nextDeadline == nil)

        initiator.handleTimeout(now: at(90))
        let initiatorDial = try #require(dial(of: initiator.events()))
        #expect(initiatorDial.addresses == [try Multiaddr("/ip4/1.2.3.4/tcp/4001")])
        #expect(initiatorDial.connectionRole == .server)
        #expect(initiatorDial.roundTripTime == .milliseconds(60))
        #expect(initiatorDial.remoteAddresses == responderAddresses)
        #expect(initiator.nextDeadline == nil)
        initiator.handleTimeout(now: at(500))
        #expect(initiator.events().isEmpty)
    }

    @Test func inMemoryStreamPairCompletes() throws {
        var pair = StreamPair(
            HolePunchInitiator(localAddresses: initiatorAddresses, now: .zero),
            HolePunchResponder(localAddresses: responderAddresses, now: .zero))
        pair.run()
        // No time passed: RTT 0, so the initiator dials at once too.
        #expect(pair.eventsB.count == 1 && dial(of: pair.eventsB)?.connectionRole == .client)
        #expect(dial(of: pair.eventsA)?.roundTripTime == .zero)
        #expect(pair.aClosedWrite && pair.bClosedWrite)
    }

    @Test func rolesComeFromTheAttempt() throws {
        var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, connectionRole: .client, now: .zero)
        var responder = HolePunchResponder(localAddresses: responderAddresses, connectionRole: .server, now: .zero)
        responder.receive(initiator.transmitted().span, now: .zero)
        initiator.receive(responder.transmitted().span, now: .zero)
        responder.receive(initiator.transmitted().span, now: .zero)
        #expect(dial(of: initiator.events())?.connectionRole == .client)
        #expect(dial(of: responder.events())?.connectionRole == .server)
    }

    // MARK: Timeouts

    @Test func initiatorTimesOutWaitingForConnect() {
        var configuration = HolePunchConfiguration()
        configuration.exchangeTimeout = .seconds(2)
        var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, now: at(0), configuration: configuration)
        _ = initiator.transmitted()
        initiator.handleTimeout(now: at(1_999))
        #expect(initiator.events().isEmpty)
        #expect(initiator.nextDeadline == at(2_000))
        initiator.handleTimeout(now: at(2_000))
        #expect(initiator.events() == [.failed(.timeout)])
        #expect(initiator.nextDeadline == nil && !initiator.wantsToCloseWrite)
        // A late CONNECT changes nothing.
        initiator.receive(HolePunchMessage.connect(addresses: responderAddresses).encoded.span, now: at(2_001))
        #expect(initiator.events().isEmpty && initiator.transmitted().isEmpty)
    }

    @Test func responderTimesOutWaitingForSync() {
        var responder = HolePunchResponder(localAddresses: responderAddresses, now: at(0))
        responder.receive(HolePunchMessage.connect(addresses: initiatorAddresses).encoded.span, now: at(100))
        #expect(!responder.transmitted().isEmpty)
        #expect(responder.nextDeadline == at(10_000))
        responder.handleTimeout(now: at(9_999))
        #expect(responder.events().isEmpty)
        responder.handleTimeout(now: at(10_000))
        #expect(responder.events() == [.failed(.timeout)])
        responder.receive(HolePunchMessage.sync.encoded.span, now: at(10_001))
        #expect(responder.events().isEmpty && !responder.wantsToCloseWrite)
    }

    @Test func inputAtTheDeadlineTimesOutWithoutHandleTimeout() {
        var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, now: at(0))
        initiator.receive(HolePunchMessage.connect(addresses: responderAddresses).encoded.span, now: at(10_000))
        #expect(initiator.events() == [.failed(.timeout)])
        #expect(initiator.transmitted() == [], "CONNECT dropped, no SYNC")

        var responder = HolePunchResponder(localAddresses: responderAddresses, now: at(0))
        responder.receive(HolePunchMessage.connect(addresses: initiatorAddresses).encoded.span, now: at(9_999))
        responder.receive(HolePunchMessage.sync.encoded.span, now: at(10_000))
        #expect(responder.events() == [.failed(.timeout)])
    }

    @Test func noTimeoutWhenDisabled() {
        var configuration = HolePunchConfiguration()
        configuration.exchangeTimeout = nil
        let initiator = HolePunchInitiator(localAddresses: initiatorAddresses, now: .zero, configuration: configuration)
        let responder = HolePunchResponder(localAddresses: responderAddresses, now: .zero, configuration: configuration)
        #expect(initiator.nextDeadline == nil && responder.nextDeadline == nil)
    }

    // MARK: Malformed and unexpected input

    @Test func initiatorRejectsBadReplies() {
        let cases: [([UInt8], HolePunchError)] = [
            (HolePunchMessage.sync.encoded, .unexpectedMessage(.sync)),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .malformedMessage(.malformedLength)),
            ([0x80, 0x40], .malformedMessage(.tooLong(length: 8192, maximum: 4096))),
            (HolePunchWire.framed([0x12, 0x09]), .malformedMessage(.malformedProtobuf)),
            (HolePunchWire.framed(HolePunchWire.type(7)), .malformedMessage(.missingType)),
            (HolePunchMessage.connect(addresses: []).encoded, .noDialableAddresses(received: 0)),
            (HolePunchMessage.connect(addresses: [try! Multiaddr("/ip4/10.0.0.1/tcp/1"), try! Multiaddr("/dns4/example.com/tcp/1")]).encoded,
             .noDialableAddresses(received: 2)),
        ]
        for (reply, error) in cases {
            var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, now: .zero)
            _ = initiator.transmitted()
            initiator.receive(reply.span, now: at(10))
            #expect(initiator.events() == [.failed(error)], "\(reply)")
            #expect(initiator.transmitted().isEmpty, "no SYNC after a failure")
            #expect(initiator.nextDeadline == nil && !initiator.wantsToCloseWrite)
        }
    }

    @Test func responderRejectsBadRequests() {
        let connect = HolePunchMessage.connect(addresses: initiatorAddresses).encoded
        let cases: [([UInt8], HolePunchError)] = [
            (HolePunchMessage.sync.encoded, .unexpectedMessage(.sync)),
            (connect + connect, .unexpectedMessage(.connect)),
            ([0x80, 0x40], .malformedMessage(.tooLong(length: 8192, maximum: 4096))),
            (HolePunchWire.framed([0x0A]), .malformedMessage(.malformedProtobuf)),
            (HolePunchMessage.connect(addresses: [try! Multiaddr("/ip4/127.0.0.1/tcp/1")]).encoded, .noDialableAddresses(received: 1)),
        ]
        for (request, error) in cases {
            var responder = HolePunchResponder(localAddresses: responderAddresses, now: .zero)
            responder.receive(request.span, now: .zero)
            #expect(responder.events() == [.failed(error)], "\(request)")
            #expect(responder.transmitted().isEmpty, "nothing sent once failed")
            #expect(responder.nextDeadline == nil)
        }
    }

    @Test func endOfStreamBeforeTheExchangeCompletes() {
        var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, now: .zero)
        initiator.receive([0x05, 0x08].span, now: .zero)
        initiator.receiveEndOfStream(now: .zero)
        #expect(initiator.events() == [.failed(.endOfStream(bufferedBytes: 2))])

        var responder = HolePunchResponder(localAddresses: responderAddresses, now: .zero)
        responder.receive(HolePunchMessage.connect(addresses: initiatorAddresses).encoded.span, now: .zero)
        responder.receiveEndOfStream(now: .zero)
        #expect(responder.events() == [.failed(.endOfStream(bufferedBytes: 0))])
    }

    @Test func inputAfterTheExchangeIsDiscarded() throws {
        var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, now: at(0))
        let trailing: [UInt8] = [0xFF, 0xFF, 0xFF]
        initiator.receive((HolePunchMessage.connect(addresses: responderAddresses).encoded + trailing).span, now: at(40))
        initiator.receive(HolePunchMessage.sync.encoded.span, now: at(41))
        initiator.receiveEndOfStream(now: at(42))
        #expect(initiator.events().isEmpty)
        initiator.handleTimeout(now: at(59))
        #expect(initiator.events().isEmpty)
        initiator.handleTimeout(now: at(60))
        #expect(dial(of: initiator.events()) != nil)

        var responder = HolePunchResponder(localAddresses: responderAddresses, now: .zero)
        responder.receive(
            (HolePunchMessage.connect(addresses: initiatorAddresses).encoded + HolePunchMessage.sync.encoded + trailing).span,
            now: .zero)
        responder.receive(trailing.span, now: .zero)
        responder.receiveEndOfStream(now: .zero)
        #expect(dial(of: responder.events()) != nil)
        #expect(responder.events().isEmpty)
    }

    @Test func withoutLocalAddressesNothingIsSent() {
        let relayedOnly = [try! Multiaddr("/ip4/9.9.9.9/tcp/1/p2p/\(RelayFixtures.relay)/p2p-circuit")]
        var initiator = HolePunchInitiator(localAddresses: relayedOnly, now: .zero)
        #expect(initiator.transmitted().isEmpty)
        #expect(initiator.events() == [.failed(.noLocalAddresses)])
        #expect(initiator.localAddresses.isEmpty)

        var responder = HolePunchResponder(localAddresses: [], now: .zero)
        #expect(responder.events() == [.failed(.noLocalAddresses)])
        responder.receive(HolePunchMessage.connect(addresses: initiatorAddresses).encoded.span, now: .zero)
        #expect(responder.transmitted().isEmpty && responder.events().isEmpty)
    }

    @Test func addressesNamingAnotherPeerAreNotDialed() {
        let other = RelayFixtures.target
        let peer = RelayFixtures.client
        var initiator = HolePunchInitiator(localAddresses: initiatorAddresses, peer: peer, now: .zero)
        initiator.receive(
            HolePunchMessage.connect(addresses: [
                try! Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/\(other)"), try! Multiaddr("/ip4/1.2.3.5/tcp/1/p2p/\(peer)"),
            ]).encoded.span, now: .zero)
        #expect(dial(of: initiator.events())?.addresses == [try! Multiaddr("/ip4/1.2.3.5/tcp/1")])
    }
}
