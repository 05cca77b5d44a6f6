import TraverseCore

/// Fixtures for the DCUtR targets.
enum HolePunchFuzzing {
    static let initiatorAddresses = [
        try! Multiaddr("/ip4/5.6.7.8/tcp/4001"), try! Multiaddr("/ip4/192.168.2.2/tcp/4001"),
    ]
    static let responderAddresses = [
        try! Multiaddr("/ip4/1.2.3.4/tcp/4001"), try! Multiaddr("/ip4/192.168.1.2/tcp/4001"),
    ]

    /// A CONNECT whose address entries are cut from `bytes` (each piece one entry), so the
    /// fuzzer reaches address decoding and selection without learning the protobuf.
    static func connect(entries bytes: ArraySlice<UInt8>) -> [UInt8] {
        var payload: [UInt8] = [0x08, 100]
        for entry in MultistreamFuzzing.pieces(bytes) {
            let value = Array(entry.dropFirst())
            payload.append(0x12)
            Varint.encode(UInt64(value.count), into: &payload)
            payload += value
        }
        return LengthPrefixedMessage.encode(payload)
    }

    /// Every framed message in `bytes`, which must be whole messages only.
    static func messages(_ bytes: [UInt8]) -> [HolePunchMessage] {
        var reader = HolePunchMessageReader()
        reader.append(bytes.span)
        var messages: [HolePunchMessage] = []
        while let message = try? reader.next() { messages.append(message) }
        precondition(reader.bufferedByteCount == 0, "a machine wrote an undecodable message")
        return messages
    }

    /// Checks what a dial event carries.
    static func check(_ dial: HolePunchDial) {
        let selection = HolePunchAddressSelection()
        precondition(!dial.addresses.isEmpty && dial.addresses.count <= selection.maximumAddresses, "dial count")
        precondition(dial.remoteAddresses.count <= HolePunchLimits.maximumAddresses, "too many remote addresses")
        precondition(Set(dial.addresses).count == dial.addresses.count, "duplicate dial addresses")
        for address in dial.addresses {
            let components = address.components
            precondition(components.count == 2, "not a plain TCP address: \(address)")
            if case .tcp(let port) = components[1] { precondition(port != 0) } else { preconditionFailure("not TCP") }
            precondition(address.ipScope.map { selection.acceptedScopes.contains($0) || selection.sharedNetworkScopes.contains($0) } == true,
                         "dialing a scope never selected: \(address)")
        }
        precondition(!dial.remoteAddresses.contains { $0.isCircuit }, "a relayed address was kept")
    }
}

extension FuzzTarget {
    /// `HolePunchMessage` decoding of arbitrary payloads: anything that decodes has at most
    /// the allowed addresses, none relayed, and re-encodes to an equal message within the size
    /// limit; `HolePunchMessageReader` on the input in pieces holds at most one message.
    public static let holePunchMessage = FuzzTarget(name: "holepunch-message") { input in
        let bytes = input.array
        if let message = try? HolePunchMessage(payload: bytes) {
            if case .connect(let addresses) = message {
                precondition(addresses.count <= HolePunchLimits.maximumAddresses, "too many addresses kept")
                precondition(!addresses.contains { $0.isCircuit }, "a relayed address was kept")
            }
            let encoded = message.encoded
            precondition(encoded.count <= HolePunchLimits.maximumMessageLength + 2, "re-encoded past the limit")
            var reader = HolePunchMessageReader()
            reader.append(encoded.span)
            precondition((try? reader.next()) == message, "message did not round-trip")
        }
        var reader = HolePunchMessageReader()
        for piece in MultistreamFuzzing.pieces(bytes[...]) {
            reader.append(piece.span)
            do {
                while let _ = try reader.next() {}
            } catch {
                return
            }
            precondition(reader.bufferedByteCount <= HolePunchLimits.maximumMessageLength + 10, "reader holds too much")
        }
    }

    /// `HolePunchInitiator` fed arbitrary responder bytes in pieces (or, when the first byte
    /// is odd, a CONNECT whose address entries are cut from the input), with time moving on
    /// between pieces, an end of stream and timeouts as the first byte says. Exactly one
    /// event in the end; it sends CONNECT, then SYNC only when a dial follows, never before
    /// half the measured RTT has passed; dialed addresses are selected ones.
    public static let holePunchInitiator = FuzzTarget(name: "holepunch-initiator") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let start = Instant(nanoseconds: 1_000_000_000)
        var now = start
        var initiator = HolePunchInitiator(localAddresses: HolePunchFuzzing.initiatorAddresses, now: now)
        var written: [UInt8] = []
        var events: [HolePunchEvent] = []
        var syncAt: Instant?
        while initiator.pollTransmit(into: &written) > 0 {}
        let reply = options & 1 == 1 ? HolePunchFuzzing.connect(entries: bytes.dropFirst()) : Array(bytes.dropFirst())
        for piece in MultistreamFuzzing.pieces(reply[...]) {
            now = now + .milliseconds(Int64(piece[0] >> 4))
            if options & 2 == 2, let deadline = initiator.nextDeadline, deadline <= now { initiator.handleTimeout(now: now) }
            initiator.receive(piece.span, now: now)
            while initiator.pollTransmit(into: &written) > 0 {}
            if syncAt == nil && HolePunchFuzzing.messages(written).count == 2 { syncAt = now }
            while let event = initiator.pollEvent() { events.append(event) }
        }
        if options & 4 == 4 { initiator.receiveEndOfStream(now: now) }
        while let deadline = initiator.nextDeadline {
            now = max(now, deadline)
            initiator.handleTimeout(now: now)
        }
        while initiator.pollTransmit(into: &written) > 0 {}
        while let event = initiator.pollEvent() { events.append(event) }
        precondition(events.count == 1, "not exactly one event: \(events)")
        let messages = HolePunchFuzzing.messages(written)
        precondition(messages.first == .connect(addresses: HolePunchFuzzing.initiatorAddresses), "CONNECT first")
        switch events[0] {
        case .dial(let dial):
            precondition(messages.count == 2 && messages[1] == .sync, "dial without SYNC")
            HolePunchFuzzing.check(dial)
            precondition(dial.connectionRole == .server)
            let rtt = dial.roundTripTime ?? .zero
            precondition(rtt >= .zero && rtt <= .seconds(10), "RTT beyond the exchange timeout")
            if let syncAt { precondition(now >= syncAt + rtt / 2, "dialed before RTT/2") }
        case .failed:
            precondition(messages.count == 1, "SYNC sent by a failed initiator")
        }
    }

    /// `HolePunchResponder` fed arbitrary initiator bytes in pieces (or, when the first byte
    /// is odd, a CONNECT whose address entries are cut from the input followed by SYNC), with
    /// an end of stream or a timeout as the first byte says. Exactly one event in the end; it
    /// answers with one CONNECT at most, and dials only after answering.
    public static let holePunchResponder = FuzzTarget(name: "holepunch-responder") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        var responder = HolePunchResponder(localAddresses: HolePunchFuzzing.responderAddresses, now: .zero)
        var written: [UInt8] = []
        var events: [HolePunchEvent] = []
        let request = options & 1 == 1
            ? HolePunchFuzzing.connect(entries: bytes.dropFirst()) + HolePunchMessage.sync.encoded
            : Array(bytes.dropFirst())
        for piece in MultistreamFuzzing.pieces(request[...]) {
            responder.receive(piece.span, now: .zero)
            while responder.pollTransmit(into: &written) > 0 {}
            while let event = responder.pollEvent() {
                if case .dial = event { precondition(!written.isEmpty, "dial before answering") }
                events.append(event)
            }
        }
        if options & 4 == 4 { responder.receiveEndOfStream(now: .zero) }
        if options & 2 == 2 || events.isEmpty { responder.handleTimeout(now: .zero + .seconds(10)) }
        while responder.pollTransmit(into: &written) > 0 {}
        while let event = responder.pollEvent() { events.append(event) }
        precondition(events.count == 1, "not exactly one event: \(events)")
        precondition(responder.nextDeadline == nil, "a deadline after the end")
        let messages = HolePunchFuzzing.messages(written)
        precondition(messages.count <= 1, "more than one answer")
        if let answer = messages.first { precondition(answer == .connect(addresses: HolePunchFuzzing.responderAddresses)) }
        if case .dial(let dial) = events[0] {
            HolePunchFuzzing.check(dial)
            precondition(dial.connectionRole == .client && responder.wantsToCloseWrite)
        }
    }
}
