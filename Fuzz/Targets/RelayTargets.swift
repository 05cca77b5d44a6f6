import TraverseCore

/// Keys for the relay targets (deterministic, made once).
enum RelayFuzzing {
    static let relayKey = key(1)
    static let clientKey = key(2)

    static func key(_ seed: UInt64) -> PrivateKey {
        var generator = SeededRandomNumberGenerator(seed: seed)
        return PrivateKey.generateEd25519(using: &generator)
    }

    /// Drains a machine's output and events; checks output stays bounded.
    static func drain<Machine: StreamProtocolMachine>(_ machine: inout Machine) -> (bytes: [UInt8], events: [Machine.Event]) {
        var bytes: [UInt8] = []
        while machine.pollTransmit(into: &bytes) > 0 {}
        precondition(bytes.count <= 2 * RelayMessage.maximumLength, "unbounded relay output")
        var events: [Machine.Event] = []
        while let event = machine.pollEvent() { events.append(event) }
        return (bytes, events)
    }
}

extension FuzzTarget {
    /// `RelayHopMessage` and `RelayStopMessage` decoding of arbitrary payloads: anything that
    /// decodes re-encodes and decodes to the same value; and `RelayMessageReader` on the
    /// input in pieces.
    public static let relayMessage = FuzzTarget(name: "relay-message") { input in
        let bytes = input.array
        if let hop = try? RelayHopMessage(payload: bytes) {
            var reader = RelayMessageReader()
            let payload = try? reader.append(hop.encoded.span)
            precondition(payload != nil, "an encoded hop message did not frame")
            precondition((try? RelayHopMessage(payload: payload ?? [])) == hop, "hop message did not round-trip")
        }
        if let stop = try? RelayStopMessage(payload: bytes) {
            var reader = RelayMessageReader()
            let payload = try? reader.append(stop.encoded.span)
            precondition((try? RelayStopMessage(payload: payload ?? [])) == stop, "stop message did not round-trip")
        }
        var reader = RelayMessageReader()
        var found = 0
        for piece in MultistreamFuzzing.pieces(bytes[...]) {
            guard let message = try? reader.append(piece.span) else {
                precondition(reader.bufferedByteCount <= RelayMessage.maximumLength + 10 + reader.maximumTrailingBytes)
                continue
            }
            precondition(message.count <= RelayMessage.maximumLength)
            found += 1
        }
        precondition(found <= 1, "the reader returned two messages")
    }

    /// `RelayHopServer` fed arbitrary bytes in pieces (within its capacity), with the owner's
    /// decision (accept, refuse with a status, or none) and a timeout chosen by the first byte.
    /// Exactly one terminal event; a status answered decodes; output is bounded.
    public static let relayHopServer = FuzzTarget(name: "relay-hop-server") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        var server = RelayHopServer(now: .zero)
        var terminal = 0
        var written: [UInt8] = []
        for piece in MultistreamFuzzing.pieces(bytes.dropFirst()) {
            server.receive(Array(piece.prefix(server.receiveCapacity)).span, now: .zero)
            let (out, events) = RelayFuzzing.drain(&server)
            written += out
            for event in events {
                switch event {
                case .reservationRequested:
                    if options & 1 == 0 {
                        let grant = try? RelayReservationGrant(
                            relayKey: RelayFuzzing.relayKey, peer: RelayFuzzing.clientKey.publicKey.peerID,
                            expiration: 1_000, addresses: [], limit: CircuitLimit(durationSeconds: 1, dataBytes: 1))
                        if let grant { try? server.acceptReservation(grant, now: .zero) }
                    } else {
                        try? server.refuse(RelayStatus.allCases[Int(options >> 1) % 7 + 1], now: .zero)
                    }
                case .connectRequested:
                    if options & 2 == 0 { try? server.acceptConnect(limit: nil, now: .zero) } else { try? server.refuse(.connectionFailed, now: .zero) }
                case .circuitEstablished(let leftover, _):
                    precondition(leftover.count <= RelayMessage.maximumLength)
                    terminal += 1
                case .finished, .rejected, .failed:
                    terminal += 1
                }
            }
            let (more, moreEvents) = RelayFuzzing.drain(&server)
            written += more
            for event in moreEvents {
                switch event {
                case .reservationRequested, .connectRequested: preconditionFailure("second request")
                default: terminal += 1
                }
            }
        }
        if options & 4 != 0 { server.handleTimeout(now: .zero + .seconds(15)) }
        server.receiveEndOfStream(now: .zero)
        let (rest, events) = RelayFuzzing.drain(&server)
        written += rest
        terminal += events.filter { if case .reservationRequested = $0 { false } else if case .connectRequested = $0 { false } else { true } }.count
        precondition(terminal <= 1, "more than one terminal event")
        if !written.isEmpty {
            var reader = RelayMessageReader()
            let payload = try? reader.append(written.span)
            precondition(payload.flatMap { try? RelayHopMessage(payload: $0) } != nil, "the server wrote an undecodable status")
        }
    }

    /// `RelayStopServer` fed arbitrary bytes; the first byte decides accept or refuse.
    public static let relayStopServer = FuzzTarget(name: "relay-stop-server") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        var server = RelayStopServer(now: .zero)
        var terminal = 0
        for piece in MultistreamFuzzing.pieces(bytes.dropFirst()) {
            server.receive(Array(piece.prefix(server.receiveCapacity)).span, now: .zero)
            var (_, events) = RelayFuzzing.drain(&server)
            if events.contains(where: { if case .connectRequested = $0 { true } else { false } }) {
                if options & 1 == 0 { try? server.accept(now: .zero) } else { try? server.refuse(.connectionFailed, now: .zero) }
                events += RelayFuzzing.drain(&server).events
            }
            for event in events {
                if case .connectRequested = event { continue }
                terminal += 1
            }
        }
        server.handleTimeout(now: .zero + .seconds(15))
        server.receiveEndOfStream(now: .zero)
        terminal += RelayFuzzing.drain(&server).events.count
        precondition(terminal <= 1, "more than one terminal event")
    }

    /// `RelayReservationClient` fed arbitrary replies: raw bytes, or, when the first byte is
    /// odd, a STATUS OK carrying a reservation whose voucher is the input (sometimes a
    /// genuinely sealed voucher, mutated). Exactly one event; a reservation reported was
    /// checked (voucher from the relay for this peer, expiry in the future).
    public static let relayReservationClient = FuzzTarget(name: "relay-reservation-client") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let relay = RelayFuzzing.relayKey.publicKey.peerID
        let local = RelayFuzzing.clientKey.publicKey.peerID
        var client = RelayReservationClient(relay: relay, local: local, now: .zero, unixTime: 500)
        _ = RelayFuzzing.drain(&client)
        let reply: [UInt8]
        if options & 1 == 1 {
            var voucher = Array(bytes.dropFirst())
            if options & 2 == 2, let sealed = try? ReservationVoucher(relay: relay, peer: local, expiration: 1_000).seal(with: RelayFuzzing.relayKey) {
                var genuine = sealed.encoded
                for (index, byte) in voucher.prefix(4).enumerated() where !genuine.isEmpty {
                    genuine[Int(byte) % genuine.count] ^= UInt8(index + 1) & (options >> 2)
                }
                voucher = genuine
            }
            reply = RelayHopMessage.status(
                .ok, reservation: RelayReservation(expiration: 1_000, addresses: [], voucher: voucher),
                limit: nil).encoded
        } else {
            reply = Array(bytes.dropFirst())
        }
        var events: [RelayReservationClientEvent] = []
        for piece in MultistreamFuzzing.pieces(reply[...]) {
            client.receive(Array(piece.prefix(client.receiveCapacity)).span, now: .zero)
            events += RelayFuzzing.drain(&client).events
        }
        client.receiveEndOfStream(now: .zero)
        events += RelayFuzzing.drain(&client).events
        precondition(events.count == 1, "not exactly one event")
        if case .reserved(let info) = events[0] {
            precondition(info.expiration > 500 && info.refreshAt <= info.expiresAt)
            if let voucher = info.voucher {
                precondition(voucher.relay == relay && voucher.peer == local && voucher.expiration == info.expiration)
            }
        }
    }
}
