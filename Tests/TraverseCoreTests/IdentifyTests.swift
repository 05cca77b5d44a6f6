import Foundation
import Testing
@testable import TraverseCore

@Suite struct IdentifyTests {
    static let key = (try? PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32)))!
    static let other = (try? PrivateKey(ed25519Seed: [UInt8](repeating: 10, count: 32)))!

    static func info(protocolCount: Int = 3, addressCount: Int = 2, withRecord: Bool = true) throws -> IdentifyInfo {
        let addresses = try (0..<addressCount).map { try Multiaddr("/ip4/192.0.2.\($0 % 250)/tcp/\(4000 + $0)") }
        let record = PeerRecord(peerID: key.peerID, seq: 42, addresses: addresses)
        return IdentifyInfo(
            publicKey: key.publicKey, listenAddresses: addresses,
            protocols: (0..<protocolCount).map { "/traverse/test/\($0)/1.0.0" },
            observedAddress: nil, protocolVersion: "ipfs/0.1.0", agentVersion: "traverse/0.1.0",
            signedPeerRecord: withRecord ? try SignedPeerRecord(sealing: record, with: key) : nil)
    }

    static func framed(_ message: Identify_Pb_Identify) -> [UInt8] {
        LengthPrefixedMessage.encode(message.encodedBytes)
    }

    static func requesterResult(_ bytes: [UInt8], limits: IdentifyLimits = .init(), chunking: Chunking = .whole) -> [IdentifyRequesterEvent] {
        var requester = IdentifyRequester(now: .zero, limits: limits)
        requester.receive(bytes, chunking: chunking)
        requester.receiveEndOfStream(now: .zero)
        return requester.events()
    }

    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 3)])
    func aResponderAndARequesterExchangeTheMessage(_ chunking: Chunking) throws {
        let info = try Self.info()
        let observed = try Multiaddr("/ip4/198.51.100.1/tcp/5555")
        var pair = StreamPair(
            try IdentifyResponder(info: info, observedAddress: observed),
            IdentifyRequester(now: .zero, expectedPeer: Self.key.peerID), chunking: chunking)
        pair.run()
        var expected = info
        expected.observedAddress = observed
        #expect(pair.eventsA == [.sent])
        #expect(pair.eventsB == [.received(expected)])
        #expect(pair.aClosedWrite && pair.bClosedWrite)
        #expect(pair.b.nextDeadline == nil)
    }

    @Test func aLargeMessageIsSplitLikeGoLibp2pAndMerged() throws {
        let info = try Self.info(protocolCount: 120)
        var bytes: [UInt8] = []
        try info.encode(into: &bytes)
        var offset = 0
        var parts: [[UInt8]] = []
        while let range = try LengthPrefixedMessage.decode(bytes.span, at: &offset, maximumLength: 8192) {
            parts.append(Array(bytes[range]))
        }
        #expect(parts.count == 2)
        let second = try #require(Identify_Pb_Identify(decoding: parts[1]))
        #expect(second.hasSignedPeerRecord && second.protocols.isEmpty && !second.hasPublicKey)
        #expect(Self.requesterResult(bytes, chunking: .random(seed: 1)) == [.received(info)])

        var small: [UInt8] = []
        try Self.info().encode(into: &small)
        var smallOffset = 0
        _ = try LengthPrefixedMessage.decode(small.span, at: &smallOffset, maximumLength: 8192)
        #expect(smallOffset == small.count, "a small message is one part")
    }

    @Test func partsMergeAsProtobufMerges() throws {
        var first = Identify_Pb_Identify()
        first.protocols = ["/a"]
        first.agentVersion = "old"
        first.listenAddrs = [Data(try Multiaddr("/ip4/1.2.3.4/tcp/1").bytes)]
        var second = Identify_Pb_Identify()
        second.protocols = ["/b"]
        second.agentVersion = "new"
        second.protocolVersion = "p"
        let info = try IdentifyMessageDecoder.decode((Self.framed(first) + Self.framed(second)).span)
        #expect(info.protocols == ["/a", "/b"])
        #expect(info.agentVersion == "new" && info.protocolVersion == "p")
        #expect(info.listenAddresses == [try Multiaddr("/ip4/1.2.3.4/tcp/1")])
        #expect(info.publicKey == nil && info.signedPeerRecord == nil)
        #expect(try IdentifyMessageDecoder.decode([UInt8]().span) == IdentifyInfo(publicKey: nil))
    }

    @Test func invalidAddressesAreSkippedAndEmptyObservedIsAbsent() throws {
        var message = Identify_Pb_Identify()
        message.listenAddrs = [Data([0xFF, 0xFF]), Data(try Multiaddr("/ip4/1.2.3.4/tcp/1").bytes), Data()]
        message.observedAddr = Data()
        var info = try IdentifyMessageDecoder.decode(Self.framed(message).span)
        #expect(info.listenAddresses == [try Multiaddr("/ip4/1.2.3.4/tcp/1")])
        #expect(info.observedAddress == nil)
        message.observedAddr = Data([0x04, 1])
        info = try IdentifyMessageDecoder.decode(Self.framed(message).span)
        #expect(info.observedAddress == nil)
    }

    @Test func framingLimitsAreEnforced() throws {
        let limits = IdentifyLimits(maximumPartLength: 100, maximumParts: 3, maximumTotalLength: 400)
        #expect(Self.requesterResult([0x65], limits: limits) == [.failed(.partTooLong(length: 101, maximum: 100))])
        #expect(Self.requesterResult([0, 0, 0, 0], limits: limits) == [.failed(.tooManyParts(maximum: 3))])
        #expect(Self.requesterResult([UInt8](repeating: 0, count: 401), limits: limits) == [.failed(.tooLong(maximum: 400))])
        #expect(Self.requesterResult([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]) == [.failed(.malformedLength)])
        #expect(Self.requesterResult([5, 1, 2]) == [.failed(.truncated(bufferedBytes: 3))])
        #expect(Self.requesterResult([3, 0xFF, 0xFF, 0xFF]) == [.failed(.malformedMessage)])
        #expect(Self.requesterResult(Array(repeating: 0, count: 10)).count == 1, "go-libp2p's 10 parts are accepted")
        #expect(Self.requesterResult(Array(repeating: 0, count: 11)) == [.failed(.tooManyParts(maximum: 10))])
    }

    @Test func listAndStringLimitsAreEnforced() throws {
        let limits = IdentifyLimits(maximumProtocols: 2, maximumListenAddresses: 1, maximumStringLength: 8)
        var message = Identify_Pb_Identify()
        message.protocols = ["/a", "/b", "/c"]
        #expect(Self.requesterResult(Self.framed(message), limits: limits) == [.failed(.tooManyProtocols(count: 3, maximum: 2))])
        message = Identify_Pb_Identify()
        message.listenAddrs = [Data(), Data()]
        #expect(Self.requesterResult(Self.framed(message), limits: limits) == [.failed(.tooManyAddresses(count: 2, maximum: 1))])
        message = Identify_Pb_Identify()
        message.agentVersion = "123456789"
        #expect(Self.requesterResult(Self.framed(message), limits: limits) == [.failed(.stringTooLong(length: 9, maximum: 8))])
        message = Identify_Pb_Identify()
        message.protocols = ["/123456789"]
        #expect(Self.requesterResult(Self.framed(message), limits: limits) == [.failed(.stringTooLong(length: 10, maximum: 8))])
        // The counts add up across parts.
        var first = Identify_Pb_Identify()
        first.protocols = ["/a", "/b"]
        var second = Identify_Pb_Identify()
        second.protocols = ["/c"]
        #expect(Self.requesterResult(Self.framed(first) + Self.framed(second), limits: limits)
            == [.failed(.tooManyProtocols(count: 3, maximum: 2))])
    }

    @Test func keysAndSignedRecordsAreVerified() throws {
        var message = try Self.info().protobufMessage
        message.publicKey = Data([1, 2, 3])
        guard case .failed(.invalidPublicKey) = Self.requesterResult(Self.framed(message)).first else {
            Issue.record("a bad key was accepted")
            return
        }

        message = try Self.info().protobufMessage
        var envelope = [UInt8](message.signedPeerRecord)
        envelope[envelope.count - 1] ^= 1
        message.signedPeerRecord = Data(envelope)
        #expect(Self.requesterResult(Self.framed(message)) == [.failed(.invalidSignedPeerRecord(.invalidSignature))])

        // Another peer's genuine record.
        message = try Self.info().protobufMessage
        let foreign = try SignedPeerRecord(
            sealing: PeerRecord(peerID: Self.other.peerID, seq: 1, addresses: []), with: Self.other)
        message.signedPeerRecord = Data(foreign.encoded)
        #expect(Self.requesterResult(Self.framed(message)) == [.failed(.peerRecordMismatch)])

        // A message from another peer than the connection's.
        var requester = IdentifyRequester(now: .zero, expectedPeer: Self.other.peerID)
        var bytes: [UInt8] = []
        try Self.info().encode(into: &bytes)
        requester.receive(bytes, chunking: .whole)
        requester.receiveEndOfStream(now: .zero)
        #expect(requester.events() == [.failed(.unexpectedPeer(Self.key.peerID))])
    }

    @Test func theRequesterTimesOutAndRejectsLateBytes() throws {
        var requester = IdentifyRequester(now: .zero, timeout: .seconds(5))
        #expect(requester.nextDeadline == .zero + .seconds(5))
        requester.receive([5, 1], chunking: .whole)
        #expect(requester.bufferedByteCount == 2)
        requester.handleTimeout(now: .zero + .seconds(5))
        #expect(requester.events() == [.failed(.timeout)])
        #expect(!requester.wantsToCloseWrite)

        var done = IdentifyRequester(now: .zero)
        done.receiveEndOfStream(now: .zero)
        _ = done.events()
        done.receive([0], chunking: .whole)
        #expect(done.events() == [.failed(.unexpectedBytes)])
    }

    @Test func theResponderRejectsBytesAndOversizedMessages() throws {
        var responder = try IdentifyResponder(info: try Self.info(), observedAddress: nil)
        #expect(!responder.wantsToCloseWrite)
        responder.receive([1], chunking: .whole)
        #expect(responder.events() == [.failed(.unexpectedBytes)])
        #expect(responder.transmitted().isEmpty)

        let huge = IdentifyInfo(publicKey: Self.key.publicKey, protocols: Array(repeating: String(repeating: "x", count: 1000), count: 9))
        #expect(throws: IdentifyUsageError.self) { try IdentifyResponder(info: huge, observedAddress: nil) }
    }

    @Test func pushUsesTheSameMachinesTheOtherWayRound() throws {
        // The pusher opens the stream and writes; the receiver reads until the end.
        var pair = StreamPair(IdentifyRequester(now: .zero), try IdentifyResponder(info: try Self.info(), observedAddress: nil))
        pair.run()
        #expect(pair.eventsA == [.received(try Self.info())])
        #expect(pair.eventsB == [.sent])
    }

    struct PyVectors: Decodable {
        struct Message: Decodable {
            let key: String
            let peer_id: String
            let public_key_hex: String
            let listen_addrs: [String]
            let record_addrs: [String]
            let protocols: [String]
            let observed_addr: String?
            let framed_hex: String
        }
        let agent_version: String
        let protocol_version: String
        let messages: [Message]
    }

    @Test func messagesBuiltByPyLibp2pDecodeAndTheirRecordsVerify() throws {
        let vectors = try JSONDecoder().decode(PyVectors.self, from: TestVectors.data("py-libp2p-identify.json"))
        #expect(vectors.messages.count == 6)
        for vector in vectors.messages {
            let peer = try PeerID(vector.peer_id)
            var requester = IdentifyRequester(now: .zero, expectedPeer: peer)
            requester.receive(hex(vector.framed_hex), chunking: .random(seed: 11))
            requester.receiveEndOfStream(now: .zero)
            let events = requester.events()
            guard case .received(let info) = try #require(events.first) else {
                Issue.record("\(vector.key): \(events)")
                continue
            }
            #expect(info.publicKey?.protobufEncoding == hex(vector.public_key_hex))
            #expect(info.publicKey?.peerID == peer)
            #expect(info.listenAddresses == (try vector.listen_addrs.map { try Multiaddr($0) }))
            #expect(info.protocols == vector.protocols)
            #expect(info.observedAddress == (try vector.observed_addr.map { try Multiaddr($0) }))
            #expect(info.agentVersion == vectors.agent_version)
            #expect(info.protocolVersion == vectors.protocol_version)
            let record = try #require(info.signedPeerRecord)
            #expect(record.record.peerID == peer)
            #expect(record.record.addresses == (try vector.record_addrs.map { try Multiaddr($0) }))
            #expect(record.envelope.signer.peerID == peer)
        }
    }
}
