import FoundationEssentials
import Testing
@testable import TraverseCore

/// Raw `HolePunch` protobuf pieces, to build messages the encoder would never write.
enum HolePunchWire {
    static func type(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = [0x08]
        Varint.encode(value, into: &bytes)
        return bytes
    }

    static func address(_ entry: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x12]
        Varint.encode(UInt64(entry.count), into: &bytes)
        return bytes + entry
    }

    static func framed(_ payload: [UInt8]) -> [UInt8] { LengthPrefixedMessage.encode(payload) }
}

@Suite struct HolePunchMessageTests {
    let tcp = try! Multiaddr("/ip4/1.2.3.4/tcp/4001")
    let quic = try! Multiaddr("/ip6/2606:4700::1111/udp/4001/quic-v1")
    let circuit = try! Multiaddr("/ip4/9.9.9.9/tcp/1/p2p/\(RelayFixtures.relay)/p2p-circuit")

    func decodeFramed(_ bytes: [UInt8]) throws -> HolePunchMessage {
        var reader = HolePunchMessageReader()
        reader.append(bytes.span)
        return try #require(try reader.next())
    }

    @Test func roundTrips() throws {
        for message in [HolePunchMessage.connect(addresses: [tcp, quic]), .connect(addresses: []), .sync] {
            #expect(try decodeFramed(message.encoded) == message)
        }
    }

    @Test func encodingMatchesTheSchema() throws {
        // SYNC: type = 300 (varint ac 02); CONNECT: type = 100 and one bytes field per address.
        #expect(HolePunchMessage.sync.encoded == [3, 0x08, 0xAC, 0x02])
        let connect = HolePunchMessage.connect(addresses: [tcp]).encoded
        #expect(connect == HolePunchWire.framed(HolePunchWire.type(100) + HolePunchWire.address(tcp.bytes)))
    }

    @Test func invalidAndRelayedAddressesAreDropped() throws {
        let payload = HolePunchWire.type(100) + HolePunchWire.address([0xFF, 0xFF]) + HolePunchWire.address(tcp.bytes)
            + HolePunchWire.address(circuit.bytes) + HolePunchWire.address([]) + HolePunchWire.address(quic.bytes)
        #expect(try HolePunchMessage(payload: payload) == .connect(addresses: [tcp, quic]))
    }

    @Test func addressesAreCappedWhenDecodingAndEncoding() throws {
        let many = (1...40).map { try! Multiaddr("/ip4/1.2.3.\($0)/tcp/4001") }
        var payload = HolePunchWire.type(100)
        for address in many { payload += HolePunchWire.address(address.bytes) }
        #expect(try HolePunchMessage(payload: payload) == .connect(addresses: Array(many.prefix(HolePunchLimits.maximumAddresses))))
        #expect(try decodeFramed(HolePunchMessage.connect(addresses: many).encoded)
            == .connect(addresses: Array(many.prefix(HolePunchLimits.maximumAddresses))))
    }

    @Test func encodingStaysWithinTheMessageLimit() throws {
        // 24 addresses of ~200 bytes would be 4.8 KiB: only those that fit are sent.
        let long = (1...24).map { index in
            try! Multiaddr("/dns4/\(String(repeating: "a", count: 190))\(index).example/tcp/1")
        }
        let fitting = HolePunchLimits.fitting(long)
        #expect(fitting.count < long.count && fitting.count > 10)
        #expect(fitting == Array(long.prefix(fitting.count)))
        let encoded = HolePunchMessage.connect(addresses: long).encoded
        var offset = 0
        let range = try #require(try LengthPrefixedMessage.decode(encoded.span, at: &offset, maximumLength: .max))
        #expect(range.count <= HolePunchLimits.maximumMessageLength)
        #expect(try decodeFramed(encoded) == .connect(addresses: fitting))
        #expect(HolePunchLimits.fitting([circuit, tcp]) == [tcp])
    }

    @Test func syncAddressesAndUnknownFieldsAreIgnored() throws {
        let payload = HolePunchWire.type(300) + HolePunchWire.address(tcp.bytes) + [0x18, 0x05]
        #expect(try HolePunchMessage(payload: payload) == .sync)
    }

    @Test func malformedMessagesAreTypedErrors() throws {
        #expect(throws: HolePunchMessageError.missingType) { try HolePunchMessage(payload: []) }
        #expect(throws: HolePunchMessageError.missingType) { try HolePunchMessage(payload: HolePunchWire.type(200)) }
        #expect(throws: HolePunchMessageError.missingType) { try HolePunchMessage(payload: HolePunchWire.address(tcp.bytes)) }
        #expect(throws: HolePunchMessageError.malformedProtobuf) { try HolePunchMessage(payload: [0x12, 0x05, 0x01]) }
        #expect(throws: HolePunchMessageError.malformedProtobuf) { try HolePunchMessage(payload: [0x08]) }
        let tooLong = [UInt8](repeating: 0, count: HolePunchLimits.maximumMessageLength + 1)
        #expect(throws: HolePunchMessageError.tooLong(length: 4097, maximum: 4096)) { try HolePunchMessage(payload: tooLong) }
    }

    @Test func readerRefusesOversizedAndMalformedPrefixes() throws {
        var reader = HolePunchMessageReader()
        var prefix: [UInt8] = []
        Varint.encode(4097, into: &prefix)
        reader.append(prefix.span)
        #expect(throws: HolePunchMessageError.tooLong(length: 4097, maximum: 4096)) { try reader.next() }

        var malformed = HolePunchMessageReader()
        malformed.append([UInt8](repeating: 0xFF, count: 11).span)
        #expect(throws: HolePunchMessageError.malformedLength) { try malformed.next() }
    }

    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 7)])
    func readerReassemblesMessagesInPieces(_ chunking: Chunking) throws {
        let stream = HolePunchMessage.connect(addresses: [tcp, quic]).encoded + HolePunchMessage.sync.encoded
        var reader = HolePunchMessageReader()
        var messages: [HolePunchMessage] = []
        var generator = SeededGenerator(seed: 1)
        var offset = 0
        while offset < stream.count {
            let size: Int
            switch chunking {
            case .whole: size = stream.count
            case .bytewise: size = 1
            case .random: size = Int.random(in: 1...9, using: &generator)
            }
            let end = min(stream.count, offset + size)
            reader.append(Array(stream[offset..<end]).span)
            offset = end
            while let message = try reader.next() { messages.append(message) }
        }
        #expect(messages == [.connect(addresses: [tcp, quic]), .sync])
        #expect(reader.bufferedByteCount == 0)
    }

    @Test func errorsDescribeThemselves() {
        #expect(HolePunchMessageError.tooLong(length: 5000, maximum: 4096).description.contains("5000"))
        #expect(HolePunchError.unexpectedMessage(.sync).description == "unexpected DCUtR SYNC")
        #expect(HolePunchError.noDialableAddresses(received: 3).description.contains("3"))
    }
}
