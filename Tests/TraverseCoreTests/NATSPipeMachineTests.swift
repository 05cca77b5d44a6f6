import Testing
@testable import TraverseCore

/// One `NATSPipe` fed hand-made frames: the error paths a well-behaved peer never takes.
@Suite struct NATSPipeMachineTests {
    typealias F = NATSFixtures
    static let session = NATSPipeSessionID(rawValue: 77)

    static func fromBob(_ body: NATSPipeFrame.Body, opener: Bool = false) -> NATSPipeFrame {
        NATSPipeFrame(session: session, sender: F.bob, fromOpener: opener, body: body)
    }

    static func events(_ pipe: inout NATSPipe) -> [NATSPipeEvent] {
        var events: [NATSPipeEvent] = []
        while let event = pipe.pollEvent() { events.append(event) }
        return events
    }

    static func frames(_ pipe: inout NATSPipe) -> [NATSPipeFrame] {
        var frames: [NATSPipeFrame] = []
        var payload: [UInt8] = []
        while pipe.pollFrame(into: &payload, maximumPayload: 1 << 20) {
            frames.append(try! NATSPipeFrame(decoding: payload))
            payload.removeAll()
        }
        return frames
    }

    /// Alice's side, opened: OPEN sent, ACCEPT (window 1000) received.
    static func opened() -> NATSPipe {
        var pipe = NATSPipe(opening: session, local: F.alice, remote: F.bob, now: .zero)
        _ = frames(&pipe)
        pipe.receive(fromBob(.accept(window: 1000)), now: .zero)
        _ = events(&pipe)
        return pipe
    }

    @Test(arguments: [
        (NATSPipeFrame.Body.data(sequence: 0, payload: [1]), NATSPipeError.unexpectedFrame("DATA")),
        (.window(limit: 10, sentFrames: 0), .unexpectedFrame("WINDOW")),
        (.close(sequence: 0), .unexpectedFrame("CLOSE")),
        (.accept(window: 0), .invalidWindow),
    ])
    func framesBeforeTheAccept(_ body: NATSPipeFrame.Body, _ error: NATSPipeError) {
        var pipe = NATSPipe(opening: Self.session, local: F.alice, remote: F.bob, now: .zero)
        #expect(Self.frames(&pipe).map(\.body) == [.open(window: 256 * 1024)])
        pipe.receive(Self.fromBob(body), now: .zero)
        #expect(Self.events(&pipe) == [.failed(error)])
        #expect(Self.frames(&pipe).map(\.body) == [.reset(.protocolViolation)])
        #expect(pipe.isFinished && pipe.nextDeadline == nil)
    }

    @Test func dataAfterCloseAndASecondClose() {
        var pipe = Self.opened()
        pipe.receive(Self.fromBob(.close(sequence: 0)), now: .zero)
        #expect(Self.events(&pipe) == [.remoteClosedWrite, .readable])
        var other = pipe
        pipe.receive(Self.fromBob(.data(sequence: 1, payload: [1])), now: .zero)
        #expect(Self.events(&pipe) == [.failed(.dataAfterClose)])
        other.receive(Self.fromBob(.close(sequence: 1)), now: .zero)
        #expect(Self.events(&other) == [.failed(.unexpectedFrame("CLOSE"))])
    }

    @Test func windowCountingFewerFramesThanArrivedIsADuplicate() {
        var pipe = Self.opened()
        pipe.receive(Self.fromBob(.data(sequence: 0, payload: [1])), now: .zero)
        pipe.receive(Self.fromBob(.window(limit: 0, sentFrames: 0)), now: .zero)
        #expect(Self.events(&pipe) == [.readable, .failed(.duplicateFrame(expected: 1, received: 0))])
    }

    @Test func creditIsAbsoluteAndOnlyGrows() throws {
        var pipe = Self.opened()
        #expect(pipe.writableByteCount == 1000)
        #expect(try pipe.write([UInt8](repeating: 1, count: 1500).span, now: .zero) == 1000)
        pipe.receive(Self.fromBob(.window(limit: 500, sentFrames: 0)), now: .zero)
        #expect(pipe.writableByteCount == 0 && Self.events(&pipe).isEmpty, "a smaller limit takes nothing back")
        pipe.receive(Self.fromBob(.window(limit: 1200, sentFrames: 0)), now: .zero)
        #expect(Self.events(&pipe) == [.writable])
        #expect(pipe.writableByteCount == 200)
        let sent = Self.frames(&pipe).compactMap { frame -> Int? in
            if case .data(_, let payload) = frame.body { payload.count } else { nil }
        }
        #expect(sent.reduce(0, +) == 1000)
    }

    @Test func readingGrantsCreditAtHalfTheWindow() throws {
        var configuration = NATSPipeConfiguration()
        configuration.receiveWindow = 100
        var pipe = try NATSPipe(accepting: Self.session, from: F.bob, window: 10, local: F.alice, now: .zero, configuration: configuration)
        #expect(Self.frames(&pipe).map(\.body) == [.accept(window: 100)])
        pipe.receive(Self.fromBob(.data(sequence: 0, payload: [UInt8](repeating: 0, count: 100)), opener: true), now: .zero)
        var sink: [UInt8] = []
        #expect(try pipe.read(into: &sink, maximum: 49, now: .zero) == .bytes(49))
        #expect(Self.frames(&pipe).isEmpty)
        #expect(try pipe.read(into: &sink, maximum: 1, now: .zero) == .bytes(1))
        #expect(Self.frames(&pipe).map(\.body) == [.window(limit: 150, sentFrames: 0)])
        #expect(try pipe.read(into: &sink, maximum: 0, now: .zero) == .bytes(0))
        #expect(try pipe.read(into: &sink, now: .zero) == .bytes(50))
        #expect(try pipe.read(into: &sink, now: .zero) == .wouldBlock)
    }

    @Test func acceptingWithAZeroWindowIsRefused() {
        #expect(throws: NATSPipeError.invalidWindow) {
            try NATSPipe(accepting: Self.session, from: F.bob, window: 0, local: F.alice, now: .zero)
        }
    }

    @Test func usageAfterTheEnd() throws {
        var pipe = Self.opened()
        try pipe.reset(now: .zero)
        #expect(throws: NATSPipeUsageError.closed) { try pipe.write([1].span, now: .zero) }
        #expect(throws: NATSPipeUsageError.closed) { try pipe.closeWrite(now: .zero) }
        var sink: [UInt8] = []
        #expect(throws: NATSPipeUsageError.closed) { try pipe.read(into: &sink, now: .zero) }
        #expect(Self.frames(&pipe).map(\.body) == [.reset(.cancelled)])
        #expect(pipe.isFinished && Self.events(&pipe).isEmpty)
    }
}
