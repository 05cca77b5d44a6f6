import Testing
@testable import TraverseCore

@Suite struct DNSMessageTests {
    @Test func queryBytes() throws {
        let query = try DNSQuery.encode(id: 0x1234, name: "_dnsaddr.Example.com", type: .txt)
        #expect(query == hex("123401000001000000000000") + [8] + Array("_dnsaddr".utf8) + [7] + Array("Example".utf8)
            + [3] + Array("com".utf8) + [0, 0x00, 0x10, 0x00, 0x01])
        #expect(throws: DNSError.invalidName("a..b")) { try DNSQuery.encode(id: 1, name: "a..b", type: .a) }
        #expect(throws: DNSError.invalidName("")) { try DNSQuery.encode(id: 1, name: "", type: .a) }
        let long = String(repeating: "x", count: 64) + ".com"
        #expect(throws: DNSError.invalidName(long)) { try DNSQuery.encode(id: 1, name: long, type: .a) }
    }

    /// A response answering `_dnsaddr.example.com TXT` with compression pointers, plus A,
    /// AAAA and CNAME records.
    static func sampleResponse() throws -> [UInt8] {
        var message = hex("abcd81800001000400000000")  // id, flags (response, RA), 1 question, 4 answers
        message += try DNSQuery.encode(id: 0, name: "_dnsaddr.example.com", type: .txt).dropFirst(12)
        let namePointer: [UInt8] = [0xC0, 12]  // the question's name
        func record(_ type: UInt16, _ data: [UInt8]) -> [UInt8] {
            namePointer + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 0x0E, 0x10,
                           UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
        }
        let first = Array("dnsaddr=/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq".utf8)
        let second = Array("dnsaddr=/ip4/192.0.2.2/tcp/4001/p2p/QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk".utf8)
        message += record(16, [UInt8(first.count)] + first + [UInt8(second.count)] + second + [3] + Array("bad".utf8))
        message += record(1, [192, 0, 2, 9])
        message += record(28, [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        message += record(5, [3] + Array("www".utf8) + [0xC0, 21])  // www + pointer to "example.com"
        return message
    }

    @Test func decodesAResponseWithCompression() throws {
        let response = try DNSResponse(bytes: try Self.sampleResponse())
        #expect(response.id == 0xABCD)
        #expect(response.question == DNSQuestion(name: "_dnsaddr.example.com", type: 16, recordClass: 1))
        #expect(response.responseCode == 0)
        #expect(!response.isTruncated)
        #expect(response.answers.count == 4)
        #expect(response.answers.allSatisfy { $0.name == "_dnsaddr.example.com" })
        #expect(response.answers[0].ttl == 3600)
        #expect(response.answers[1].data == .a(IPv4Address(192, 0, 2, 9)))
        #expect(response.answers[2].data == .aaaa(try #require(IPv6Address("2001:db8::1"))))
        #expect(response.answers[3].data == .cname("www.example.com"))

        let address = try Multiaddr("/dnsaddr/example.com/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(DNSAddr.queryName(for: address) == "_dnsaddr.example.com")
        #expect(DNSAddr.addresses(in: response.answers, resolving: address).map(\.description)
            == ["/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"])
        #expect(DNSAddr.addresses(in: response.answers, resolving: try Multiaddr("/dnsaddr/example.com")).count == 2)
        #expect(DNSAddr.queryName(for: try Multiaddr("/dns4/example.com/tcp/1")) == nil)
    }

    @Test func rejectsMalformedResponses() throws {
        let good = try Self.sampleResponse()
        // Every truncation is an error, never a crash.
        for length in 0..<good.count {
            #expect(throws: DNSError.self) { try DNSResponse(bytes: Array(good.prefix(length))) }
        }
        // A query is not a response.
        var query = good
        query[2] &= 0x7F
        #expect(throws: DNSError.notAResponse) { try DNSResponse(bytes: query) }
        // A pointer to itself (a loop) and a pointer forwards.
        var loop = hex("000081800000000100000000")
        loop += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
        #expect(throws: DNSError.malformedName) { try DNSResponse(bytes: loop) }
        // An A record of the wrong length.
        let header = hex("000081800000000100000000")
        let badA = header + [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3]
        #expect(throws: DNSError.malformedRecord(type: 1)) { try DNSResponse(bytes: badA) }
        // Too many answers.
        let many = hex("000081800000ffff00000000")
        #expect(throws: DNSError.tooManyRecords(65535)) { try DNSResponse(bytes: many) }
    }
}
