import Testing
@testable import TraverseCore

/// Drives a `MultiaddrResolution` by hand, as a driver would.
struct ResolutionHarness {
    var machine: MultiaddrResolution
    var now = Instant.zero
    /// Every request drained so far, in order.
    var requests: [MultiaddrResolutionRequest] = []
    var events: [MultiaddrResolutionEvent] = []

    init(_ text: String, servers: [SocketAddress] = Self.servers, attempts: Int = 2,
         limits: MultiaddrResolutionLimits = .init()) throws {
        var generator = SeededGenerator(seed: 42)
        machine = try MultiaddrResolution(
            resolving: try Multiaddr(text),
            configuration: ResolverConfiguration(nameServers: servers, timeout: .seconds(2), attempts: attempts),
            limits: limits, now: .zero, using: &generator)
        drain()
    }

    static let servers: [SocketAddress] = [
        .ipv4(IPv4Address(192, 0, 2, 53), port: 53), .ipv6(IPv6Address(high: 0x2001_0db8 << 32, low: 0x53), port: 53),
    ]

    mutating func drain() {
        while let request = machine.pollRequest() { requests.append(request) }
        while let event = machine.pollEvent() { events.append(event) }
    }

    /// The `sendQuery` requests not yet cancelled, oldest first.
    var openQueries: [(id: ResolutionRequestID, server: SocketAddress, bytes: [UInt8])] {
        let cancelled = Set(requests.compactMap { if case .cancel(let id) = $0 { id } else { nil } })
        return requests.compactMap {
            if case .sendQuery(let id, let server, let bytes) = $0, !cancelled.contains(id) { (id, server, bytes) } else { nil }
        }
    }

    /// The host lookups not yet answered or cancelled, oldest first.
    var answeredLookups: Set<ResolutionRequestID> = []
    var openLookups: [(id: ResolutionRequestID, name: String, family: IPAddressFamily)] {
        let cancelled = Set(requests.compactMap { if case .cancel(let id) = $0 { id } else { nil } })
        return requests.compactMap {
            if case .lookUpHost(let id, let name, let family) = $0, !cancelled.contains(id), !answeredLookups.contains(id) {
                (id, name, family)
            } else { nil }
        }
    }

    /// The name the open query `index` asks for.
    func queryName(_ index: Int = 0) throws -> String {
        try #require(try DNSResponseBuilder(answering: openQueries[index].bytes).question).name
    }

    /// Answers the open query for `name` with these `dnsaddr=` records.
    mutating func answer(_ name: String, dnsaddrs: [String]) throws {
        let query = try #require(openQueries.first { (try? DNSResponseBuilder(answering: $0.bytes).question?.name) == name })
        var response = try DNSResponseBuilder(answering: query.bytes)
        response.addDNSAddrs(dnsaddrs)
        try reply(query.id, response.bytes)
    }

    mutating func reply(_ id: ResolutionRequestID, _ bytes: [UInt8]) throws {
        try machine.queryAnswered(id, bytes: bytes, now: now)
        drain()
    }

    mutating func completeLookup(_ id: ResolutionRequestID, _ result: Result<[IPAddress], ResolverDriverError>) throws {
        answeredLookups.insert(id)
        try machine.hostLookupCompleted(id, result, now: now)
        drain()
    }

    mutating func advance(to instant: Instant) {
        now = instant
        machine.handleTimeout(now: now)
        drain()
    }
}

func ip(_ text: String) -> IPAddress {
    if let v4 = IPv4Address(text) { return .ipv4(v4) }
    if let v6 = IPv6Address(text) { return .ipv6(v6) }
    fatalError("bad IP literal in test: \(text)")
}

@Suite struct MultiaddrResolutionTests {
    static let peerA = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"
    static let peerB = "QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb"

    // MARK: Address kinds

    @Test(arguments: ["/ip4/192.0.2.1/tcp/4001", "/ip6/2001:db8::1/udp/1/quic-v1/p2p/\(peerA)",
                      "/ip6zone/eth0/ip6/fe80::1/tcp/1"])
    func ipAddressesResolveToThemselves(_ text: String) throws {
        let harness = try ResolutionHarness(text)
        #expect(harness.requests.isEmpty)
        #expect(harness.events == [.resolved([try Multiaddr(text)])])
        #expect(harness.machine.isFinished && harness.machine.nextDeadline == nil)
    }

    @Test(arguments: ["/unix/tmp/socket", "/p2p/\(peerA)", "/memory/4"])
    func otherAddressesAreUnsupported(_ text: String) throws {
        let harness = try ResolutionHarness(text)
        #expect(harness.requests.isEmpty)
        #expect(harness.events == [.failed(.unsupportedAddress(try Multiaddr(text)))])
    }

    @Test func dns4KeepsIPv4AndTheRest() throws {
        var harness = try ResolutionHarness("/dns4/example.com/tcp/443/wss/p2p/\(Self.peerA)")
        let lookup = try #require(harness.openLookups.first)
        #expect(harness.requests == [.lookUpHost(lookup.id, name: "example.com", family: .ipv4)])
        #expect(harness.machine.nextDeadline == .zero + .seconds(10))
        try harness.completeLookup(lookup.id, .success([ip("192.0.2.1"), ip("2001:db8::1"), ip("192.0.2.2")]))
        #expect(harness.events == [.resolved([
            try Multiaddr("/ip4/192.0.2.1/tcp/443/wss/p2p/\(Self.peerA)"),
            try Multiaddr("/ip4/192.0.2.2/tcp/443/wss/p2p/\(Self.peerA)"),
        ])])
        #expect(harness.machine.nextDeadline == nil)
    }

    @Test func dns6KeepsIPv6() throws {
        var harness = try ResolutionHarness("/dns6/example.com/udp/4001/quic-v1")
        let lookup = try #require(harness.openLookups.first)
        #expect(lookup.family == .ipv6)
        try harness.completeLookup(lookup.id, .success([ip("192.0.2.1"), ip("2001:db8::1"), ip("::ffff:192.0.2.9")]))
        #expect(harness.events == [.resolved([try Multiaddr("/ip6/2001:db8::1/udp/4001/quic-v1")])])
    }

    @Test func dnsKeepsBothFamiliesInTheSystemsOrder() throws {
        var harness = try ResolutionHarness("/dns/example.com/tcp/1")
        let lookup = try #require(harness.openLookups.first)
        #expect(lookup.family == .any)
        try harness.completeLookup(
            lookup.id, .success([ip("2001:db8::1"), ip("192.0.2.1"), ip("::ffff:192.0.2.2"), ip("192.0.2.1")]))
        #expect(harness.events == [.resolved([
            try Multiaddr("/ip6/2001:db8::1/tcp/1"), try Multiaddr("/ip4/192.0.2.1/tcp/1"),
            try Multiaddr("/ip4/192.0.2.2/tcp/1"),
        ])])
    }

    @Test func hostLookupFailures() throws {
        let cases: [(Result<[IPAddress], ResolverDriverError>, MultiaddrResolutionEvent)] = [
            (.failure(.nameNotFound), .failed(.nameNotFound("example.com"))),
            (.failure(.temporaryFailure), .failed(.lookupFailed(.temporaryFailure))),
            (.failure(.system(code: -3008)), .failed(.lookupFailed(.system(code: -3008)))),
            (.success([]), .failed(.noAddresses)),
            (.success([ip("2001:db8::1")]), .failed(.noAddresses)),
        ]
        for (result, event) in cases {
            var harness = try ResolutionHarness("/dns4/example.com/tcp/1")
            try harness.completeLookup(try #require(harness.openLookups.first).id, result)
            #expect(harness.events == [event])
        }
    }

    @Test func namesAHostLookupCannotTakeAreRefused() throws {
        let address = try Multiaddr(components: [.dns("bad\u{0}name"), .tcp(1)])
        var generator = SeededGenerator(seed: 1)
        var machine = try MultiaddrResolution(
            resolving: address, configuration: .init(), now: .zero, using: &generator)
        #expect(machine.pollRequest() == nil)
        #expect(machine.pollEvent() == .failed(.invalidName("bad\u{0}name")))
        let longLabel = String(repeating: "x", count: 64) + ".example.com"
        let harness = try ResolutionHarness("/dnsaddr/\(longLabel)")
        #expect(harness.requests.isEmpty)
        #expect(harness.events == [.failed(.invalidName("_dnsaddr." + longLabel))])
    }

    // MARK: /dnsaddr

    @Test func dnsaddrRecursesAndFiltersByPeer() throws {
        var harness = try ResolutionHarness("/dnsaddr/bootstrap.libp2p.io/p2p/\(Self.peerA)")
        let first = try #require(harness.openQueries.first)
        #expect(first.server == ResolutionHarness.servers[0])
        #expect(try harness.queryName() == "_dnsaddr.bootstrap.libp2p.io")
        // The query is a standard recursive TXT query.
        #expect(Array(first.bytes[2..<6]) == [0x01, 0x00, 0x00, 0x01])
        #expect(Array(first.bytes.suffix(4)) == [0x00, 0x10, 0x00, 0x01])
        #expect(harness.machine.nextDeadline == .zero + .seconds(2))

        try harness.answer("_dnsaddr.bootstrap.libp2p.io", dnsaddrs: [
            "/dnsaddr/ams-2.bootstrap.libp2p.io/tcp/4001/p2p/\(Self.peerB)",
            "/dnsaddr/sjc-1.bootstrap.libp2p.io/tcp/4001/p2p/\(Self.peerA)",
            "/dns4/sjc-1.bootstrap.libp2p.io/tcp/443/wss/p2p/\(Self.peerA)",
            "/ip4/192.0.2.7/tcp/4001/p2p/\(Self.peerB)",
        ])
        // One cancel for the answered query, then the two matching records' lookups.
        #expect(harness.openQueries.count == 1)
        #expect(try harness.queryName() == "_dnsaddr.sjc-1.bootstrap.libp2p.io")
        let lookup = try #require(harness.openLookups.first)
        #expect(lookup.name == "sjc-1.bootstrap.libp2p.io" && lookup.family == .ipv4)
        #expect(harness.events.isEmpty)

        try harness.completeLookup(lookup.id, .success([ip("192.0.2.80")]))
        try harness.answer("_dnsaddr.sjc-1.bootstrap.libp2p.io", dnsaddrs: [
            "/ip6/2604:1380:1000:6000::1/tcp/4001/p2p/\(Self.peerA)",
            "/ip4/147.75.69.143/tcp/4001/p2p/\(Self.peerA)",
            "/ip4/147.75.69.143/tcp/4001/p2p/\(Self.peerB)",
            "/ip4/147.75.69.143/tcp/4001",
        ])
        // Record order, not arrival order: the /dnsaddr branch came first.
        #expect(harness.events == [.resolved([
            try Multiaddr("/ip6/2604:1380:1000:6000::1/tcp/4001/p2p/\(Self.peerA)"),
            try Multiaddr("/ip4/147.75.69.143/tcp/4001/p2p/\(Self.peerA)"),
            try Multiaddr("/ip4/192.0.2.80/tcp/443/wss/p2p/\(Self.peerA)"),
        ])])
        #expect(harness.openQueries.isEmpty, "every sendQuery ends with a cancel")
        #expect(harness.machine.isFinished)
    }

    @Test func dnsaddrWithoutSuffixTakesEveryRecordAndDropsUnsupportedOnes() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com")
        try harness.answer("_dnsaddr.example.com", dnsaddrs: [
            "/ip4/192.0.2.1/tcp/1", "/unix/tmp/x", "/p2p-circuit", "/ip4/192.0.2.1/tcp/1", "/ip4/192.0.2.2/udp/2/quic-v1",
        ])
        #expect(harness.events == [.resolved([
            try Multiaddr("/ip4/192.0.2.1/tcp/1"), try Multiaddr("/ip4/192.0.2.2/udp/2/quic-v1"),
        ])])
    }

    @Test func nonMatchingOrMalformedRecordsGiveNoAddresses() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com/p2p/\(Self.peerA)")
        let query = try #require(harness.openQueries.first)
        var response = try DNSResponseBuilder(answering: query.bytes)
        response.addDNSAddrs(["/ip4/192.0.2.1/tcp/1/p2p/\(Self.peerB)", "not a multiaddr"])
        response.addTXT(["v=spf1 -all"])
        response.addA(IPv4Address(192, 0, 2, 9))
        try harness.reply(query.id, response.bytes)
        #expect(harness.events == [.failed(.noAddresses)])
    }

    @Test func nxdomainIsFinal() throws {
        var harness = try ResolutionHarness("/dnsaddr/missing.example")
        let query = try #require(harness.openQueries.first)
        var response = try DNSResponseBuilder(answering: query.bytes)
        response.responseCode = 3
        try harness.reply(query.id, response.bytes)
        #expect(harness.events == [.failed(.nameNotFound("_dnsaddr.missing.example"))])
        #expect(harness.requests.count == 2, "no retry: a query and its cancel")
    }

    @Test func aFailedBranchDoesNotHideAnotherBranchsAddresses() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com")
        try harness.answer("_dnsaddr.example.com", dnsaddrs: ["/dnsaddr/gone.example.com", "/dns4/host.example.com/tcp/1"])
        let gone = try #require(harness.openQueries.first)
        var nxdomain = try DNSResponseBuilder(answering: gone.bytes)
        nxdomain.responseCode = 3
        try harness.reply(gone.id, nxdomain.bytes)
        try harness.completeLookup(try #require(harness.openLookups.first).id, .success([ip("192.0.2.3")]))
        #expect(harness.events == [.resolved([try Multiaddr("/ip4/192.0.2.3/tcp/1")])])
    }

    @Test func whenEveryBranchFailsTheFirstFailureInRecordOrderIsReported() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com")
        try harness.answer("_dnsaddr.example.com", dnsaddrs: ["/dns4/a.example.com/tcp/1", "/dns4/b.example.com/tcp/1"])
        let lookups = harness.openLookups
        try harness.completeLookup(lookups[1].id, .failure(.temporaryFailure))
        try harness.completeLookup(lookups[0].id, .failure(.nameNotFound))
        #expect(harness.events == [.failed(.nameNotFound("a.example.com"))])
    }

    // MARK: Spoofing and retries

    @Test func repliesThatDoNotMatchTheQueryAreDropped() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com")
        let query = try #require(harness.openQueries.first)
        var genuine = try DNSResponseBuilder(answering: query.bytes)
        genuine.addDNSAddrs(["/ip4/192.0.2.1/tcp/1"])

        var wrongID = genuine
        wrongID.id &+= 1
        wrongID.addDNSAddrs(["/ip4/203.0.113.66/tcp/1"])
        var notAResponse = genuine
        notAResponse.isResponse = false
        var wrongName = genuine
        wrongName.question = ("_dnsaddr.attacker.example", DNSRecordType.txt.rawValue)
        var wrongType = genuine
        wrongType.question = ("_dnsaddr.example.com", DNSRecordType.a.rawValue)
        var noQuestion = genuine
        noQuestion.question = nil
        for spoof in [wrongID.bytes, notAResponse.bytes, wrongName.bytes, wrongType.bytes, noQuestion.bytes,
                      [], Array(genuine.bytes.prefix(11))] {
            try harness.reply(query.id, spoof)
            #expect(harness.events.isEmpty)
            #expect(harness.openQueries.map(\.id) == [query.id], "still waiting on the same query")
        }
        #expect(harness.machine.droppedReplies == 7)
        try harness.reply(query.id, genuine.bytes)
        #expect(harness.events == [.resolved([try Multiaddr("/ip4/192.0.2.1/tcp/1")])])
    }

    @Test func namesCompareCaseInsensitively() throws {
        var harness = try ResolutionHarness("/dnsaddr/Example.COM.")
        let query = try #require(harness.openQueries.first)
        var response = DNSResponseBuilder(
            id: UInt16(query.bytes[0]) << 8 | UInt16(query.bytes[1]), txtQuestion: "_DNSADDR.example.com")
        response.addDNSAddrs(["/ip4/192.0.2.1/tcp/1"])
        try harness.reply(query.id, response.bytes)
        #expect(harness.events == [.resolved([try Multiaddr("/ip4/192.0.2.1/tcp/1")])])
    }

    @Test func aTimeoutMovesToTheNextServerAndALateReplyIsIgnored() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com")
        let first = try #require(harness.openQueries.first)
        harness.advance(to: .zero + .seconds(1))
        #expect(harness.openQueries.map(\.id) == [first.id], "not yet")
        harness.advance(to: .zero + .seconds(2))
        let second = try #require(harness.openQueries.first)
        #expect(harness.requests.contains(.cancel(first.id)))
        #expect(second.id != first.id && second.server == ResolutionHarness.servers[1])
        #expect(second.bytes[0..<2] != first.bytes[0..<2], "a fresh DNS ID")
        #expect(harness.machine.nextDeadline == .zero + .seconds(4))

        // The first server's answer arrives after all: its request was cancelled.
        var late = try DNSResponseBuilder(answering: first.bytes)
        late.addDNSAddrs(["/ip4/192.0.2.1/tcp/1"])
        try harness.reply(first.id, late.bytes)
        #expect(harness.events.isEmpty)
        // And the first server's DNS ID is not accepted on the second query.
        try harness.reply(second.id, late.bytes)
        #expect(harness.events.isEmpty && harness.machine.droppedReplies == 1)

        try harness.answer("_dnsaddr.example.com", dnsaddrs: ["/ip4/192.0.2.2/tcp/1"])
        #expect(harness.events == [.resolved([try Multiaddr("/ip4/192.0.2.2/tcp/1")])])
    }

    @Test func everyServerAndRoundTimesOut() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com", attempts: 2, limits: .init(timeout: .seconds(60)))
        var servers: [SocketAddress] = []
        while let query = harness.openQueries.first {
            servers.append(query.server)
            harness.advance(to: try #require(harness.machine.nextDeadline))
        }
        #expect(servers == ResolutionHarness.servers + ResolutionHarness.servers)
        #expect(harness.events == [.failed(.timeout)])
        #expect(harness.now == .zero + .seconds(8))
    }

    @Test func serverFailuresTruncationAndSocketErrorsMoveOnAndTheLastIsReported() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com", attempts: 2)
        var servfail = try DNSResponseBuilder(answering: harness.openQueries[0].bytes)
        servfail.responseCode = 2
        try harness.reply(harness.openQueries[0].id, servfail.bytes)

        var refusedWithoutQuestion = try DNSResponseBuilder(answering: harness.openQueries[0].bytes)
        refusedWithoutQuestion.responseCode = 5
        refusedWithoutQuestion.question = nil
        try harness.reply(harness.openQueries[0].id, refusedWithoutQuestion.bytes)

        try harness.machine.queryFailed(harness.openQueries[0].id, .system(code: -111), now: harness.now)
        harness.drain()

        var truncated = try DNSResponseBuilder(answering: harness.openQueries[0].bytes)
        truncated.isTruncated = true
        truncated.addDNSAddrs(["/ip4/192.0.2.1/tcp/1"])
        try harness.reply(harness.openQueries[0].id, truncated.bytes)

        #expect(harness.events == [.failed(.truncatedResponse)])
        let sent = harness.requests.filter { if case .sendQuery = $0 { true } else { false } }
        #expect(sent.count == 4)
        #expect(harness.openQueries.isEmpty)
    }

    @Test func aMalformedReplyWithTheRightIDMovesToTheNextServer() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com", attempts: 1)
        for _ in 0..<2 {
            let query = harness.openQueries[0]
            var broken = try DNSResponseBuilder(answering: query.bytes)
            broken.addRecord(type: DNSRecordType.a.rawValue, data: [1, 2, 3])
            try harness.reply(query.id, broken.bytes)
        }
        #expect(harness.events == [.failed(.malformedResponse(.malformedRecord(type: 1)))])
    }

    @Test func socketErrorsAreReportedWhenLast() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com", servers: [ResolutionHarness.servers[0]], attempts: 1)
        try harness.machine.queryFailed(harness.openQueries[0].id, .system(code: -111), now: .zero)
        harness.drain()
        #expect(harness.events == [.failed(.lookupFailed(.system(code: -111)))])
    }

    // MARK: Limits

    @Test func recursionDepthIsBounded() throws {
        var harness = try ResolutionHarness("/dnsaddr/0.example.com", limits: .init(maximumDepth: 3))
        for level in 0..<3 {
            try harness.answer("_dnsaddr.\(level).example.com", dnsaddrs: ["/dnsaddr/\(level + 1).example.com"])
        }
        #expect(harness.openQueries.isEmpty)
        #expect(harness.events == [.failed(.tooDeep)])
    }

    @Test func aLoopIsLookedUpOnce() throws {
        var harness = try ResolutionHarness("/dnsaddr/a.example.com")
        try harness.answer("_dnsaddr.a.example.com", dnsaddrs: ["/dnsaddr/b.example.com", "/ip4/192.0.2.1/tcp/1"])
        try harness.answer("_dnsaddr.b.example.com", dnsaddrs: ["/dnsaddr/a.example.com", "/ip4/192.0.2.2/tcp/1"])
        #expect(harness.events == [.resolved([try Multiaddr("/ip4/192.0.2.2/tcp/1"), try Multiaddr("/ip4/192.0.2.1/tcp/1")])])
        let sent = harness.requests.filter { if case .sendQuery = $0 { true } else { false } }
        #expect(sent.count == 2)
    }

    @Test func lookupsAreBounded() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com", limits: .init(maximumQueries: 4))
        try harness.answer("_dnsaddr.example.com", dnsaddrs: (0..<6).map { "/dns4/h\($0).example.com/tcp/1" })
        let lookups = harness.openLookups
        #expect(lookups.map(\.name) == ["h0.example.com", "h1.example.com", "h2.example.com"])
        for lookup in lookups { try harness.completeLookup(lookup.id, .success([])) }
        #expect(harness.events == [.failed(.tooManyQueries)])

        // With addresses from the lookups made, the result is those.
        var partial = try ResolutionHarness("/dnsaddr/example.com", limits: .init(maximumQueries: 2))
        try partial.answer("_dnsaddr.example.com", dnsaddrs: (0..<3).map { "/dns4/h\($0).example.com/tcp/1" })
        try partial.completeLookup(try #require(partial.openLookups.first).id, .success([ip("192.0.2.1")]))
        #expect(partial.events == [.resolved([try Multiaddr("/ip4/192.0.2.1/tcp/1")])])
    }

    @Test func addressesAreBounded() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com", limits: .init(maximumAddresses: 5))
        try harness.answer("_dnsaddr.example.com", dnsaddrs: ["/dns4/many.example.com/tcp/1"])
        let ips = (1...100).map { IPAddress.ipv4(IPv4Address(10, 0, 0, UInt8($0))) }
        try harness.completeLookup(try #require(harness.openLookups.first).id, .success(ips))
        guard case .resolved(let addresses)? = harness.events.first else {
            Issue.record("expected addresses, got \(harness.events)")
            return
        }
        #expect(addresses.map(\.description) == (1...5).map { "/ip4/10.0.0.\($0)/tcp/1" })
    }

    @Test func theOverallDeadlineEndsUnansweredLookups() throws {
        var harness = try ResolutionHarness("/dns/silent.example.com/tcp/1")
        let lookup = try #require(harness.openLookups.first)
        harness.advance(to: .zero + .seconds(9))
        #expect(harness.events.isEmpty)
        harness.advance(to: .zero + .seconds(10))
        #expect(harness.events == [.failed(.timeout)])
        #expect(harness.requests.last == .cancel(lookup.id))
        // An answer after the end is ignored.
        try harness.completeLookup(lookup.id, .success([ip("192.0.2.1")]))
        #expect(harness.events.count == 1)
    }

    @Test func theOverallDeadlineKeepsWhatArrived() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com", limits: .init(timeout: .seconds(3)))
        try harness.answer("_dnsaddr.example.com", dnsaddrs: ["/dnsaddr/slow.example.com", "/dns4/fast.example.com/tcp/1"])
        try harness.completeLookup(try #require(harness.openLookups.first).id, .success([ip("192.0.2.1")]))
        harness.advance(to: .zero + .seconds(2))  // the slow query moves to the second server
        #expect(harness.machine.nextDeadline == .zero + .seconds(3), "the overall deadline comes first")
        harness.advance(to: .zero + .seconds(3))
        #expect(harness.events == [.resolved([try Multiaddr("/ip4/192.0.2.1/tcp/1")])])
        #expect(harness.openQueries.isEmpty)
    }

    // MARK: Usage

    @Test func misuseThrowsAndLeavesTheMachineAsItWas() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com")
        let query = try #require(harness.openQueries.first)
        #expect(throws: MultiaddrResolutionUsageError.unknownRequest(ResolutionRequestID(rawValue: 99))) {
            try harness.machine.queryAnswered(ResolutionRequestID(rawValue: 99), bytes: [], now: .zero)
        }
        #expect(throws: MultiaddrResolutionUsageError.wrongRequestKind(query.id)) {
            try harness.machine.hostLookupCompleted(query.id, .success([]), now: .zero)
        }
        try harness.answer("_dnsaddr.example.com", dnsaddrs: ["/dns/h.example.com/tcp/1"])
        let lookup = try #require(harness.openLookups.first)
        #expect(throws: MultiaddrResolutionUsageError.wrongRequestKind(lookup.id)) {
            try harness.machine.queryFailed(lookup.id, .system(code: 1), now: .zero)
        }
        #expect(harness.events.isEmpty)
        try harness.completeLookup(lookup.id, .success([ip("192.0.2.1")]))
        #expect(harness.events == [.resolved([try Multiaddr("/ip4/192.0.2.1/tcp/1")])])

        var generator = SeededGenerator(seed: 1)
        for limits in [MultiaddrResolutionLimits(maximumDepth: 0), .init(maximumQueries: 0),
                       .init(maximumAddresses: 65), .init(timeout: .zero)] {
            #expect(throws: MultiaddrResolutionUsageError.self) {
                try MultiaddrResolution(
                    resolving: try Multiaddr("/dns/a.example"), configuration: .init(), limits: limits, now: .zero,
                    using: &generator)
            }
        }
    }

    @Test func cancelEndsEveryRequestWithoutAnEvent() throws {
        var harness = try ResolutionHarness("/dnsaddr/example.com")
        try harness.answer("_dnsaddr.example.com", dnsaddrs: ["/dnsaddr/x.example.com", "/dns/y.example.com"])
        let open = harness.openQueries.map(\.id) + harness.openLookups.map(\.id)
        #expect(open.count == 2)
        harness.machine.cancel()
        harness.drain()
        #expect(harness.openQueries.isEmpty && harness.openLookups.isEmpty)
        #expect(harness.events.isEmpty && harness.machine.isFinished && harness.machine.nextDeadline == nil)
        harness.advance(to: .zero + .seconds(100))
        #expect(harness.events.isEmpty)
    }

    @Test func dnsIDsComeFromTheInjectedGenerator() throws {
        func firstQuery(seed: UInt64) throws -> [UInt8] {
            var generator = SeededGenerator(seed: seed)
            var machine = try MultiaddrResolution(
                resolving: try Multiaddr("/dnsaddr/example.com"), configuration: .init(), now: .zero, using: &generator)
            guard case .sendQuery(_, _, let bytes)? = machine.pollRequest() else { return [] }
            return bytes
        }
        #expect(try firstQuery(seed: 1) == firstQuery(seed: 1))
        #expect(try firstQuery(seed: 1) != firstQuery(seed: 2))
    }
}
