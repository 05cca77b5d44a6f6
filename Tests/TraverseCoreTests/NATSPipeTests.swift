import Testing
@testable import TraverseCore

@Suite struct NATSPipeFrameTests {
    static let session = NATSPipeSessionID(rawValue: 0x0102_0304_0506_0708)

    static let frames: [NATSPipeFrame] = [
        NATSPipeFrame(session: session, sender: NATSFixtures.alice, fromOpener: true, body: .open(window: 65536)),
        NATSPipeFrame(session: session, sender: NATSFixtures.bob, fromOpener: false, body: .accept(window: 1)),
        NATSPipeFrame(session: session, sender: NATSFixtures.alice, fromOpener: true, body: .data(sequence: 7, payload: [1, 2, 3])),
        NATSPipeFrame(session: session, sender: NATSFixtures.bob, fromOpener: false, body: .window(limit: 1 << 40, sentFrames: 3)),
        NATSPipeFrame(session: session, sender: NATSFixtures.alice, fromOpener: true, body: .close(sequence: 8)),
        NATSPipeFrame(session: session, sender: NATSFixtures.bob, fromOpener: false, body: .reset(.refused)),
        NATSPipeFrame(session: session, sender: NATSFixtures.bob, fromOpener: true, body: .reset(NATSPipeResetCode(rawValue: 200))),
    ]

    @Test(arguments: frames)
    func roundTrips(_ frame: NATSPipeFrame) throws {
        let bytes = frame.encoded
        #expect(try NATSPipeFrame(decoding: bytes) == frame)
        #expect(try NATSPipeFrame(decoding: bytes.span) == frame)
        // Every proper prefix is truncated (or, for DATA, a shorter payload: still canonical).
        for length in 0..<bytes.count {
            let prefix = Array(bytes[..<length])
            if case .data = frame.body, let decoded = try? NATSPipeFrame(decoding: prefix) {
                #expect(decoded.encoded == prefix)
            } else {
                #expect(throws: NATSPipeFrameError.self) { try NATSPipeFrame(decoding: prefix) }
            }
        }
    }

    @Test func layoutIsAsDocumented() {
        let frame = NATSPipeFrame(session: Self.session, sender: NATSFixtures.alice, fromOpener: true, body: .data(sequence: 1, payload: [0xAA]))
        let bytes = frame.encoded
        let id = NATSFixtures.alice.bytes
        #expect(Array(bytes[0..<12]) == [1, 3, 1, 1, 2, 3, 4, 5, 6, 7, 8, UInt8(id.count)])
        #expect(Array(bytes[12..<(12 + id.count)]) == id)
        #expect(Array(bytes[(12 + id.count)...]) == [0, 0, 0, 0, 0, 0, 0, 1, 0xAA])
        #expect(bytes.count == NATSPipeFrame.dataOverhead(peerIDLength: id.count) + 1)
    }

    @Test func malformedFrames() {
        let open = Self.frames[0].encoded
        func mutated(_ index: Int, _ value: UInt8) -> [UInt8] {
            var bytes = open
            bytes[index] = value
            return bytes
        }
        #expect(throws: NATSPipeFrameError.unsupportedVersion(2)) { try NATSPipeFrame(decoding: mutated(0, 2)) }
        #expect(throws: NATSPipeFrameError.unknownType(9)) { try NATSPipeFrame(decoding: mutated(1, 9)) }
        #expect(throws: NATSPipeFrameError.unknownFlags(3)) { try NATSPipeFrame(decoding: mutated(2, 3)) }
        #expect(throws: NATSPipeFrameError.wrongDirection) { try NATSPipeFrame(decoding: mutated(2, 0)) }
        #expect(throws: NATSPipeFrameError.invalidPeerIDLength(0)) { try NATSPipeFrame(decoding: mutated(11, 0)) }
        #expect(throws: NATSPipeFrameError.invalidPeerIDLength(65)) { try NATSPipeFrame(decoding: mutated(11, 65)) }
        #expect(throws: NATSPipeFrameError.self) { try NATSPipeFrame(decoding: mutated(12, 0xFF)) }
        #expect(throws: NATSPipeFrameError.trailingBytes) { try NATSPipeFrame(decoding: open + [0]) }
        let empty = NATSPipeFrame(session: Self.session, sender: NATSFixtures.alice, fromOpener: true, body: .data(sequence: 0, payload: [])).encoded
        #expect(throws: NATSPipeFrameError.emptyData) { try NATSPipeFrame(decoding: empty) }
    }
}

@Suite struct NATSPipeTests {
    typealias F = NATSFixtures

    static func configuration(window: UInt32 = 16 * 1024, framePayload: Int = 4 * 1024) -> NATSPipeRouterConfiguration {
        var configuration = NATSPipeRouterConfiguration()
        configuration.pipe.receiveWindow = window
        configuration.pipe.maximumFramePayload = framePayload
        configuration.pipe.maximumSendBuffer = Int(window)
        return configuration
    }

    /// Alice (0) opens a pipe to Bob (1) and Bob accepts.
    static func opened(
        _ configuration: NATSPipeRouterConfiguration = configuration()
    ) throws -> (link: PipeLink, alice: NATSPipeID, bob: NATSPipeID) {
        var link = PipeLink([F.alice, F.bob], configuration: configuration)
        var generator = SeededGenerator(seed: 7)
        let alice = try link.routers[0].open(to: F.bob, now: link.now, using: &generator)
        link.run()
        guard case .inbound(let bob, let remote)? = link.takeEvents(1).first else {
            Issue.record("no inbound pipe")
            throw NATSPipeUsageError.notConnected
        }
        #expect(remote == F.alice)
        #expect(link.takeEvents(0) == [.pipe(alice, .opened)])
        return (link, alice, bob)
    }

    /// Writes `data` on `from` and reads on `to` until the end of stream, checking the
    /// receiver's buffer never exceeds its window.
    static func transfer(
        _ data: [UInt8], link: inout PipeLink, from: (Int, NATSPipeID), to: (Int, NATSPipeID), window: Int, readChunk: Int = 5000
    ) throws -> [UInt8] {
        var offset = 0
        var closed = false
        var received: [UInt8] = []
        var rounds = 0
        while true {
            rounds += 1
            if rounds > 100_000 { Issue.record("stalled at \(offset) sent, \(received.count) received"); return received }
            if offset < data.count {
                let chunk = Array(data[offset..<min(data.count, offset + 32 * 1024)])
                offset += try link.routers[from.0].write(from.1, chunk.span, now: link.now)
            } else if !closed {
                try link.routers[from.0].closeWrite(from.1, now: link.now)
                closed = true
            }
            link.run()
            #expect((link.routers[to.0].pipe(to.1)?.readableByteCount ?? 0) <= window)
            switch try link.routers[to.0].read(to.1, into: &received, maximum: readChunk, now: link.now) {
            case .endOfStream: return received
            case .bytes, .wouldBlock: break
            }
            link.run()
        }
    }

    @Test func openAcceptAndTransferOneMiBEachWayWithFlowControl() throws {
        let window = 16 * 1024
        var (link, alice, bob) = try Self.opened(Self.configuration(window: UInt32(window)))
        let upload = randomBytes(1 << 20, seed: 1)
        let received = try Self.transfer(upload, link: &link, from: (0, alice), to: (1, bob), window: window)
        #expect(received == upload)
        #expect(link.takeEvents(1).contains(.pipe(bob, .remoteClosedWrite)))
        let events = link.takeEvents(0)
        #expect(events.contains(.pipe(alice, .writable)), "short writes were resumed by credit")
        // DATA frames never went past the credit the receiver had granted (it would have
        // failed the pipe), and never exceeded the frame size.
        let dataFrames = link.delivered[1].filter { if case .data = $0.body { true } else { false } }
        #expect(dataFrames.count >= (1 << 20) / (4 * 1024))
        for case .data(_, let payload) in dataFrames.map(\.body) { #expect(payload.count <= 4 * 1024) }

        let download = randomBytes(1 << 20, seed: 2)
        let back = try Self.transfer(download, link: &link, from: (1, bob), to: (0, alice), window: window)
        #expect(back == download)
        link.run()
        #expect(link.takeEvents(0).contains(.pipe(alice, .closed)))
        #expect(link.takeEvents(1).contains(.pipe(bob, .closed)))
        #expect(link.routers[0].pipeCount == 0 && link.routers[1].pipeCount == 0, "closed pipes are dropped")
    }

    @Test func framesRespectTheServerMaximumPayload() throws {
        var (link, alice, bob) = try Self.opened(Self.configuration(window: 64 * 1024, framePayload: 60 * 1024))
        link.maximumPayload = 1024
        let data = randomBytes(10_000, seed: 3)
        let received = try Self.transfer(data, link: &link, from: (0, alice), to: (1, bob), window: 64 * 1024)
        #expect(received == data)
    }

    @Test func writesWaitForTheAccept() throws {
        var link = PipeLink([F.alice, F.bob], configuration: Self.configuration())
        var generator = SeededGenerator(seed: 1)
        let alice = try link.routers[0].open(to: F.bob, now: .zero, using: &generator)
        #expect(try link.routers[0].write(alice, [1, 2, 3].span, now: .zero) == 0)
        link.run()
        #expect(link.takeEvents(0) == [.pipe(alice, .opened), .pipe(alice, .writable)])
        #expect(try link.routers[0].write(alice, [1, 2, 3].span, now: .zero) == 3)
    }

    @Test func aLostDataFrameIsAGap() throws {
        var (link, alice, bob) = try Self.opened()
        var dropped = false
        link.intercept = { _, frame in
            if case .data(1, _) = frame.body, !dropped {
                dropped = true
                return .drop
            }
            return .deliver
        }
        _ = try link.routers[0].write(alice, randomBytes(12_000, seed: 4).span, now: .zero)
        link.run()
        #expect(link.takeEvents(1).contains(.pipe(bob, .failed(.sequenceGap(expected: 1, received: 2)))))
        #expect(link.takeEvents(0) == [.pipe(alice, .failed(.remoteReset(.protocolViolation)))])
        #expect(link.routers[0].pipeCount == 0 && link.routers[1].pipeCount == 0)
        #expect(throws: NATSPipeUsageError.unknownPipe(alice)) { try link.routers[0].write(alice, [1].span, now: .zero) }
    }

    @Test func aLostLastFrameShowsInTheKeepalive() throws {
        var (link, alice, bob) = try Self.opened()
        link.intercept = { _, frame in if case .data = frame.body { .drop } else { .deliver } }
        _ = try link.routers[0].write(alice, [9].span, now: .zero)
        link.run()
        #expect(link.takeEvents(1).isEmpty)
        link.advance(by: .seconds(10))
        #expect(link.takeEvents(1) == [.pipe(bob, .failed(.sequenceGap(expected: 0, received: 1)))])
    }

    @Test func aDuplicatedFrameFailsThePipe() throws {
        var (link, alice, bob) = try Self.opened()
        link.intercept = { _, frame in if case .data = frame.body { .duplicate } else { .deliver } }
        _ = try link.routers[0].write(alice, [1, 2].span, now: .zero)
        link.run()
        #expect(link.takeEvents(1) == [.pipe(bob, .readable), .pipe(bob, .failed(.duplicateFrame(expected: 1, received: 0)))])
        #expect(link.takeEvents(0) == [.pipe(alice, .failed(.remoteReset(.protocolViolation)))])
    }

    @Test func dataPastTheCreditIsAViolation() throws {
        var (link, _, bob) = try Self.opened(Self.configuration(window: 1024))
        let session = try #require(link.routers[1].pipe(bob)?.session)
        let flood = NATSPipeFrame(session: session, sender: F.alice, fromOpener: true, body: .data(sequence: 0, payload: [UInt8](repeating: 0, count: 1025)))
        link.routers[1].receive(flood.encoded, now: .zero)
        link.drainEvents()
        #expect(link.takeEvents(1) == [.pipe(bob, .failed(.flowControlViolation(limit: 1024, received: 1025)))])
    }

    @Test func halfCloseThenFullClose() throws {
        var (link, alice, bob) = try Self.opened()
        try link.routers[0].closeWrite(alice, now: .zero)
        #expect(throws: NATSPipeUsageError.writeClosed) { try link.routers[0].write(alice, [1].span, now: .zero) }
        link.run()
        #expect(link.takeEvents(1) == [.pipe(bob, .remoteClosedWrite), .pipe(bob, .readable)])
        var sink: [UInt8] = []
        #expect(try link.routers[1].read(bob, into: &sink, now: .zero) == .endOfStream)
        // Bob can still write; Alice reads it.
        #expect(try link.routers[1].write(bob, [7, 8].span, now: .zero) == 2)
        try link.routers[1].closeWrite(bob, now: .zero)
        link.run()
        #expect(try link.routers[0].read(alice, into: &sink, now: .zero) == .bytes(2))
        #expect(try link.routers[0].read(alice, into: &sink, now: .zero) == .endOfStream)
        link.run()
        #expect(sink == [7, 8])
        #expect(link.takeEvents(0).last == .pipe(alice, .closed))
        #expect(link.takeEvents(1).last == .pipe(bob, .closed))
    }

    @Test func resetReachesThePeer() throws {
        var (link, alice, bob) = try Self.opened()
        try link.routers[0].reset(alice, now: .zero)
        #expect(throws: NATSPipeUsageError.closed) { try link.routers[0].reset(alice, now: .zero) }
        link.run()
        #expect(link.takeEvents(0).isEmpty, "a local reset reports nothing")
        #expect(link.takeEvents(1) == [.pipe(bob, .failed(.remoteReset(.cancelled)))])
        #expect(link.routers[0].pipeCount == 0 && link.routers[1].pipeCount == 0)
    }

    @Test func openTimeout() throws {
        var link = PipeLink([F.alice, F.bob], configuration: Self.configuration())
        link.intercept = { _, _ in .drop }
        var generator = SeededGenerator(seed: 1)
        let alice = try link.routers[0].open(to: F.bob, now: .zero, using: &generator)
        link.run()
        let timeout = Self.configuration().pipe.openTimeout
        #expect(link.routers[0].nextDeadline == Instant.zero + timeout)
        link.advance(by: timeout - .seconds(1))
        #expect(link.takeEvents(0).isEmpty)
        link.advance(by: .seconds(1))
        #expect(link.takeEvents(0) == [.pipe(alice, .failed(.openTimeout))])
        #expect(link.routers[0].pipeCount == 0)
    }

    @Test func keepaliveHoldsAQuietPipeAndIdleTimeoutEndsASilentOne() throws {
        var (link, alice, bob) = try Self.opened()
        for _ in 0..<24 { link.advance(by: .seconds(5)) }  // two minutes, nothing written
        #expect(link.takeEvents(0).isEmpty && link.takeEvents(1).isEmpty)
        #expect(link.delivered[1].contains { if case .window = $0.body { true } else { false } }, "keepalive WINDOWs flowed")
        // Bob goes silent: Alice gives up after the idle timeout.
        link.intercept = { index, _ in index == 1 ? .drop : .deliver }
        for _ in 0..<5 { link.advance(by: .seconds(5)) }
        #expect(link.takeEvents(0).isEmpty)
        link.advance(by: .seconds(10))
        #expect(link.takeEvents(0) == [.pipe(alice, .failed(.idleTimeout))])
        // The RESET told Bob.
        #expect(link.takeEvents(1) == [.pipe(bob, .failed(.remoteReset(.timeout)))])
    }

    @Test func inboundLimitsRefuseWithReset() throws {
        var configuration = Self.configuration()
        configuration.maximumPipesPerPeer = 2
        var link = PipeLink([F.alice, F.bob], configuration: configuration)
        var generator = SeededGenerator(seed: 1)
        // Alice's own limit is the same; a third open is refused locally.
        let first = try link.routers[0].open(to: F.bob, now: .zero, using: &generator)
        let second = try link.routers[0].open(to: F.bob, now: .zero, using: &generator)
        #expect(throws: NATSPipeUsageError.tooManyPipes) { try link.routers[0].open(to: F.bob, now: .zero, using: &generator) }
        link.run()
        #expect(link.takeEvents(1).count == 2)
        // A third OPEN from Alice's ID (forged here) is refused by Bob.
        let forged = NATSPipeFrame(session: NATSPipeSessionID(rawValue: 42), sender: F.alice, fromOpener: true, body: .open(window: 100))
        link.routers[1].receive(forged.encoded, now: .zero)
        var payload: [UInt8] = []
        let subject = link.routers[1].pollPublish(into: &payload, maximumPayload: 1 << 20)
        #expect(subject == NATSPipeRouter.subject(for: F.alice))
        #expect(try NATSPipeFrame(decoding: payload).body == .reset(.refused))
        #expect(link.routers[1].refusedOpenCount == 1 && link.routers[1].pipeCount == 2)
        _ = (first, second)
    }

    @Test func aRefusedOpenFailsTheOpener() throws {
        var configuration = Self.configuration()
        configuration.maximumPipes = 0
        var link = PipeLink([F.alice, F.bob], configuration: configuration)
        link.routers[0] = NATSPipeRouter(local: F.alice, configuration: Self.configuration())
        var generator = SeededGenerator(seed: 1)
        let alice = try link.routers[0].open(to: F.bob, now: .zero, using: &generator)
        link.run()
        #expect(link.takeEvents(0) == [.pipe(alice, .failed(.refused))])
        #expect(link.takeEvents(1).isEmpty)
    }

    @Test func unknownSessionsAndGarbageAreIgnored() throws {
        var (link, _, _) = try Self.opened()
        let stray = NATSPipeFrame(session: NATSPipeSessionID(rawValue: 1), sender: F.carol, fromOpener: true, body: .data(sequence: 0, payload: [1]))
        link.routers[1].receive(stray.encoded, now: .zero)
        let strayReset = NATSPipeFrame(session: NATSPipeSessionID(rawValue: 1), sender: F.carol, fromOpener: false, body: .reset(.cancelled))
        link.routers[1].receive(strayReset.encoded, now: .zero)
        link.routers[1].receive([1, 2, 3], now: .zero)
        let fromSelf = NATSPipeFrame(session: NATSPipeSessionID(rawValue: 2), sender: F.bob, fromOpener: true, body: .open(window: 10))
        link.routers[1].receive(fromSelf.encoded, now: .zero)
        var payload: [UInt8] = []
        #expect(link.routers[1].pollPublish(into: &payload, maximumPayload: 1 << 20) == nil, "no answer to strays")
        #expect(link.routers[1].ignoredFrameCount == 4 && link.routers[1].pipeCount == 1)
        #expect(link.routers[1].pollEvent() == nil)
    }

    @Test func zeroWindowOpenIsRefusedAndSelfOpenIsMisuse() throws {
        var link = PipeLink([F.alice, F.bob], configuration: Self.configuration())
        var generator = SeededGenerator(seed: 1)
        #expect(throws: NATSPipeUsageError.openToSelf) { try link.routers[0].open(to: F.alice, now: .zero, using: &generator) }
        let open = NATSPipeFrame(session: NATSPipeSessionID(rawValue: 5), sender: F.alice, fromOpener: true, body: .open(window: 0))
        link.routers[1].receive(open.encoded, now: .zero)
        var payload: [UInt8] = []
        #expect(link.routers[1].pollPublish(into: &payload, maximumPayload: 1 << 20) != nil)
        #expect(try NATSPipeFrame(decoding: payload).body == .reset(.protocolViolation))
        #expect(link.routers[1].pipeCount == 0)
    }

    @Test func sameSessionIDInBothDirectionsStaysApart() throws {
        // Alice opens session S to Bob and Bob opens session S to Alice: the direction bit
        // keeps them two pipes.
        var link = PipeLink([F.alice, F.bob], configuration: Self.configuration())
        var generatorA = SeededGenerator(seed: 9)
        var generatorB = SeededGenerator(seed: 9)
        let a = try link.routers[0].open(to: F.bob, now: .zero, using: &generatorA)
        let b = try link.routers[1].open(to: F.alice, now: .zero, using: &generatorB)
        #expect(link.routers[0].pipe(a)?.session == link.routers[1].pipe(b)?.session)
        link.run()
        #expect(link.routers[0].pipeCount == 2 && link.routers[1].pipeCount == 2)
        #expect(link.takeEvents(0).contains(.pipe(a, .opened)) && link.takeEvents(1).contains(.pipe(b, .opened)))
    }

    @Test func transportClosedFailsEveryPipe() throws {
        var (link, alice, _) = try Self.opened()
        _ = try link.routers[0].write(alice, [1, 2, 3].span, now: .zero)
        link.routers[0].transportClosed(now: .zero)
        link.drainEvents()
        #expect(link.takeEvents(0) == [.pipe(alice, .failed(.transportClosed))])
        var payload: [UInt8] = []
        #expect(link.routers[0].pollPublish(into: &payload, maximumPayload: 1 << 20) == nil)
        #expect(link.routers[0].pipeCount == 0)
    }
}
