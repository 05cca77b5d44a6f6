import Testing
@testable import TraverseCore

/// Peer IDs and keys used across the multiaddr tests.
private enum MultiaddrFixtures {
    /// From `addressing/README.md` and `peer-ids/peer-ids.md` (sha2-256 peer IDs).
    static let peerA = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"
    static let peerAMultihash = "12209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9"
    static let relay = "QmdPU7PfRyKehdrP5A3WqmjyD6bhVpU1mLGKppa2FjGDjZ"
    static let target = "QmVT6GYwjeeAF5TR485Yc58S3xRF5EFsZ5YAF4VcP3URHt"
    /// `peer-ids/vectors/key-encodings.json`: the Ed25519 key's peer ID in both text forms.
    static let ed25519 = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
    static let ed25519CID = "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6"
    /// `peer-ids/peer-ids.md`: a sha2-256 peer ID as a CID, and the RSA vector in both forms.
    static let rsa = "QmaeANgBs1DTSxWSrPPtobgQuxW8XTfsS4ydbK4rCHzqxG"
    static let rsaCID = "bafzbeifwzcumbiyql7bhv7fe7mixg6i7aohegq75k234m63bnw6dbicmzu"
    /// A sha2-256 multihash (of "traverse certhash") and its multibase forms, computed
    /// independently (Python's base64/base32).
    static let certhashHex = "1220db5ce92716695d7bbe43af9fb29dad58493ca67b1dae7e7765ebcdf24f807585"
    static let certhashBase64URL = "uEiDbXOknFmlde75Dr5-yna1YSTymex2ufndl683yT4B1hQ"
    static let certhashBase32 = "bciqnwxhje4lgsxl3xzb27h5stwwvqsj4uz5r3lt6o5s6xtpsj6ahlbi"
}

@Suite struct MultiaddrVectorTests {
    /// `multiaddr/vectors/multiaddr.feature`, both scenarios.
    @Test func featureVector() throws {
        let address = try Multiaddr("/ip4/192.0.2.42/tcp/443")
        #expect(Hex.encode(address.bytes) == "04c000022a0601bb")
        #expect(address.bytes.count == 8)
        #expect(address.components == [.ip4(IPv4Address(192, 0, 2, 42)), .tcp(443)])
        #expect(address.components.map(\.description) == ["/ip4/192.0.2.42", "/tcp/443"])
        #expect(address.components.map { Hex.encode($0.bytes) } == ["04c000022a", "0601bb"])
        #expect(address.components.map(\.valueText) == ["192.0.2.42", "443"])
        #expect(address.protocols.map(\.code) == [4, 6])

        let packedBytes = try #require(Hex.decode("04c000022a0601bb"))
        let packed = try Multiaddr(bytes: packedBytes)
        #expect(packed.description == "/ip4/192.0.2.42/tcp/443")
        #expect(packed.description.utf8.count == 23)
        #expect(packed == address)
    }

    /// The multiaddr README's example.
    @Test func readmeVector() throws {
        let address = try Multiaddr("/ip4/127.0.0.1/udp/1234")
        #expect(Hex.encode(address.bytes) == "047f000001910204d2")
        let bytes = try #require(Hex.decode("047f000001910204d2"))
        #expect(try Multiaddr(bytes: bytes).description == "/ip4/127.0.0.1/udp/1234")
    }

    /// The `/p2p` and `p2p-circuit` forms of `addressing/README.md`.
    @Test func addressingVectors() throws {
        let p2p = try Multiaddr("/p2p/\(MultiaddrFixtures.peerA)")
        #expect(Hex.encode(p2p.bytes) == "a50322" + MultiaddrFixtures.peerAMultihash)
        #expect(p2p.description == "/p2p/\(MultiaddrFixtures.peerA)")

        let full = try Multiaddr("/ip4/198.51.100.1/tcp/1234/p2p/\(MultiaddrFixtures.peerA)")
        #expect(full.components.count == 3)
        #expect(full.peerID == (try PeerID(MultiaddrFixtures.peerA)))

        let circuitText = "/ip4/192.0.2.0/tcp/5002/p2p/\(MultiaddrFixtures.relay)/p2p-circuit/p2p/\(MultiaddrFixtures.target)"
        let circuit = try Multiaddr(circuitText)
        #expect(circuit.description == circuitText)
        #expect(circuit.protocols == [.ip4, .tcp, .p2p, .p2pCircuit, .p2p])
        #expect(Hex.encode(circuit.bytes).contains("a202a50322"))
        #expect(try Multiaddr(bytes: circuit.bytes) == circuit)
    }

    /// Binary forms computed independently (Python) for the other protocols.
    @Test func otherBinaryForms() throws {
        let cases: [(String, String)] = [
            ("/ip6/2001:db8::1/tcp/4001", "2920010db8000000000000000000000001060fa1"),
            ("/dns4/example.com/tcp/443/wss", "360b6578616d706c652e636f6d0601bbde03"),
            ("/unix/tmp/p2p.sock", "90030d2f746d702f7032702e736f636b"),
            ("/memory/1234", "890600000000000004d2"),
            ("/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/\(MultiaddrFixtures.certhashBase64URL)",
             "040102030491020fa1cd03d103d20322" + MultiaddrFixtures.certhashHex),
        ]
        for (text, hex) in cases {
            let address = try Multiaddr(text)
            #expect(Hex.encode(address.bytes) == hex, "\(text)")
            let bytes = try #require(Hex.decode(hex))
            #expect(try Multiaddr(bytes: bytes).description == text)
        }
    }
}

@Suite struct MultiaddrRoundTripTests {
    /// Every protocol: text → binary → text is the identity on canonical text, and
    /// binary → text → binary on the binary form.
    @Test(arguments: [
        "/ip4/0.0.0.0/tcp/0",
        "/ip4/255.255.255.255/udp/65535",
        "/ip4/10.0.0.1/dccp/5000",
        "/ip6/::/tcp/1",
        "/ip6/::1/udp/53",
        "/ip6zone/eth0/ip6/fe80::1/tcp/4001",
        "/ip6/::ffff:192.0.2.1/tcp/80",
        "/dns/example.com/tcp/443/tls/sni/example.com/ws",
        "/dns4/bootstrap.libp2p.io/tcp/443/wss/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
        "/dns6/ipv6.example.net/udp/443/quic",
        "/dnsaddr/bootstrap.libp2p.io",
        "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
        "/ip4/147.75.87.27/udp/4001/quic-v1/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
        "/ip4/1.2.3.4/tcp/4001/noise",
        "/ip4/1.2.3.4/tcp/443/tls/http",
        "/ip4/1.2.3.4/tcp/443/https",
        "/ip4/1.2.3.4/udp/4001/webrtc-direct/certhash/uEiDbXOknFmlde75Dr5-yna1YSTymex2ufndl683yT4B1hQ",
        "/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/uEiDbXOknFmlde75Dr5-yna1YSTymex2ufndl683yT4B1hQ/certhash/uAAA",
        "/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq/p2p-circuit/webrtc",
        "/p2p/16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY",
        "/unix/tmp/traverse.sock",
        "/unix/a",
        "/unix/var//run/with%percent and space",
        "/memory/0",
        "/memory/18446744073709551615",
        "/dns/xn--bcher-kva.example/tcp/1",
        "/dns/bücher.example/tcp/1",
        "/p2p-circuit",
    ])
    func canonicalTextRoundTrips(_ text: String) throws {
        let address = try Multiaddr(text)
        #expect(address.description == text)
        let decoded = try Multiaddr(bytes: address.bytes)
        #expect(decoded == address)
        #expect(decoded.components == address.components)
        #expect(decoded.description == text)
        // Rebuilding from components gives the same bytes.
        #expect(try Multiaddr(components: address.components).bytes == address.bytes)
        // Every component re-parses from its own text.
        for component in address.components {
            if let value = component.valueText {
                #expect(try MultiaddrComponent(component.protocol, value: value) == component)
            }
        }
    }

    /// Non-canonical text is accepted and printed canonically.
    @Test(arguments: [
        ("/ip6/2001:DB8::1", "/ip6/2001:db8::1"),
        ("/ip6/2001:0db8:0000:0000:0000:0000:0000:0001/tcp/1", "/ip6/2001:db8::1/tcp/1"),
        ("/ip6/0:0:0:0:0:0:0:0", "/ip6/::"),
        ("/ip6/::FFFF:c000:0201", "/ip6/::ffff:192.0.2.1"),
        ("/ipfs/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
         "/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"),
        ("/ip4/1.2.3.4/tcp/80/", "/ip4/1.2.3.4/tcp/80"),
        ("/ip4/1.2.3.4/tcp/80///", "/ip4/1.2.3.4/tcp/80"),
        ("/tcp/0080", "/tcp/80"),
        ("/unix/tmp/x.sock/", "/unix/tmp/x.sock"),
        ("/certhash/" + MultiaddrFixtures.certhashBase32, "/certhash/" + MultiaddrFixtures.certhashBase64URL),
        ("/certhash/f" + MultiaddrFixtures.certhashHex, "/certhash/" + MultiaddrFixtures.certhashBase64URL),
    ])
    func nonCanonicalTextIsCanonicalized(_ input: String, _ canonical: String) throws {
        let address = try Multiaddr(input)
        #expect(address.description == canonical)
        #expect(try Multiaddr(canonical) == address)
    }

    /// `/p2p/` accepts CIDv1 peer IDs and prints them in base58btc.
    @Test func cidPeerIDs() throws {
        let ed25519 = try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/\(MultiaddrFixtures.ed25519CID)")
        #expect(ed25519.description == "/ip4/1.2.3.4/tcp/1/p2p/\(MultiaddrFixtures.ed25519)")
        #expect(ed25519 == (try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/\(MultiaddrFixtures.ed25519)")))
        let rsa = try Multiaddr("/ipfs/\(MultiaddrFixtures.rsaCID)")
        #expect(rsa.description == "/p2p/\(MultiaddrFixtures.rsa)")
        let specExample = try Multiaddr("/p2p/bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe")
        #expect(specExample.peerID?.description.hasPrefix("Qm") == true)
    }

    /// Equality and hashing follow the binary form.
    @Test func equalityIsBinary() throws {
        let a = try Multiaddr("/ip6/2001:DB8::1/ipfs/\(MultiaddrFixtures.peerA)")
        let b = try Multiaddr("/ip6/2001:db8:0::1/p2p/\(MultiaddrFixtures.peerA)")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
    }

    /// The longest text a maximal binary form can print as still parses.
    @Test func worstCaseTextExpansionFitsTheTextLimit() throws {
        let components = [MultiaddrComponent](repeating: .webrtcDirect, count: Multiaddr.maximumBinaryLength / 2)
        let address = try Multiaddr(components: components)
        #expect(address.bytes.count == Multiaddr.maximumBinaryLength)
        #expect(address.description.utf8.count <= Multiaddr.maximumTextLength)
        #expect(try Multiaddr(address.description) == address)
        #expect(throws: MultiaddrError.binaryTooLong(length: Multiaddr.maximumBinaryLength + 2)) {
            try address.encapsulate(.webrtcDirect)
        }
    }

    /// Components can be built from protocol and value text.
    @Test func componentsFromValueText() throws {
        #expect(try MultiaddrComponent(.tcp, value: "443") == .tcp(443))
        #expect(try MultiaddrComponent(.ip6, value: "::1") == .ip6(IPv6Address(high: 0, low: 1)))
        #expect(try MultiaddrComponent(.p2p, value: MultiaddrFixtures.peerA).description
            == "/p2p/\(MultiaddrFixtures.peerA)")
        #expect(MultiaddrComponent(valueless: .quicV1) == .quicV1)
        #expect(MultiaddrComponent(valueless: .tcp) == nil)
        #expect(throws: MultiaddrError.invalidValue(.ws, .unexpectedValue)) {
            try MultiaddrComponent(.ws, value: "x")
        }
        for kind in MultiaddrProtocol.allCases {
            #expect(MultiaddrProtocol(name: kind.name) == kind)
            #expect(MultiaddrProtocol(code: kind.code) == kind)
            #expect(kind.hasValue == (MultiaddrComponent(valueless: kind) == nil))
        }
        #expect(MultiaddrProtocol(name: "ipfs") == .p2p)
    }
}

@Suite struct MultiaddrProtocolTableTests {
    /// Codes and sizes against `multiaddr/protocols.csv` (sizes in bits there).
    @Test func codesMatchProtocolsCSV() {
        let table: [(String, UInt64, MultiaddrProtocol.ValueSize)] = [
            ("ip4", 4, .fixed(4)), ("tcp", 6, .fixed(2)), ("udp", 273, .fixed(2)),
            ("dccp", 33, .fixed(2)), ("ip6", 41, .fixed(16)), ("ip6zone", 42, .lengthPrefixed),
            ("dns", 53, .lengthPrefixed), ("dns4", 54, .lengthPrefixed), ("dns6", 55, .lengthPrefixed),
            ("dnsaddr", 56, .lengthPrefixed), ("unix", 400, .lengthPrefixed), ("p2p", 421, .lengthPrefixed),
            ("tls", 448, .none), ("sni", 449, .lengthPrefixed), ("noise", 454, .none),
            ("quic", 460, .none), ("quic-v1", 461, .none), ("webtransport", 465, .none),
            ("certhash", 466, .lengthPrefixed), ("http", 480, .none), ("https", 443, .none),
            ("ws", 477, .none), ("wss", 478, .none), ("webrtc-direct", 280, .none),
            ("webrtc", 281, .none), ("p2p-circuit", 290, .none),
            // protocols.csv says `V`; go- and rust-multiaddr use a fixed 64-bit value.
            ("memory", 777, .fixed(8)),
        ]
        #expect(table.count == MultiaddrProtocol.allCases.count)
        for (name, code, size) in table {
            let kind = MultiaddrProtocol(name: name)
            #expect(kind?.code == code, "\(name)")
            #expect(kind?.valueSize == size, "\(name)")
        }
    }
}

@Suite struct MultiaddrIPAddressTests {
    @Test(arguments: [
        ("::", "::"), ("::1", "::1"), ("1::", "1::"), ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), // first of two equal runs
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"), // longest run wins
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), // a single zero group stays
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("fe80::883:a581:fff1:833", "fe80::883:a581:fff1:833"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"),
        ("::1.2.3.4", "::102:304"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("0001:0002:0003:0004:0005:0006:0007:0008", "1:2:3:4:5:6:7:8"),
    ])
    func ipv6CanonicalForm(_ input: String, _ canonical: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
        #expect(IPv6Address(bytes: address.bytes) == address)
        #expect(IPv6Address(groups: address.groups) == address)
    }

    @Test(arguments: [
        "", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8", "12345::", "g::1", ":1::", "1::2:", "1:2:3:4:5:6:7:8:", "1.2.3.4",
        "::1.2.3", "::1.2.3.4.5", "::01.2.3.4", "::256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3.4:5", "fe80::1%eth0", " ::1", "::1 ", "[::1]", "::-1", "+1::",
    ])
    func ipv6Rejects(_ input: String) {
        #expect(IPv6Address(input) == nil)
    }

    @Test func ipv4ParsesAndPrints() throws {
        #expect(IPv4Address("192.0.2.42")?.bytes == [192, 0, 2, 42])
        #expect(IPv4Address("0.0.0.0")?.value == 0)
        #expect(IPv4Address("255.255.255.255")?.value == UInt32.max)
        #expect(IPv4Address(10, 1, 2, 3).description == "10.1.2.3")
        #expect(IPv4Address(bytes: [1, 2, 3]) == nil)
        #expect(IPv6Address(ipv4Mapped: IPv4Address(1, 2, 3, 4)).description == "::ffff:1.2.3.4")
        #expect(IPv6Address("::ffff:1.2.3.4")?.ipv4Mapped == IPv4Address(1, 2, 3, 4))
        #expect(IPv6Address("::1")?.ipv4Mapped == nil)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "00.1.2.3",
        "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "-1.2.3.4", "+1.2.3.4", "1.2.3.a", "0x1.2.3.4",
        "1000.1.1.1", "1.2.3.4/8", "١.٢.٣.٤",
    ])
    func ipv4Rejects(_ input: String) {
        #expect(IPv4Address(input) == nil)
    }
}

@Suite struct MultiaddrCompositionTests {
    let relay = "/ip4/192.0.2.0/tcp/5002/p2p/\(MultiaddrFixtures.relay)"

    @Test func encapsulateAndDecapsulate() throws {
        let base = try Multiaddr("/ip4/198.51.100.1")
        let tcp = try Multiaddr("/tcp/1234")
        let full = try base.encapsulate(tcp).encapsulate(.ws)
        #expect(full.description == "/ip4/198.51.100.1/tcp/1234/ws")
        #expect(full.decapsulate(try Multiaddr("/ws")).description == "/ip4/198.51.100.1/tcp/1234")
        #expect(full.decapsulate(try Multiaddr("/tcp/1234/ws")) == base)
        #expect(full.decapsulate(tcp) == base)
        // Not found, or a different value: unchanged.
        #expect(full.decapsulate(try Multiaddr("/tcp/4321")) == full)
        #expect(full.decapsulate(try Multiaddr("/tcp/1234/wss")) == full)
        #expect(full.decapsulate(Multiaddr()) == full)
        // Everything: the empty multiaddr.
        #expect(full.decapsulate(full).isEmpty)
        #expect(full.decapsulate(full).description == "")
        #expect(try Multiaddr().encapsulate(full) == full)
        // By protocol.
        #expect(full.decapsulate(.tcp) == base)
        #expect(full.decapsulate(.udp) == full)
    }

    @Test func decapsulateRemovesTheLastOccurrence() throws {
        let address = try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p-circuit/ip4/1.2.3.4/tcp/1/ws")
        #expect(address.decapsulate(try Multiaddr("/ip4/1.2.3.4/tcp/1")).description
            == "/ip4/1.2.3.4/tcp/1/p2p-circuit")
        #expect(address.decapsulate(.tcp).description == "/ip4/1.2.3.4/tcp/1/p2p-circuit/ip4/1.2.3.4")
    }

    @Test func encapsulateChecksTheResult() throws {
        let socket = try Multiaddr("/unix/tmp/sock")
        #expect(throws: MultiaddrError.componentAfterPath(.unix)) { try socket.encapsulate(.ws) }
        #expect(throws: MultiaddrError.invalidValue(.dns, .empty)) {
            try Multiaddr("/ip4/1.2.3.4").encapsulate(.dns(""))
        }
        #expect(throws: MultiaddrError.invalidValue(.sni, .containsSlash)) {
            try Multiaddr(components: [.sni("a/b")])
        }
        #expect(throws: MultiaddrError.componentAfterPath(.unix)) {
            try Multiaddr(components: [.unix("/a"), .tcp(1)])
        }
        #expect(throws: MultiaddrError.invalidValue(.certhash, .notMultihash)) {
            try Multiaddr(components: [.certhash([0x12, 0x20, 0x01])])
        }
    }

    @Test func trailingPeerID() throws {
        let peer = try PeerID(MultiaddrFixtures.peerA)
        let address = try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/\(MultiaddrFixtures.peerA)")
        #expect(address.peerID == peer)
        #expect(address.withoutTrailingPeerID.description == "/ip4/1.2.3.4/tcp/1")
        let notLast = try Multiaddr("/p2p/\(MultiaddrFixtures.peerA)/p2p-circuit")
        #expect(notLast.peerID == nil)
        #expect(notLast.withoutTrailingPeerID == notLast)
        #expect(try Multiaddr("/ip4/1.2.3.4").peerID == nil)
    }

    @Test func splitCircuit() throws {
        let circuit = try Multiaddr("\(relay)/p2p-circuit/p2p/\(MultiaddrFixtures.target)")
        #expect(circuit.isCircuit)
        let split = try #require(circuit.splitCircuit())
        #expect(split.relay.description == relay)
        #expect(split.relay.peerID == (try PeerID(MultiaddrFixtures.relay)))
        #expect(split.target == (try PeerID(MultiaddrFixtures.target)))
        // The relay's own address as a reservation returns it, plus `/p2p-circuit`.
        let listen = try Multiaddr(relay).encapsulate(.p2pCircuit)
        #expect(listen.splitCircuit()?.relay == (try Multiaddr(relay)))
        #expect(listen.splitCircuit()?.target == nil)
        // No circuit.
        let direct = try Multiaddr(relay)
        #expect(!direct.isCircuit)
        #expect(direct.splitCircuit() == nil)
        // Two hops: split at the last `/p2p-circuit`.
        let twoHops = try Multiaddr("\(relay)/p2p-circuit/p2p/\(MultiaddrFixtures.peerA)/p2p-circuit/p2p/\(MultiaddrFixtures.target)")
        let last = try #require(twoHops.splitCircuit())
        #expect(last.relay.description == "\(relay)/p2p-circuit/p2p/\(MultiaddrFixtures.peerA)")
        #expect(last.target == (try PeerID(MultiaddrFixtures.target)))
    }
}

@Suite struct MultiaddrRejectionTests {
    @Test(arguments: [
        ("", MultiaddrError.empty),
        ("/", .empty),
        ("///", .empty),
        ("ip4/1.2.3.4", .missingLeadingSlash),
        (" /ip4/1.2.3.4", .missingLeadingSlash),
        ("/ip5/1.2.3.4", .unknownProtocolName("ip5")),
        ("/ip4/1.2.3.4/garbage", .unknownProtocolName("garbage")),
        ("/ip4//tcp/1", .invalidValue(.ip4, .notIPv4Address)),
        ("/ip4/256.0.0.1", .invalidValue(.ip4, .notIPv4Address)),
        ("/ip4/1.2.3", .invalidValue(.ip4, .notIPv4Address)),
        ("/ip4/01.2.3.4", .invalidValue(.ip4, .notIPv4Address)),
        ("/ip6/1::2::3", .invalidValue(.ip6, .notIPv6Address)),
        ("/ip6/1.2.3.4", .invalidValue(.ip6, .notIPv6Address)),
        ("/tcp/65536", .invalidValue(.tcp, .notPort)),
        ("/tcp/-1", .invalidValue(.tcp, .notPort)),
        ("/tcp/abc", .invalidValue(.tcp, .notPort)),
        ("/tcp/+80", .invalidValue(.tcp, .notPort)),
        ("/udp/99999999999999999999999", .invalidValue(.udp, .notPort)),
        ("/memory/18446744073709551616", .invalidValue(.memory, .notNumber)),
        ("/tcp", .missingValue(.tcp)),
        ("/ip4/1.2.3.4/tcp/", .missingValue(.tcp)),
        ("/p2p", .missingValue(.p2p)),
        ("/unix", .missingValue(.unix)),
        ("/dns//tcp/1", .invalidValue(.dns, .empty)),
        ("/dns4/" + String(repeating: "a", count: 256), .valueTooLong(.dns4, length: 256)),
        ("/p2p/QmInvalid0", .invalidPeerID(.invalidText)),
        ("/p2p/notapeer", .invalidPeerID(.invalidText)),
        ("/p2p/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", .invalidPeerID(.wrongCIDCodec(0x70))),
        ("/certhash/xyz", .invalidValue(.certhash, .notMultibase)),
        ("/certhash/u!!", .invalidValue(.certhash, .notMultibase)),
        ("/certhash/uEiA", .invalidValue(.certhash, .notMultihash)),
        ("/dns/a/\u{301}tcp/1", .unknownProtocolName("\u{301}tcp")),
    ])
    func rejectsText(_ text: String, _ error: MultiaddrError) {
        #expect(throws: error) { try Multiaddr(text) }
    }

    /// A unix path takes the rest of the text, so what looks like more components is path.
    @Test func unixPathTakesTheRest() throws {
        #expect(try Multiaddr("/unix/tmp/sock/ws").components == [.unix("/tmp/sock/ws")])
        #expect(try Multiaddr("/ip4/1.2.3.4/unix/a/b").components == [.ip4(IPv4Address(1, 2, 3, 4)), .unix("/a/b")])
    }

    @Test func rejectsOverlongText() {
        let text = "/dns/" + String(repeating: "a", count: Multiaddr.maximumTextLength)
        #expect(throws: MultiaddrError.textTooLong(length: text.utf8.count)) { try Multiaddr(text) }
    }

    @Test(arguments: [
        ("", MultiaddrError.empty),
        ("00", .unknownProtocolCode(0)),
        ("ff01", .unknownProtocolCode(255)),
        ("8080808080808080808001", .malformedVarint(.tooLong)),
        ("8000", .malformedVarint(.notMinimal)),
        ("84", .malformedVarint(.truncated)),
        ("047f0000", .truncatedValue(.ip4)),
        ("047f000001", nil), // valid: `/ip4/127.0.0.1`
        ("047f00000106", .truncatedValue(.tcp)),
        ("047f0000010601", .truncatedValue(.tcp)),
        ("047f0000010601bbff", .malformedVarint(.truncated)), // trailing byte
        ("047f0000010601bb00", .unknownProtocolCode(0)), // trailing byte
        ("29000000", .truncatedValue(.ip6)),
        ("3505616263", .truncatedValue(.dns)),
        ("35", .malformedVarint(.truncated)),
        ("3500", .invalidValue(.dns, .empty)),
        ("3503612f62", .invalidValue(.dns, .containsSlash)),
        ("3502c328", .invalidValue(.dns, .notUTF8)),
        ("3503eda080", .invalidValue(.dns, .notUTF8)), // an encoded surrogate
        ("2a02ff61", .invalidValue(.ip6zone, .notUTF8)),
        ("c1030180", .invalidValue(.sni, .notUTF8)),
        ("3580ffffffffffffff7f", .valueTooLong(.dns, length: 0x7fff_ffff_ffff_ff80)),
        ("3580028080", .valueTooLong(.dns, length: 256)),
        ("a503ffffffffffffffff7f", .truncatedValue(.p2p)),
        ("a5030100", .invalidPeerID(.invalidMultihash(.malformedVarint(.truncated)))),
        ("a50303122001", .invalidPeerID(.invalidMultihash(.wrongDigestLength(code: 0x12, length: 1)))),
        ("d2030112", .invalidValue(.certhash, .notMultihash)),
        ("d203031202aa", .invalidValue(.certhash, .notMultihash)),
        ("900300", .invalidValue(.unix, .notAbsolutePath)),
        ("9003012f", .invalidValue(.unix, .notAbsolutePath)),
        ("9003026162", .invalidValue(.unix, .notAbsolutePath)),
        ("9003032f612f", .invalidValue(.unix, .trailingSlash)),
        ("9003022f61dd03", .componentAfterPath(.unix)),
        ("8906000000", .truncatedValue(.memory)),
    ])
    func rejectsBinary(_ hex: String, _ error: MultiaddrError?) throws {
        let bytes = try #require(Hex.decode(hex))
        if let error {
            #expect(throws: error) { try Multiaddr(bytes: bytes) }
        } else {
            #expect(try Multiaddr(bytes: bytes).bytes == bytes)
        }
    }

    @Test func rejectsOverlongBinary() {
        let bytes = [UInt8](repeating: 0xdd, count: Multiaddr.maximumBinaryLength + 1)
        #expect(throws: MultiaddrError.binaryTooLong(length: bytes.count)) { try Multiaddr(bytes: bytes) }
    }

    /// A string value that only differs by Unicode normalization is a different address.
    @Test func stringValuesCompareByBytes() throws {
        let composed = try Multiaddr("/dns/\u{e9}.example")
        let decomposed = try Multiaddr("/dns/e\u{301}.example")
        #expect(composed != decomposed)
        #expect(composed.components != decomposed.components)
        #expect(try Multiaddr(bytes: decomposed.bytes).description.utf8.elementsEqual(decomposed.description.utf8))
    }
}
