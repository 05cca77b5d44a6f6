import Testing
@_spi(Fuzzing) @testable import TraverseCore

typealias YamuxPair = MachinePair<YamuxSession, YamuxSession>

extension MachinePair where A == YamuxSession, B == YamuxSession {
    static func yamux(
        chunking: Chunking = .whole, client: YamuxConfiguration = .init(), server: YamuxConfiguration = .init()
    ) -> YamuxPair {
        var pair = YamuxPair(
            YamuxSession(role: .client, configuration: client, now: .zero),
            YamuxSession(role: .server, configuration: server, now: .zero), chunking: chunking)
        pair.run()
        return pair
    }

}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

@Suite struct YamuxSessionTests {
    @Test func frameHeaderBytesOnTheWire() throws {
        var session = YamuxSession(role: .client, configuration: .init(), now: .zero)
        var wire: [UInt8] = []
        _ = session.pollTransmit(into: &wire)
        // The start-up ping: version 0, type 2, flags SYN, stream 0, opaque 1.
        #expect(wire == [0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])
        wire.removeAll()
        let stream = try session.openStream(now: .zero)
        #expect(stream.rawValue == 1, "the client opens odd IDs")
        #expect(try session.write(stream, [0xAA, 0xBB].span, now: .zero) == 2)
        _ = session.pollTransmit(into: &wire)
        #expect(wire == [0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0xAA, 0xBB])
        var server = YamuxSession(role: .server, configuration: .init(), now: .zero)
        #expect(try server.openStream(now: .zero).rawValue == 2, "the server opens even IDs")
    }

    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 1), .random(seed: 2)])
    func streamRoundTripWithHalfClose(_ chunking: Chunking) throws {
        var pair = YamuxPair.yamux(chunking: chunking)
        let stream = try pair.a.openStream(now: pair.now)
        let message = randomBytes(10_000, seed: 3)
        #expect(try pair.a.write(stream, message.span, now: pair.now) == message.count)
        try pair.a.closeWrite(stream, now: pair.now)
        pair.run()
        #expect(pair.eventsB.contains(.inboundStream(stream)))
        #expect(pair.eventsB.contains(.readable(stream)))
        #expect(pair.eventsB.contains(.remoteClosedWrite(stream)))
        let received = try pair.b.readAll(stream)
        #expect(received.bytes == message)
        #expect(received.ended)
        // The other direction still works after A's half-close.
        #expect(try pair.b.write(stream, [1, 2, 3].span, now: pair.now) == 3)
        try pair.b.closeWrite(stream, now: pair.now)
        pair.run()
        let back = try pair.a.readAll(stream)
        #expect(back.bytes == [1, 2, 3])
        #expect(back.ended)
        pair.drainEvents()
        #expect(pair.eventsA.contains(.streamClosed(stream)))
        #expect(pair.eventsB.contains(.streamClosed(stream)))
        #expect(pair.a.streamCount == 0 && pair.b.streamCount == 0)
        #expect(throws: YamuxUsageError.unknownStream(stream)) { _ = try pair.a.write(stream, [1].span, now: pair.now) }
    }

    @Test func windowExhaustionAndRecovery() throws {
        var configuration = YamuxConfiguration()
        configuration.measuresRoundTripAtStart = false  // no RTT: the window stays at 256 KiB
        var pair = YamuxPair.yamux(client: configuration, server: configuration)
        let stream = try pair.a.openStream(now: pair.now)
        let payload = randomBytes(600_000, seed: 4)
        var sent = try pair.a.write(stream, payload.span, now: pair.now)
        #expect(sent == Int(YamuxConfiguration.initialWindow), "a writer is stopped at the window")
        #expect(pair.a.writableByteCount(stream) == 0)
        pair.run()
        #expect(!pair.eventsA.contains(.writable(stream)), "no credit until the reader reads")
        var received: [UInt8] = []
        while received.count < payload.count {
            pair.eventsA.removeAll()
            received += try pair.b.readAll(stream).bytes
            pair.run()
            if sent < payload.count {
                #expect(pair.eventsA.contains(.writable(stream)), "reading frees window and wakes the writer")
                let rest = Array(payload[sent...])
                sent += try pair.a.write(stream, rest.span, now: pair.now)
                pair.run()
            }
        }
        #expect(received == payload)
        #expect(pair.b.receiveWindow(stream) == YamuxConfiguration.initialWindow)
    }

    @Test func receiveWindowAutoTunesTowardTheMaximum() throws {
        var pair = YamuxPair.yamux()
        // The start-up pings measured a round-trip time (zero in virtual time).
        #expect(pair.a.latestRoundTripTime != nil && pair.b.latestRoundTripTime != nil)
        let stream = try pair.a.openStream(now: pair.now)
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        var received = 0
        for _ in 0..<64 {
            var offset = 0
            while offset < chunk.count {
                let rest = Array(chunk[offset...])
                let written = try pair.a.write(stream, rest.span, now: pair.now)
                offset += written
                pair.run()
                received += try pair.b.readAll(stream).bytes.count
                pair.run()
            }
        }
        #expect(received == 64 << 20)
        #expect(pair.b.receiveWindow(stream) == UInt32(16 * 1024 * 1024))
    }

    @Test func resetReachesThePeerAndFreesTheStream() throws {
        var pair = YamuxPair.yamux()
        let stream = try pair.a.openStream(now: pair.now)
        _ = try pair.a.write(stream, [1, 2, 3].span, now: pair.now)
        pair.run()
        try pair.b.reset(stream, now: pair.now)
        pair.run()
        #expect(pair.eventsA.contains(.reset(stream)))
        #expect(throws: YamuxUsageError.unknownStream(stream)) { try pair.a.write(stream, [1].span, now: pair.now) }
        #expect(pair.a.streamCount == 0 && pair.b.streamCount == 0)
        // Data still in flight for the reset stream is dropped without harm.
        let other = try pair.a.openStream(now: pair.now)
        _ = try pair.a.write(other, [9].span, now: pair.now)
        pair.run()
        #expect(try pair.b.readAll(other).bytes == [9])
    }

    @Test func goAwayStopsNewStreams() throws {
        var pair = YamuxPair.yamux()
        let stream = try pair.a.openStream(now: pair.now)
        _ = try pair.a.write(stream, [5].span, now: pair.now)
        pair.a.close(now: pair.now)
        pair.run()
        #expect(pair.eventsA.last == .sessionClosed(.localClose))
        #expect(pair.eventsB.contains(.goAwayReceived(.normal)))
        #expect(try pair.b.readAll(stream).bytes == [5], "data written before the GoAway arrives")
        #expect(throws: YamuxUsageError.remoteGoingAway) { try pair.b.openStream(now: pair.now) }
        #expect(throws: YamuxUsageError.sessionClosed) { try pair.a.openStream(now: pair.now) }
    }

    @Test func ackBacklogLimitsUnacknowledgedStreams() throws {
        var configuration = YamuxConfiguration()
        configuration.maximumStreams = 1000
        var pair = YamuxPair.yamux(client: configuration, server: configuration)
        for _ in 0..<256 { _ = try pair.a.openStream(now: pair.now) }
        #expect(throws: YamuxUsageError.ackBacklogFull) { try pair.a.openStream(now: pair.now) }
        pair.run()  // the server acknowledges them all
        _ = try pair.a.openStream(now: pair.now)
    }

    @Test func streamsPastTheLimitAreReset() throws {
        var server = YamuxConfiguration()
        server.maximumStreams = 2
        var pair = YamuxPair.yamux(server: server)
        let streams = try (0..<3).map { _ in try pair.a.openStream(now: pair.now) }
        pair.run()
        #expect(pair.eventsB.filter { if case .inboundStream = $0 { true } else { false } }.count == 2)
        #expect(pair.eventsA.contains(.reset(streams[2])))
        #expect(pair.b.isActive, "refusing a stream is not a session error")
    }

    @Test func pingMeasuresRoundTripAndKeepaliveDetectsADeadPeer() throws {
        var configuration = YamuxConfiguration()
        configuration.keepaliveInterval = .seconds(30)
        configuration.pingTimeout = .seconds(10)
        var a = YamuxSession(role: .client, configuration: configuration, now: .zero)
        var wire: [UInt8] = []
        _ = a.pollTransmit(into: &wire)  // the start-up ping, never answered
        #expect(a.nextDeadline == .zero + .seconds(10))
        a.handleTimeout(now: .zero + .seconds(10))
        #expect(a.pollEvent() == .sessionClosed(.keepaliveTimeout))
        #expect(!a.isActive)

        var pair = YamuxPair.yamux(client: configuration, server: configuration)
        pair.advance(by: .milliseconds(5))
        try pair.a.ping(now: pair.now)
        pair.advance(by: .milliseconds(20))
        pair.run()
        #expect(pair.eventsA.last == .roundTripTime(.milliseconds(20)))
        // Idle for the keepalive interval: a ping goes out and its reply keeps the session.
        pair.advance(by: .seconds(30))
        #expect(pair.run() > 0)
        pair.advance(by: .seconds(11))
        #expect(pair.a.isActive && pair.b.isActive)
    }

    @Test func controlFramesLeaveBeforeQueuedData() throws {
        var pair = YamuxPair.yamux()
        let outbound = try pair.a.openStream(now: pair.now)
        let inbound = try pair.b.openStream(now: pair.now)
        pair.run()
        // B sends A 200 KiB; A queues 200 KiB of its own data, then reads, owing B a window
        // update. The update must come out ahead of A's queued data.
        _ = try pair.b.write(inbound, [UInt8](repeating: 1, count: 200_000).span, now: pair.now)
        pair.run()
        _ = try pair.a.write(outbound, [UInt8](repeating: 2, count: 200_000).span, now: pair.now)
        _ = try pair.a.readAll(inbound)
        var wire: [UInt8] = []
        _ = pair.a.pollTransmit(into: &wire)
        #expect(Array(wire.prefix(4)) == [0, 1, 0, 0], "a window update first")
        #expect(Array(wire[4..<8]) == [0, 0, 0, 2])
    }

    @Test func pingFloodIsAProtocolViolation() throws {
        var session = YamuxSession(role: .server, configuration: .init(), now: .zero)
        var flood: [UInt8] = []
        for opaque in 0..<65 {
            YamuxHeader(type: .ping, flags: .syn, streamID: 0, length: UInt32(opaque)).encode(into: &flood)
        }
        session.receive(flood.span, now: .zero)
        #expect(session.pollEvent() == .sessionClosed(.protocolViolation(.pingFlood)))
    }

    @Test(arguments: [
        ([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0] as [UInt8], YamuxProtocolError.unsupportedVersion(1)),
        ([0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], .unknownFrameType(9)),
        ([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], .streamFrameOnSessionID(0)),
        ([0, 2, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0], .sessionFrameOnStreamID(2, 3)),
        ([0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], .invalidStreamID(1)),
    ])
    func malformedFramesEndTheSessionWithGoAway(_ frame: [UInt8], _ error: YamuxProtocolError) {
        // The server receives; stream 1 would be the client's, which is fine — but a server
        // receiving a SYN for odd ID 1 from... the client is correct, so flip roles here:
        // this session is the client, so a SYN for odd ID 1 comes from the wrong side.
        var session = YamuxSession(role: .client, configuration: .init(), now: .zero)
        var wire: [UInt8] = []
        _ = session.pollTransmit(into: &wire)
        wire.removeAll()
        session.receive(frame.span, now: .zero)
        #expect(session.pollEvent() == .sessionClosed(.protocolViolation(error)))
        _ = session.pollTransmit(into: &wire)
        #expect(wire == [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "GoAway with the protocol-error code")
        session.receive([0, 0, 0, 0].span, now: .zero)
        #expect(session.pollEvent() == nil, "nothing after the session closed")
    }

    @Test func flowControlAndStreamViolations() {
        func server(after frames: [YamuxHeader], payload: Int = 0) -> YamuxEvent? {
            var session = YamuxSession(role: .server, configuration: .init(), now: .zero)
            var bytes: [UInt8] = []
            for frame in frames { frame.encode(into: &bytes) }
            bytes += [UInt8](repeating: 0, count: payload)
            session.receive(bytes.span, now: .zero)
            var last: YamuxEvent?
            while let event = session.pollEvent() { last = event }
            return last
        }
        let syn = YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0)
        #expect(server(after: [syn, YamuxHeader(type: .data, flags: [], streamID: 1, length: 300_000)])
            == .sessionClosed(.protocolViolation(.receiveWindowExceeded(1))))
        #expect(server(after: [syn, syn]) == .sessionClosed(.protocolViolation(.duplicateStream(1))))
        #expect(server(after: [syn, YamuxHeader(type: .windowUpdate, flags: [], streamID: 1, length: .max)])
            == .sessionClosed(.protocolViolation(.sendWindowOverflow(1))))
        #expect(server(after: [syn, YamuxHeader(type: .data, flags: .fin, streamID: 1, length: 0),
                               YamuxHeader(type: .data, flags: [], streamID: 1, length: 1)], payload: 1)
            == .sessionClosed(.protocolViolation(.dataAfterFin(1))))
        // A stream ID that goes backwards.
        let syn5 = YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 5, length: 0)
        #expect(server(after: [syn5, syn]) == .sessionClosed(.protocolViolation(.invalidStreamID(1))))
    }

    @Test func writesAreBoundedByThePendingTransmitLimit() throws {
        var configuration = YamuxConfiguration()
        configuration.maximumPendingTransmit = 100_000
        var pair = YamuxPair.yamux(client: configuration)
        let stream = try pair.a.openStream(now: pair.now)
        let written = try pair.a.write(stream, [UInt8](repeating: 3, count: 200_000).span, now: pair.now)
        #expect(written == 100_000)
        #expect(try pair.a.write(stream, [3].span, now: pair.now) == 0)
        pair.run()
        #expect(pair.eventsA.contains(.writable(stream)), "draining the transmit queue wakes the writer")
    }
}
