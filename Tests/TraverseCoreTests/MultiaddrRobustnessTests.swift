import Testing
import TraverseFuzzTargets
@testable import TraverseCore

/// Feeds thousands of random and mutated inputs to both parsers: nothing may trap, and
/// everything that parses must round-trip.
@Suite struct MultiaddrRobustnessTests {
    static let seeds: [String] = [
        "/ip4/192.0.2.42/tcp/443",
        "/ip4/127.0.0.1/udp/1234/quic-v1",
        "/ip6/2001:db8::1/tcp/4001/ws",
        "/ip6zone/eth0/ip6/fe80::1/udp/1/webrtc-direct/certhash/uEiDbXOknFmlde75Dr5-yna1YSTymex2ufndl683yT4B1hQ",
        "/dns4/example.com/tcp/443/tls/sni/example.com/ws/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
        "/ip4/192.0.2.0/tcp/5002/p2p/QmdPU7PfRyKehdrP5A3WqmjyD6bhVpU1mLGKppa2FjGDjZ/p2p-circuit/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq",
        "/dnsaddr/bootstrap.libp2p.io",
        "/unix/tmp/traverse.sock",
        "/memory/42",
        "/ip4/1.2.3.4/udp/1/quic-v1/webtransport/certhash/uAAA/noise",
    ]

    /// What any successfully parsed multiaddr must satisfy.
    static func checkRoundTrip(_ address: Multiaddr, input: String) {
        #expect(!address.isEmpty, "\(input)")
        #expect(address.bytes.count <= Multiaddr.maximumBinaryLength, "\(input)")
        let text = address.description
        #expect(text.utf8.count <= Multiaddr.maximumTextLength, "\(input)")
        do {
            let fromText = try Multiaddr(text)
            #expect(fromText.bytes == address.bytes, "text \(text) of \(input)")
            #expect(fromText.description.utf8.elementsEqual(text.utf8), "text \(text) of \(input)")
            let fromBinary = try Multiaddr(bytes: address.bytes)
            #expect(fromBinary.bytes == address.bytes, "\(input)")
            #expect(fromBinary.components == address.components, "\(input)")
            #expect(try Multiaddr(components: address.components).bytes == address.bytes, "\(input)")
        } catch {
            Issue.record("round trip of \(input) via \(text) failed: \(error)")
        }
    }

    @Test func randomAndMutatedBinary() throws {
        var random = SeededGenerator(seed: 0x6D75_6C74_6961_6464)
        let valid = try Self.seeds.map { try Multiaddr($0).bytes }
        var parsed = 0
        for round in 0..<6000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                // Pure noise, biased toward small codes so some of it gets past the first byte.
                let count = Int.random(in: 0...48, using: &random)
                bytes = (0..<count).map { _ in
                    Bool.random(using: &random) ? UInt8.random(in: 0...0x40, using: &random) : UInt8.random(in: 0...255, using: &random)
                }
            } else {
                bytes = valid[Int.random(in: 0..<valid.count, using: &random)]
                let mutations = Int.random(in: 1...4, using: &random)
                for _ in 0..<mutations { Self.mutate(&bytes, with: valid, using: &random) }
            }
            guard let address = try? Multiaddr(bytes: bytes) else { continue }
            parsed += 1
            #expect(address.bytes == bytes, "\(Hex.encode(bytes))")
            Self.checkRoundTrip(address, input: Hex.encode(bytes))
        }
        // The mutations keep a fair share of inputs valid, so round trips were exercised.
        #expect(parsed > 500)
    }

    @Test func randomAndMutatedText() throws {
        var random = SeededGenerator(seed: 0x7465_7874)
        let pieces: [String] = [
            "/", "/", "/", "ip4", "ip6", "tcp", "udp", "dns", "dns4", "dnsaddr", "p2p", "ipfs",
            "p2p-circuit", "quic-v1", "ws", "wss", "tls", "sni", "noise", "webtransport",
            "certhash", "unix", "memory", "ip6zone", "webrtc-direct", "http", "1", "0", "65535",
            "65536", "255", "256", "1.2.3.4", "::", "::1", "::ffff:1.2.3.4", "fe80::", ":", ".",
            "-", "%", "%2F", "a", "Z", "é", "e\u{301}", "\u{301}", "\u{0}", " ", "🙂", "uAAA",
            "uEiDbXOknFmlde75Dr5-yna1YSTymex2ufndl683yT4B1hQ", "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
            "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq",
            "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6", "example.com",
        ]
        var parsed = 0
        for round in 0..<6000 {
            var text: String
            if round % 2 == 0 {
                text = ""
                for _ in 0..<Int.random(in: 0...12, using: &random) {
                    text += pieces[Int.random(in: 0..<pieces.count, using: &random)]
                }
            } else {
                // Mutate the UTF-8 of a valid text; invalid UTF-8 gets repaired by decoding.
                var utf8 = Array(Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &random)].utf8)
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    Self.mutate(&utf8, with: pieces.map { Array($0.utf8) }, using: &random)
                }
                text = String(decoding: utf8, as: UTF8.self)
            }
            guard let address = try? Multiaddr(text) else { continue }
            parsed += 1
            Self.checkRoundTrip(address, input: text)
        }
        #expect(parsed > 500)
    }

    /// One random edit: flip, replace, insert, delete, truncate, or splice from another input.
    private static func mutate(_ bytes: inout [UInt8], with donors: [[UInt8]], using random: inout SeededGenerator) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<7, using: &random) {
        case 0 where !bytes.isEmpty:
            bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
        case 1 where !bytes.isEmpty:
            bytes[position] = UInt8.random(in: 0...255, using: &random)
        case 2:
            bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
        case 3 where !bytes.isEmpty:
            bytes.remove(at: position)
        case 4:
            bytes.removeLast(Int.random(in: 0...min(bytes.count, 4), using: &random))
        case 5:
            let donor = donors[Int.random(in: 0..<donors.count, using: &random)]
            let start = donor.isEmpty ? 0 : Int.random(in: 0..<donor.count, using: &random)
            let end = Int.random(in: start...donor.count, using: &random)
            bytes.insert(contentsOf: donor[start..<end], at: position)
        default:
            // Append a whole donor: valid concatenations stay valid.
            bytes.append(contentsOf: donors[Int.random(in: 0..<donors.count, using: &random)])
        }
    }

    /// The fuzz targets themselves on the seed addresses (they trap on a broken invariant).
    @Test func fuzzTargetsAcceptTheSeeds() throws {
        for seed in Self.seeds {
            let binary = try Multiaddr(seed).bytes
            FuzzTarget.multiaddrBinary.run(binary.span)
            let text = Array(seed.utf8)
            FuzzTarget.multiaddrText.run(text.span)
        }
    }
}
