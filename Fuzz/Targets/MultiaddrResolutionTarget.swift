import TraverseCore

extension FuzzTarget {
    /// A `MultiaddrResolution` of a `/dnsaddr` address fed arbitrary reply bytes, socket
    /// errors, host lookup answers and timeouts in an order the input picks.
    ///
    /// Input: one byte of set-up (servers, attempts, limits, which address), then
    /// operations (see `MultiaddrResolutionFuzzing.Operation`). Replies can carry the
    /// query's ID, or the query's ID and question with the input as the answer section
    /// (so records reach the recursion), or be sent raw.
    ///
    /// Checked: exactly one final event, and none after it; a result is non-empty,
    /// bounded, free of duplicates, dialable and ends with the address's suffix; requests
    /// have fresh IDs, go to configured servers, and are bounded; every query socket is
    /// cancelled by the end; the overall deadline always ends the resolution.
    public static let multiaddrResolution = FuzzTarget(name: "multiaddr-resolution") { input in
        var fuzzing = MultiaddrResolutionFuzzing(input.array)
        fuzzing.run()
    }
}

/// The state of one `multiaddr-resolution` run.
struct MultiaddrResolutionFuzzing {
    static let peer = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"
    static let addresses = [
        "/dnsaddr/example.com", "/dnsaddr/example.com/p2p/\(peer)", "/dnsaddr/example.com/tcp/4001",
        "/dnsaddr/Example.COM./p2p/\(peer)",
    ]
    static let servers: [SocketAddress] = [
        .ipv4(IPv4Address(192, 0, 2, 53), port: 53), .ipv6(IPv6Address(high: 0x2001_0db8 << 32, low: 0x53), port: 53),
        .ipv4(IPv4Address(198, 51, 100, 53), port: 53),
    ]

    var input: ArraySlice<UInt8>
    var machine: MultiaddrResolution
    let root: Multiaddr
    let limits: MultiaddrResolutionLimits
    let configuration: ResolverConfiguration
    var now = Instant.zero
    var events: [MultiaddrResolutionEvent] = []
    var cancelled = false
    /// Requests made and not yet ended (cancelled, or a host lookup answered).
    var openQueries: [(id: ResolutionRequestID, bytes: [UInt8])] = []
    var openLookups: [(id: ResolutionRequestID, family: IPAddressFamily)] = []
    var nextExpectedID: UInt32 = 0
    var datagrams = 0
    var hostLookups = 0

    init(_ bytes: [UInt8]) {
        let setup = bytes.first ?? 0
        input = bytes.dropFirst()
        configuration = ResolverConfiguration(
            nameServers: Array(Self.servers.prefix(Int(setup & 0b11) % 3 + 1)), timeout: .seconds(1),
            attempts: setup & 0b100 == 0 ? 1 : 2)
        limits = setup & 0b1000 == 0
            ? MultiaddrResolutionLimits()
            : MultiaddrResolutionLimits(maximumDepth: 3, maximumQueries: 6, maximumAddresses: 8, timeout: .seconds(5))
        guard let root = try? Multiaddr(Self.addresses[Int(setup >> 4) % Self.addresses.count]) else {
            preconditionFailure("fuzz root address does not parse")
        }
        self.root = root
        var generator = SeededRandomNumberGenerator(seed: UInt64(setup))
        guard let machine = try? MultiaddrResolution(
            resolving: root, configuration: configuration, limits: limits, now: .zero, using: &generator)
        else { preconditionFailure("valid resolution limits rejected") }
        self.machine = machine
        drain()
    }

    /// What one operation byte does (its low 3 bits; the others are its options).
    enum Operation: UInt8 {
        case reply = 0, replyAgain = 1, timeout = 2, socketError = 3, hostLookup = 4, wait = 5, cancelOrMisuse = 6,
             replyToSpoof = 7
    }

    mutating func run() {
        while let byte = input.popFirst(), !cancelled {
            guard let operation = Operation(rawValue: byte & 0b111) else { preconditionFailure("3 bits") }
            switch operation {
            case .reply, .replyAgain:
                reply(options: byte)
            case .replyToSpoof:
                // Raw bytes, unpatched: almost always dropped.
                guard !openQueries.isEmpty else { continue }
                let query = openQueries[Int(byte >> 3) % openQueries.count]
                let body = take(Int(byte >> 3) * 4)
                let dropped = machine.droppedReplies
                guard (try? machine.queryAnswered(query.id, bytes: body, now: now)) != nil else {
                    preconditionFailure("answering an open query threw")
                }
                precondition(machine.droppedReplies >= dropped)
            case .timeout:
                if let deadline = machine.nextDeadline { now = max(now, deadline) }
                machine.handleTimeout(now: now)
            case .wait:
                now = now + .milliseconds(100 * Int64(input.popFirst() ?? 1))
                machine.handleTimeout(now: now)
            case .socketError:
                guard !openQueries.isEmpty else { continue }
                let query = openQueries[Int(byte >> 3) % openQueries.count]
                guard (try? machine.queryFailed(query.id, .system(code: Int32(byte)), now: now)) != nil else {
                    preconditionFailure("failing an open query threw")
                }
            case .hostLookup:
                answerHostLookup(options: byte)
            case .cancelOrMisuse:
                if byte == 0xFE {
                    machine.cancel()
                    cancelled = true
                } else {
                    let unknown = ResolutionRequestID(rawValue: nextExpectedID + UInt32(byte))
                    do {
                        try machine.queryAnswered(unknown, bytes: [], now: now)
                        preconditionFailure("an unknown request was accepted")
                    } catch {
                        precondition(error == .unknownRequest(unknown))
                    }
                }
            }
            drain()
        }
        // However the input ended, the overall deadline ends the resolution.
        if !cancelled {
            now = max(now, Instant.zero + limits.timeout)
            machine.handleTimeout(now: now)
            drain()
            precondition(events.count == 1, "exactly one final event")
        } else {
            precondition(events.count <= 1)
        }
        precondition(machine.isFinished && machine.nextDeadline == nil)
        precondition(openQueries.isEmpty && openLookups.isEmpty, "every request is answered or cancelled")
    }

    /// Takes up to `count` input bytes.
    mutating func take(_ count: Int) -> [UInt8] {
        let taken = Array(input.prefix(count))
        input = input.dropFirst(taken.count)
        return taken
    }

    /// Answers an open query with bytes from the input: a length byte pair, then the body.
    mutating func reply(options: UInt8) {
        guard !openQueries.isEmpty, let high = input.popFirst(), let low = input.popFirst() else { return }
        let query = openQueries[Int(options >> 3 & 0b11) % openQueries.count]
        let body = take(Int(UInt16(high) << 8 | UInt16(low)) % 2048)
        var reply: [UInt8]
        if options & 0x20 != 0 {
            // The query's header and question, the input's flags and counts, the input as
            // answers.
            reply = Array(query.bytes.prefix(12))
            for index in 2..<4 where index < body.count { reply[index] = body[index] }
            reply[2] |= 0x80
            for index in 6..<8 where index < body.count { reply[index] = body[index] }
            reply += query.bytes.dropFirst(12)
            reply += body.dropFirst(12)
        } else {
            reply = body
            if reply.count >= 2 {
                reply[0] = query.bytes[0]
                reply[1] = query.bytes[1]
            }
        }
        guard (try? machine.queryAnswered(query.id, bytes: reply, now: now)) != nil else {
            preconditionFailure("answering an open query threw")
        }
    }

    /// Answers an open host lookup with addresses or a failure the input picks.
    mutating func answerHostLookup(options: UInt8) {
        guard !openLookups.isEmpty else { return }
        let index = Int(options >> 3 & 0b11) % openLookups.count
        let lookup = openLookups.remove(at: index)
        let choice = input.popFirst() ?? 0
        let result: Result<[IPAddress], ResolverDriverError>
        switch choice % 8 {
        case 0: result = .failure(.nameNotFound)
        case 1: result = .failure(.temporaryFailure)
        case 2: result = .failure(.system(code: Int32(choice)))
        default:
            result = .success((0..<Int(choice >> 3)).map { number in
                number % 2 == 0
                    ? .ipv4(IPv4Address(value: 0x0A00_0000 | UInt32(number)))
                    : .ipv6(IPv6Address(high: 0x2001_0db8 << 32, low: UInt64(number)))
            })
        }
        guard (try? machine.hostLookupCompleted(lookup.id, result, now: now)) != nil else {
            preconditionFailure("answering an open host lookup threw")
        }
    }

    /// Drains requests and events, checking each.
    mutating func drain() {
        while let request = machine.pollRequest() {
            switch request {
            case .lookUpHost(let id, let name, let family):
                precondition(id.rawValue == nextExpectedID, "request IDs are fresh and in order")
                nextExpectedID += 1
                precondition(!name.isEmpty && !name.utf8.contains(0))
                hostLookups += 1
                precondition(hostLookups <= limits.maximumQueries)
                openLookups.append((id, family))
            case .sendQuery(let id, let server, let bytes):
                precondition(id.rawValue == nextExpectedID, "request IDs are fresh and in order")
                nextExpectedID += 1
                precondition(configuration.nameServers.contains(server))
                precondition(bytes.count > 12 && bytes.count <= 12 + 255 + 4)
                datagrams += 1
                precondition(datagrams <= limits.maximumQueries * configuration.nameServers.count * configuration.attempts)
                openQueries.append((id, bytes))
            case .cancel(let id):
                if let index = openQueries.firstIndex(where: { $0.id == id }) {
                    openQueries.remove(at: index)
                } else if let index = openLookups.firstIndex(where: { $0.id == id }) {
                    openLookups.remove(at: index)
                } else {
                    preconditionFailure("cancel of a request that is not open")
                }
            }
            precondition(openQueries.count + openLookups.count <= limits.maximumQueries)
        }
        while let event = machine.pollEvent() {
            events.append(event)
            precondition(events.count == 1, "one final event")
            precondition(machine.isFinished && machine.nextDeadline == nil)
            if case .resolved(let addresses) = event { check(addresses) }
        }
        if !machine.isFinished { precondition(machine.nextDeadline != nil, "a resolution in progress has a deadline") }
    }

    /// A result: non-empty, bounded, distinct, dialable, ending with the root's suffix.
    func check(_ addresses: [Multiaddr]) {
        precondition(!addresses.isEmpty && addresses.count <= limits.maximumAddresses)
        precondition(Set(addresses).count == addresses.count, "no duplicates")
        let suffix = root.components.dropFirst()
        for address in addresses {
            switch address.components.first {
            case .ip4?, .ip6?, .ip6zone?: break
            default: preconditionFailure("undialable result \(address)")
            }
            precondition(address.components.suffix(suffix.count).elementsEqual(suffix), "suffix kept")
        }
    }
}
