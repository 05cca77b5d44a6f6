import Testing
@testable import TraverseCore

/// Identities and addresses shared by the AutoNAT and reachability tests.
enum AutoNATFixtures {
    static let serverKey = RelayFixtures.key(201)
    static let clientKey = RelayFixtures.key(202)
    static let otherKey = RelayFixtures.key(203)
    static var server: PeerID { serverKey.publicKey.peerID }
    static var client: PeerID { clientKey.publicKey.peerID }
    static var other: PeerID { otherKey.publicKey.peerID }
    static let observed = IPAddress.ipv4(IPv4Address(81, 2, 3, 4))

    static func address(_ text: String) -> Multiaddr {
        // The tests only pass valid text.
        (try? Multiaddr(text)) ?? Multiaddr()
    }

    static func peers(_ count: Int) -> [PeerID] {
        (0..<count).map { RelayFixtures.key(UInt64(300 + $0)).publicKey.peerID }
    }
}

@Suite struct AutoNATMessageTests {
    typealias F = AutoNATFixtures

    func decodeFramed(_ framed: [UInt8]) throws(AutoNATStreamError) -> AutoNATMessage? {
        var reader = AutoNATMessageReader()
        return try reader.append(framed.span)
    }

    @Test func statusValuesAreTheSpecs() {
        #expect(AutoNATResponseStatus.allCases.map(\.rawValue) == [0, 100, 101, 200, 300])
        #expect(AutoNATResponseStatus.dialRefused.description == "E_DIAL_REFUSED")
        #expect(StreamProtocolID.autoNAT == "/libp2p/autonat/1.0.0")
    }

    @Test func roundTrips() throws {
        let messages: [AutoNATMessage] = [
            .dial(peer: F.client, addresses: [F.address("/ip4/81.2.3.4/tcp/4001"), F.address("/ip6/2606:4700::1/tcp/4001")]),
            .dial(peer: F.client, addresses: []),
            .dialResponse(AutoNATDialResponse(status: .ok, address: F.address("/ip4/81.2.3.4/tcp/4001"))),
            .dialResponse(AutoNATDialResponse(status: .dialError, statusText: "dial failed")),
            .dialResponse(AutoNATDialResponse(status: .internalError)),
        ]
        for message in messages {
            let framed = message.encoded
            #expect(try decodeFramed(framed) == message)
            for chunk in [1, 3] {
                var reader = AutoNATMessageReader()
                var decoded: AutoNATMessage?
                var index = 0
                while index < framed.count {
                    let end = min(index + chunk, framed.count)
                    if let message = try Array(framed[index..<end]).withUnsafeBufferPointer({ try reader.append($0.span) }) {
                        #expect(decoded == nil)
                        decoded = message
                    }
                    index = end
                }
                #expect(decoded == message)
            }
        }
    }

    @Test func decodesHandWrittenBytes() throws {
        // type DIAL_RESPONSE, dialResponse { status E_DIAL_REFUSED (101), statusText "no" }
        let refused: [UInt8] = [0x08, 0x01, 0x1A, 0x06, 0x08, 0x65, 0x12, 0x02, 0x6E, 0x6F]
        #expect(try AutoNATMessage(payload: refused)
            == .dialResponse(AutoNATDialResponse(status: .dialRefused, statusText: "no")))
        // type DIAL, dial { peer { id, addrs: garbage, /ip4/1.2.3.4/tcp/1 } }: garbage skipped.
        let id = F.client.bytes
        let good = F.address("/ip4/1.2.3.4/tcp/1").bytes
        var peer: [UInt8] = [0x0A, UInt8(id.count)] + id + [0x12, 0x02, 0xFF, 0xFF] + [0x12, UInt8(good.count)] + good
        peer = [0x0A, UInt8(peer.count)] + peer
        let dial: [UInt8] = [0x08, 0x00, 0x12, UInt8(peer.count)] + peer
        #expect(try AutoNATMessage(payload: dial) == .dial(peer: F.client, addresses: [F.address("/ip4/1.2.3.4/tcp/1")]))
    }

    @Test func malformedMessagesAreTypedErrors() throws {
        #expect(throws: AutoNATMessageError.malformedProtobuf) { try AutoNATMessage(payload: [0xFF]) }
        #expect(throws: AutoNATMessageError.missingType) { try AutoNATMessage(payload: []) }
        #expect(throws: AutoNATMessageError.missingPeer) { try AutoNATMessage(payload: [0x08, 0x00]) }
        #expect(throws: AutoNATMessageError.missingPeer) { try AutoNATMessage(payload: [0x08, 0x00, 0x12, 0x02, 0x0A, 0x00]) }
        #expect(throws: AutoNATMessageError.missingDialResponse) { try AutoNATMessage(payload: [0x08, 0x01]) }
        #expect(throws: AutoNATMessageError.missingStatus) { try AutoNATMessage(payload: [0x08, 0x01, 0x1A, 0x00]) }
        // Status 7 is not in the spec.
        #expect(throws: AutoNATMessageError.missingStatus) { try AutoNATMessage(payload: [0x08, 0x01, 0x1A, 0x02, 0x08, 0x07]) }
        // A peer ID that is not a multihash.
        let badPeer: [UInt8] = [0x08, 0x00, 0x12, 0x05, 0x0A, 0x03, 0x0A, 0x01, 0x99]
        #expect {
            try AutoNATMessage(payload: badPeer)
        } throws: { error in
            if case .invalidPeerID = error as? AutoNATMessageError { true } else { false }
        }
    }

    @Test func limits() throws {
        let tooMany = AutoNATMessage.dial(
            peer: F.client,
            addresses: (0..<(AutoNATMessage.maximumAddresses + 1)).map { F.address("/ip4/1.2.3.4/tcp/\($0 + 1)") })
        var payload = tooMany.encoded
        payload.removeFirst(Varint.encodedLength(UInt64(tooMany.payloadLength)))
        #expect(throws: AutoNATMessageError.tooManyAddresses(count: 65, maximum: 64)) { try AutoNATMessage(payload: payload) }
        // Exactly the maximum decodes.
        let most = AutoNATMessage.dial(
            peer: F.client,
            addresses: (0..<AutoNATMessage.maximumAddresses).map { F.address("/ip4/1.2.3.4/tcp/\($0 + 1)") })
        #expect(try decodeFramed(most.encoded) == most)
        // A declared length past 4 KiB is refused from the prefix alone.
        var oversized: [UInt8] = []
        Varint.encode(4097, into: &oversized)
        #expect(throws: AutoNATStreamError.malformedMessage(.tooLong(length: 4097, maximum: 4096))) {
            try decodeFramed(oversized)
        }
        #expect(throws: AutoNATMessageError.tooLong(length: 4097, maximum: 4096)) {
            try AutoNATMessage(payload: [UInt8](repeating: 0, count: 4097))
        }
        #expect(throws: AutoNATStreamError.malformedMessage(.malformedLength)) {
            try decodeFramed([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        }
        // Bytes after the one message are a violation.
        let response = AutoNATMessage.dialResponse(AutoNATDialResponse(status: .ok)).encoded
        #expect(throws: AutoNATStreamError.unexpectedBytes) { try decodeFramed(response + [0]) }
        var reader = AutoNATMessageReader()
        _ = try reader.append(response.span)
        #expect(reader.capacity == 0)
        #expect(throws: AutoNATStreamError.unexpectedBytes) { try reader.append([0].span) }
    }
}
