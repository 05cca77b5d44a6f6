import Testing
@testable import TraverseCore

@Suite struct RelayMachineTests {
    typealias F = RelayFixtures
    let unixNow: UInt64 = 1_700_000_000

    func drain(_ machine: inout some StreamProtocolMachine) -> [UInt8] {
        var bytes: [UInt8] = []
        while machine.pollTransmit(into: &bytes) > 0 {}
        return bytes
    }

    func grant(peer: PeerID = F.client, expiration: UInt64? = nil, key: PrivateKey = F.relayKey) throws -> RelayReservationGrant {
        try RelayReservationGrant(
            relayKey: key, peer: peer, expiration: expiration ?? unixNow + 3600,
            addresses: [try Multiaddr("/ip4/1.2.3.4/tcp/4001"), try Multiaddr("/ip4/5.6.7.8/tcp/1/p2p/\(F.target)")],
            limit: CircuitLimit(durationSeconds: 3600, dataBytes: 1 << 30))
    }

    /// A reservation client against a hop server granting `grant` (or refusing).
    func reserve(with decide: (inout RelayHopServer) throws -> Void) throws -> RelayReservationClientEvent? {
        var client = RelayReservationClient(relay: F.relay, local: F.client, now: .zero, unixTime: unixNow)
        var server = RelayHopServer(now: .zero)
        server.receive(drain(&client).span, now: .zero)
        #expect(server.pollEvent() == .reservationRequested)
        try decide(&server)
        client.receive(drain(&server).span, now: .zero)
        return client.pollEvent()
    }

    @Test func reservationGrantedAndVerified() throws {
        let event = try reserve { server in
            try server.acceptReservation(try grant(), now: .zero)
            #expect(server.pollEvent() == .finished(.ok))
            #expect(server.wantsToCloseWrite)
        }
        guard case .reserved(let info)? = event else { Issue.record("\(String(describing: event))"); return }
        #expect(info.relay == F.relay && info.expiration == unixNow + 3600)
        #expect(info.expiresAt == .zero + .seconds(3600))
        #expect(info.refreshAt == .zero + .seconds(2880))
        #expect(info.addresses == [try Multiaddr("/ip4/1.2.3.4/tcp/4001/p2p/\(F.relay)")])
        #expect(info.voucher == ReservationVoucher(relay: F.relay, peer: F.client, expiration: unixNow + 3600))
        #expect(info.limit == CircuitLimit(durationSeconds: 3600, dataBytes: 1 << 30))
    }

    @Test func refusalIsReported() throws {
        for status in [RelayStatus.reservationRefused, .permissionDenied] {
            let event = try reserve { server in
                try server.refuse(status, now: .zero)
                #expect(server.pollEvent() == .finished(status))
            }
            #expect(event == .failed(.refused(status)))
        }
    }

    @Test func vouchersAreChecked() throws {
        #expect(try reserve { try $0.acceptReservation(try grant(peer: F.target), now: .zero) }
            == .failed(.voucherPeerMismatch(F.target)))
        #expect(try reserve { try $0.acceptReservation(try grant(key: F.targetKey), now: .zero) }
            == .failed(.voucherRelayMismatch(F.target)))
        #expect(try reserve { try $0.acceptReservation(try grant(expiration: unixNow), now: .zero) }
            == .failed(.expired(expiration: unixNow, unixTime: unixNow)))
        #expect(try reserve { server in
            var mismatched = try grant()
            mismatched.reservation.expiration += 1
            try server.acceptReservation(mismatched, now: .zero)
        } == .failed(.voucherExpirationMismatch(voucher: unixNow + 3600, reservation: unixNow + 3601)))
        #expect(try reserve { server in
            var tampered = try grant()
            if var bytes = tampered.reservation.voucher, let last = bytes.indices.last {
                bytes[last] ^= 1  // the signature's last byte
                tampered.reservation.voucher = bytes
            }
            try server.acceptReservation(tampered, now: .zero)
        } == .failed(.invalidVoucher(.invalidSignature)))
        #expect(try reserve { server in
            var bare = try grant()
            bare.reservation.voucher = nil
            try server.acceptReservation(bare, now: .zero)
        } == .failed(.missingVoucher))
    }

    @Test func connectThroughTheRelayHandsOverLeftoverBytes() throws {
        var source = RelayConnectClient(target: F.target, now: .zero)
        var hop = RelayHopServer(now: .zero)
        // The source pipelines its first circuit bytes behind CONNECT.
        hop.receive((drain(&source) + [0xAA, 0xBB]).span, now: .zero)
        #expect(hop.pollEvent() == .connectRequested(RelayPeerInfo(id: F.target)))
        let limit = CircuitLimit(durationSeconds: 120, dataBytes: 131072)
        var stop = RelayStopClient(source: F.client, limit: limit, now: .zero)
        var target = RelayStopServer(now: .zero)
        target.receive(drain(&stop).span, now: .zero)
        #expect(target.pollEvent() == .connectRequested(source: RelayPeerInfo(id: F.client), limit: limit))
        try target.accept(now: .zero)
        #expect(target.pollEvent() == .circuitEstablished(leftover: []))
        stop.receive((drain(&target) + [0xCC]).span, now: .zero)
        #expect(stop.pollEvent() == .accepted(leftover: [0xCC]))
        try hop.acceptConnect(limit: limit, now: .zero)
        #expect(hop.pollEvent() == .circuitEstablished(leftover: [0xAA, 0xBB], remoteClosed: false))
        source.receive((drain(&hop) + [0xDD]).span, now: .zero)
        #expect(source.pollEvent() == .connected(limit: limit, leftover: [0xDD]))
    }

    @Test func connectRefusedAndStopRefused() throws {
        var source = RelayConnectClient(target: F.target, now: .zero)
        var hop = RelayHopServer(now: .zero)
        hop.receive(drain(&source).span, now: .zero)
        _ = hop.pollEvent()
        #expect(throws: RelayUsageError.okIsNotARefusal) { try hop.refuse(.ok, now: .zero) }
        #expect(throws: RelayUsageError.notAwaitingDecision) { try hop.acceptReservation(try grant(), now: .zero) }
        try hop.refuse(.noReservation, now: .zero)
        source.receive(drain(&hop).span, now: .zero)
        #expect(source.pollEvent() == .refused(.noReservation))

        var stop = RelayStopClient(source: F.client, limit: nil, now: .zero)
        var target = RelayStopServer(now: .zero)
        target.receive(drain(&stop).span, now: .zero)
        _ = target.pollEvent()
        try target.refuse(.connectionFailed, now: .zero)
        #expect(target.wantsToCloseWrite)
        stop.receive(drain(&target).span, now: .zero)
        #expect(stop.pollEvent() == .refused(.connectionFailed))
    }

    @Test func hopServerAnswersBadInput() {
        var hop = RelayHopServer(now: .zero)
        hop.receive(RelayHopMessage.status(.ok).encoded.span, now: .zero)
        #expect(hop.pollEvent() == .rejected(.unexpectedMessage))
        #expect(try! RelayHopMessage(payload: RelayFixtures.payload(drain(&hop))) == .status(.unexpectedMessage))
        #expect(hop.wantsToCloseWrite)

        var garbage = RelayHopServer(now: .zero)
        garbage.receive([0x02, 0xff, 0xff].span, now: .zero)
        #expect(garbage.pollEvent() == .rejected(.malformedMessage(.malformedProtobuf)))
        #expect(try! RelayHopMessage(payload: RelayFixtures.payload(drain(&garbage))) == .status(.malformedMessage))

        var oversized = RelayHopServer(now: .zero)
        oversized.receive([0xff, 0xff, 0x01].span, now: .zero)
        #expect(oversized.pollEvent() == .rejected(.malformedMessage(.tooLong(length: 32767, maximum: 4096))))

        var missingPeer = RelayHopServer(now: .zero)
        missingPeer.receive([0x02, 0x08, 0x01].span, now: .zero)
        #expect(missingPeer.pollEvent() == .rejected(.malformedMessage(.missingPeer)))
    }

    @Test func timeoutsAndEarlyEnds() {
        var hop = RelayHopServer(now: .zero)
        #expect(hop.nextDeadline == .zero + .seconds(15))
        hop.receive([0x02].span, now: .zero)
        hop.handleTimeout(now: .zero + .seconds(14))
        #expect(hop.pollEvent() == nil)
        hop.handleTimeout(now: .zero + .seconds(15))
        #expect(hop.pollEvent() == .failed(.timeout))
        #expect(hop.nextDeadline == nil)

        var ended = RelayHopServer(now: .zero)
        ended.receive([0x02].span, now: .zero)
        ended.receiveEndOfStream(now: .zero)
        #expect(ended.pollEvent() == .failed(.endOfStream(bufferedBytes: 1)))

        var client = RelayReservationClient(relay: F.relay, local: F.client, now: .zero, unixTime: unixNow, timeout: .seconds(5))
        client.handleTimeout(now: .zero + .seconds(5))
        #expect(client.pollEvent() == .failed(.stream(.timeout)))

        var stopServer = RelayStopServer(now: .zero)
        stopServer.receive(RelayStopMessage.status(.ok).encoded.span, now: .zero)
        #expect(stopServer.pollEvent() == .rejected(.unexpectedMessage))
    }

    @Test func tooManyBytesBehindARequestFail() {
        var hop = RelayHopServer(now: .zero)
        hop.receive(RelayHopMessage.connect(peer: RelayPeerInfo(id: F.target)).encoded.span, now: .zero)
        _ = hop.pollEvent()
        #expect(hop.receiveCapacity == 4096)
        hop.receive([UInt8](repeating: 1, count: 4097).span, now: .zero)
        #expect(hop.pollEvent() == .failed(.trailingBytesExceeded))
    }
}

@Suite struct CircuitSpliceTests {
    @Test func dataLimitClosesPerDirection() {
        var splice = CircuitSplice(limit: CircuitLimit(durationSeconds: 0, dataBytes: 100), now: .zero)
        #expect(splice.nextDeadline == nil)
        #expect(splice.forwardable(150, direction: .sourceToTarget, now: .zero) == 100)
        splice.record(60, direction: .sourceToTarget, now: .zero)
        splice.record(99, direction: .targetToSource, now: .zero)
        #expect(splice.remainingData(.sourceToTarget) == 40)
        #expect(splice.closeReason == nil)
        splice.record(1, direction: .targetToSource, now: .zero)
        #expect(splice.closeReason == .dataLimitReached(.targetToSource))
        #expect(splice.forwardable(10, direction: .sourceToTarget, now: .zero) == 0)
    }

    @Test func durationLimitAndBandwidth() {
        var splice = CircuitSplice(limit: CircuitLimit(durationSeconds: 120, dataBytes: 0), bandwidth: 1000, now: .zero)
        #expect(splice.remainingData(.sourceToTarget) == nil)
        #expect(splice.forwardable(5000, direction: .sourceToTarget, now: .zero) == 1000)
        #expect(splice.forwardable(5000, direction: .targetToSource, now: .zero) == 0)
        #expect(splice.bandwidthAvailable(now: .zero) == .zero + .milliseconds(1))
        #expect(splice.nextDeadline == .zero + .seconds(120))
        splice.handleTimeout(now: .zero + .seconds(119))
        #expect(splice.closeReason == nil)
        splice.handleTimeout(now: .zero + .seconds(120))
        #expect(splice.closeReason == .durationLimitReached)
        #expect(splice.nextDeadline == nil)
    }

    @Test func unlimitedCircuitNeverCloses() {
        var splice = CircuitSplice(limit: nil, now: .zero)
        splice.record(.max, direction: .sourceToTarget, now: .zero + .seconds(1_000_000))
        splice.record(.max, direction: .sourceToTarget, now: .zero)
        splice.record(.max, direction: .sourceToTarget, now: .zero)
        #expect(splice.closeReason == nil && splice.sourceToTargetBytes == .max)
    }
}
