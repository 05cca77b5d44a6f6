import Testing
@testable import TraverseCore

@Suite struct VarintTests {
    @Test func specExamples() throws {
        let examples: [(UInt64, [UInt8])] = [
            (1, [0x01]), (127, [0x7f]), (128, [0x80, 0x01]), (255, [0xff, 0x01]),
            (300, [0xac, 0x02]), (16384, [0x80, 0x80, 0x01]),
        ]
        for (value, bytes) in examples {
            #expect(Varint.encode(value) == bytes)
            let decoded = try Varint.decode(bytes)
            #expect(decoded.value == value)
            #expect(decoded.length == bytes.count)
        }
    }
}
