import Testing
@testable import TraverseCore

/// Keys and peers shared by the relay suites.
enum RelayFixtures {
    static func key(_ seed: UInt64) -> PrivateKey {
        var generator = SeededGenerator(seed: seed)
        return PrivateKey.generateEd25519(using: &generator)
    }
    static let relayKey = key(101)
    static let clientKey = key(102)
    static let targetKey = key(103)
    static var relay: PeerID { relayKey.publicKey.peerID }
    static var client: PeerID { clientKey.publicKey.peerID }
    static var target: PeerID { targetKey.publicKey.peerID }

    /// The payload of a framed message.
    static func payload(_ framed: [UInt8]) throws -> [UInt8] {
        var reader = RelayMessageReader()
        return try #require(try reader.append(framed.span))
    }
}

@Suite struct RelayMessageTests {
    @Test func statusValuesAreTheSpecs() {
        #expect(RelayStatus.allCases.map(\.rawValue) == [100, 200, 201, 202, 203, 204, 400, 401])
        #expect(RelayStatus.resourceLimitExceeded.description == "RESOURCE_LIMIT_EXCEEDED")
    }

    @Test func hopMessagesRoundTrip() throws {
        let address = try Multiaddr("/ip4/1.2.3.4/tcp/4001/p2p/\(RelayFixtures.relay)")
        let messages: [RelayHopMessage] = [
            .reserve,
            .connect(peer: RelayPeerInfo(id: RelayFixtures.target)),
            .connect(peer: RelayPeerInfo(id: RelayFixtures.target, addresses: [address])),
            .status(.noReservation),
            .status(.ok, reservation: RelayReservation(expiration: 1_700_000_000, addresses: [address], voucher: [1, 2, 3]),
                    limit: CircuitLimit(durationSeconds: 120, dataBytes: 131072)),
            .status(.ok, limit: CircuitLimit(durationSeconds: 0, dataBytes: 0)),
        ]
        for message in messages {
            let decoded = try RelayHopMessage(payload: RelayFixtures.payload(message.encoded))
            #expect(decoded == message)
        }
    }

    @Test func stopMessagesRoundTrip() throws {
        let messages: [RelayStopMessage] = [
            .connect(peer: RelayPeerInfo(id: RelayFixtures.client), limit: CircuitLimit(durationSeconds: 60, dataBytes: 1)),
            .connect(peer: RelayPeerInfo(id: RelayFixtures.client)),
            .status(.ok), .status(.connectionFailed),
        ]
        for message in messages {
            #expect(try RelayStopMessage(payload: RelayFixtures.payload(message.encoded)) == message)
        }
    }

    @Test func reserveIsTheSpecsBytes() {
        // HopMessage { type = RESERVE }: field 1 varint 0.
        #expect(RelayHopMessage.reserve.encoded == [0x02, 0x08, 0x00])
    }

    @Test func unknownFieldsAreIgnoredAndUndecodableAddressesSkipped() throws {
        // type = STATUS, status = OK, reservation { expire = 5, addrs = [garbage, /ip4/1.2.3.4/tcp/1] }, field 15.
        let good = try Multiaddr("/ip4/1.2.3.4/tcp/1").bytes
        var reservation: [UInt8] = [0x08, 0x05, 0x12, 0x02, 0xff, 0xff, 0x12, UInt8(good.count)] + good
        reservation += [0x78, 0x01]
        let payload: [UInt8] = [0x08, 0x02, 0x28, 0x64, 0x1a, UInt8(reservation.count)] + reservation + [0x78, 0x07]
        let message = try RelayHopMessage(payload: payload)
        guard case .status(.ok, let decoded?, nil) = message else { Issue.record("\(message)"); return }
        #expect(decoded.expiration == 5)
        #expect(decoded.addresses == [try Multiaddr("/ip4/1.2.3.4/tcp/1")])
        #expect(decoded.voucher == nil)
    }

    @Test func malformedMessagesAreTypedErrors() {
        #expect(throws: RelayMessageError.missingType) { try RelayHopMessage(payload: [UInt8]()) }
        #expect(throws: RelayMessageError.missingPeer) { try RelayHopMessage(payload: [0x08, 0x01]) }
        #expect(throws: RelayMessageError.missingStatus) { try RelayHopMessage(payload: [0x08, 0x02]) }
        // STATUS with UNUSED (0).
        #expect(throws: RelayMessageError.missingStatus) { try RelayHopMessage(payload: [0x08, 0x02, 0x28, 0x00]) }
        #expect(throws: RelayMessageError.malformedProtobuf) { try RelayHopMessage(payload: [0x0a, 0x05, 0x01]) }
        // CONNECT with a peer whose ID is not a multihash.
        #expect(throws: RelayMessageError.self) { try RelayHopMessage(payload: [0x08, 0x01, 0x12, 0x03, 0x0a, 0x01, 0x07]) }
        #expect(throws: RelayMessageError.missingType) { try RelayStopMessage(payload: [0x08, 0x09]) }
        #expect(throws: RelayMessageError.tooLong(length: 4097, maximum: 4096)) {
            try RelayHopMessage(payload: [UInt8](repeating: 0, count: 4097))
        }
    }

    @Test func readerRejectsOversizedPrefixAndHoldsTrailingBytes() throws {
        var reader = RelayMessageReader()
        #expect(throws: RelayMessageError.tooLong(length: 4097, maximum: 4096)) {
            try reader.append([0x81, 0x20].span)
        }
        var chunked = RelayMessageReader(maximumTrailingBytes: 4)
        let framed = RelayHopMessage.reserve.encoded + [9, 9]
        #expect(try chunked.append(framed[0..<1].span) == nil)
        #expect(try chunked.append(Array(framed[1...]).span) == [0x08, 0x00])
        #expect(try chunked.append([9, 9].span) == nil)
        #expect(throws: RelayMessageError.trailingBytesExceeded(maximum: 4)) { try chunked.append([9].span) }
        var other = RelayMessageReader()
        _ = try other.append(framed.span)
        #expect(other.takeTrailingBytes() == [9, 9])
    }
}
