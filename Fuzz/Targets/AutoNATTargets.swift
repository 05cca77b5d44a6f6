import TraverseCore

/// Fixed identities and addresses for the AutoNAT targets.
enum AutoNATFuzzing {
    static let client = RelayFuzzing.clientKey.publicKey.peerID
    static let observedV4 = IPAddress.ipv4(IPv4Address(1, 2, 3, 4))
    static let observedV6 = IPAddress.ipv6(IPv6Address(high: 0x2606_4700_0000_0000, low: 1))

    /// An address chosen by two input bytes: the observed IPv4 or IPv6 address, another IP,
    /// or a relayed or non-TCP address, on a port from the input.
    static func address(_ first: UInt8, _ second: UInt8) -> Multiaddr? {
        let port = UInt16(first) << 8 | UInt16(second)
        let text: String
        switch first % 6 {
        case 0, 1: text = "/ip4/1.2.3.4/tcp/\(port)"
        case 2: text = "/ip6/2606:4700::1/tcp/\(port)/p2p/\(client)"
        case 3: text = "/ip4/5.6.7.8/tcp/\(port)"
        case 4: text = "/ip4/1.2.3.4/udp/\(port)/quic-v1"
        default: text = "/ip4/1.2.3.4/tcp/\(port)/p2p/\(client)/p2p-circuit"
        }
        return try? Multiaddr(text)
    }

    static func addresses(_ bytes: ArraySlice<UInt8>) -> [Multiaddr] {
        var result: [Multiaddr] = []
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex && result.count < AutoNATMessage.maximumAddresses {
            if let address = address(bytes[index], bytes[index + 1]) { result.append(address) }
            index += 2
        }
        return result
    }

    /// Drains a machine's output and events; checks output stays bounded.
    static func drain<Machine: StreamProtocolMachine>(_ machine: inout Machine) -> (bytes: [UInt8], events: [Machine.Event]) {
        var bytes: [UInt8] = []
        while machine.pollTransmit(into: &bytes) > 0 {}
        precondition(bytes.count <= AutoNATMessage.maximumLength + Varint.maximumLength, "unbounded AutoNAT output")
        var events: [Machine.Event] = []
        while let event = machine.pollEvent() { events.append(event) }
        return (bytes, events)
    }

    /// Feeds `bytes` in the pieces the input cuts, within the machine's capacity.
    static func feed<Machine: StreamProtocolMachine>(
        _ machine: inout Machine, _ bytes: ArraySlice<UInt8>, onEvents: (inout Machine, [Machine.Event]) -> Void
    ) -> [UInt8] {
        var written: [UInt8] = []
        for piece in MultistreamFuzzing.pieces(bytes) {
            machine.receive(Array(piece.prefix(machine.receiveCapacity)).span, now: .zero)
            // Events may lead to commands, which lead to more output and events.
            while true {
                let (out, events) = drain(&machine)
                written += out
                if events.isEmpty { break }
                onEvents(&machine, events)
            }
        }
        return written
    }
}

extension FuzzTarget {
    /// `AutoNATMessage` decoding of arbitrary payloads: anything that decodes re-encodes
    /// and decodes to the same value within the limits; and `AutoNATMessageReader` on the
    /// input in pieces: at most one message, bounded buffer.
    public static let autoNATMessage = FuzzTarget(name: "autonat-message") { input in
        let bytes = input.array
        if let message = try? AutoNATMessage(payload: bytes) {
            precondition(message.payloadLength <= bytes.count, "re-encoding grew")
            var reader = AutoNATMessageReader()
            let again = try? reader.append(message.encoded.span)
            precondition(again == message, "AutoNAT message did not round-trip")
            if case .dial(_, let addresses) = message { precondition(addresses.count <= AutoNATMessage.maximumAddresses) }
        }
        var reader = AutoNATMessageReader()
        var found = 0
        for piece in MultistreamFuzzing.pieces(bytes[...]) {
            precondition(reader.bufferedByteCount <= AutoNATMessage.maximumLength + Varint.maximumLength)
            guard let message = try? reader.append(piece.span) else { continue }
            precondition(message.payloadLength <= AutoNATMessage.maximumLength)
            found += 1
        }
        precondition(found <= 1, "the reader returned two messages")
    }

    /// `AutoNATServer` on arbitrary stream bytes (or, when the first byte is odd, a genuine
    /// DIAL whose addresses the input picks), with the owner's answer chosen by the first
    /// byte. Dial-back addresses are only TCP on the observed IP, at most 16, distinct; at
    /// most one final event; whatever is written is one DIAL_RESPONSE whose status matches.
    public static let autoNATServer = FuzzTarget(name: "autonat-server") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let observed = options & 2 == 0 ? AutoNATFuzzing.observedV4 : AutoNATFuzzing.observedV6
        var configuration = AutoNATServerConfiguration()
        configuration.allowNonPublicAddresses = options & 4 != 0
        var server = AutoNATServer(peer: AutoNATFuzzing.client, observedIP: observed, now: .zero, configuration: configuration)
        let stream: ArraySlice<UInt8>
        if options & 1 == 1 {
            stream = AutoNATMessage.dial(peer: AutoNATFuzzing.client, addresses: AutoNATFuzzing.addresses(bytes.dropFirst()))
                .encoded[...]
        } else {
            stream = bytes.dropFirst()
        }
        var requested: [Multiaddr]?
        var finals: [AutoNATServerEvent] = []
        var written = AutoNATFuzzing.feed(&server, stream) { server, events in
            for event in events {
                switch event {
                case .dialBackRequested(let addresses):
                    precondition(requested == nil, "two requests")
                    precondition(!addresses.isEmpty && addresses.count <= configuration.maximumDialBackAddresses)
                    precondition(Set(addresses).count == addresses.count, "duplicate dial-back address")
                    for address in addresses {
                        precondition(address.ipAddress == observed && address.components.count == 2, "dial back off the observed IP")
                        if case .tcp = address.components[1] {} else { preconditionFailure("dial back not TCP") }
                    }
                    requested = addresses
                    switch options >> 3 & 3 {
                    case 0: try? server.dialBackSucceeded(addresses[Int(options >> 5) % addresses.count], now: .zero)
                    case 1: try? server.dialBackFailed(reason: String(repeating: "x", count: Int(options) * 2), now: .zero)
                    case 2: try? server.refuse(.dialRefused, now: .zero)
                    default: break
                    }
                case .answered, .rejected, .failed:
                    finals.append(event)
                }
            }
        }
        server.handleTimeout(now: .zero + .seconds(61))
        server.receiveEndOfStream(now: .zero)
        let (rest, events) = AutoNATFuzzing.drain(&server)
        written += rest
        finals += events
        precondition(finals.count <= 1, "more than one final event")
        if requested != nil { precondition(finals.count == 1, "a dial back never answered after the deadline") }
        guard !written.isEmpty else { return }
        var reader = AutoNATMessageReader()
        guard case .dialResponse(let response)? = try? reader.append(written.span) else {
            preconditionFailure("the server wrote something other than one DIAL_RESPONSE")
        }
        switch finals.first {
        case .answered(let answered)?: precondition(answered == response)
        case .rejected(let rejection)?: precondition(rejection.status == response.status && requested == nil)
        default: preconditionFailure("a response without its event")
        }
        if response.status == .ok { precondition(response.address.map { requested?.contains($0) == true } == true) }
    }

    /// `AutoNATClient` fed arbitrary replies: raw bytes, or, when the first byte is odd, a
    /// DIAL_RESPONSE with the status and address the input picks. Exactly one event; a
    /// reachable address is one the client asked for; what the client wrote is its DIAL.
    public static let autoNATClient = FuzzTarget(name: "autonat-client") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let candidates = [AutoNATFuzzing.address(0, 80), AutoNATFuzzing.address(2, 1)].compactMap { $0 }
        guard var client = try? AutoNATClient(local: AutoNATFuzzing.client, addresses: candidates, now: .zero) else {
            preconditionFailure("a valid request was refused")
        }
        let (dial, _) = AutoNATFuzzing.drain(&client)
        var dialReader = AutoNATMessageReader()
        precondition((try? dialReader.append(dial.span)) == .dial(peer: AutoNATFuzzing.client, addresses: client.addresses))
        let reply: ArraySlice<UInt8>
        if options & 1 == 1 {
            let statuses = AutoNATResponseStatus.allCases
            let status = statuses[Int(options >> 1) % statuses.count]
            let address = bytes.count >= 3 ? AutoNATFuzzing.address(bytes[1], bytes[2]) : nil
            let text = bytes.count > 3 ? String(decoding: bytes.dropFirst(3), as: UTF8.self) : nil
            let message = AutoNATMessage.dialResponse(AutoNATDialResponse(status: status, statusText: text, address: address))
            reply = message.payloadLength <= AutoNATMessage.maximumLength ? message.encoded[...] : []
        } else {
            reply = bytes.dropFirst()
        }
        var events: [AutoNATClientEvent] = []
        _ = AutoNATFuzzing.feed(&client, reply) { _, more in events += more }
        if options & 64 != 0 { client.handleTimeout(now: .zero + .seconds(60)) }
        client.receiveEndOfStream(now: .zero)
        events += AutoNATFuzzing.drain(&client).events
        precondition(events.count == 1, "not exactly one event")
        if case .reachable(let address?) = events[0] { precondition(client.addresses.contains(address)) }
        precondition(client.nextDeadline == nil)
    }
}
