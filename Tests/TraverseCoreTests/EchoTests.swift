import Testing
@testable import TraverseCore

@Suite struct EchoTests {
    @Test(arguments: [UInt64(0), 1, 4093, 100_000, 3_000_000])
    func theClientGetsItsBytesBack(_ count: UInt64) throws {
        var setups = [(Chunking.whole, 1 << 20), (.random(seed: count), 10_000)]
        if count <= 4093 { setups.append((.random(seed: 9), 1)) }
        for (chunking, limit) in setups {
            var generator = SeededGenerator(seed: count)
            var pair = StreamPair(
                EchoClient(byteCount: count, now: .zero, using: &generator),
                try EchoServer(maximumBufferedBytes: limit), chunking: chunking)
            pair.now = .zero + .milliseconds(8)
            pair.run()
            #expect(pair.eventsA == [.finished(byteCount: count, elapsed: .milliseconds(8))])
            #expect(pair.eventsB == [.finished(echoedBytes: count)])
            #expect(pair.carriedAB == Int(count) && pair.carriedBA == Int(count))
            #expect(pair.aClosedWrite && pair.bClosedWrite)
        }
    }

    @Test func theServerAppliesBackpressure() throws {
        var server = try EchoServer(maximumBufferedBytes: 100)
        server.receive([UInt8](repeating: 1, count: 60), chunking: .whole)
        #expect(server.receiveCapacity == 40)
        var buffer: [UInt8] = []
        #expect(server.pollTransmit(into: &buffer) == 60)
        #expect(server.receiveCapacity == 100)
        server.receive([UInt8](repeating: 1, count: 101), chunking: .whole)
        #expect(server.events() == [.failed(.bufferLimitExceeded)])
        #expect(server.receiveCapacity == 0)
        #expect(server.transmitted().isEmpty)
        #expect(throws: EchoUsageError.self) { try EchoServer(maximumBufferedBytes: 0) }
    }

    @Test func theServerClosesAfterTheLastEcho() throws {
        var server = try EchoServer()
        server.receive([1, 2, 3], chunking: .bytewise)
        server.receiveEndOfStream(now: .zero)
        #expect(server.events() == [.finished(echoedBytes: 3)])
        #expect(!server.wantsToCloseWrite)
        #expect(server.receiveCapacity == 0)
        #expect(server.transmitted() == [1, 2, 3])
        #expect(server.wantsToCloseWrite)
        server.receive([4], chunking: .whole)
        #expect(server.events() == [.failed(.unexpectedBytes)])
    }

    @Test func theClientDetectsChangedMissingExtraOrLateBytes() {
        var generator = SeededGenerator(seed: 1)
        var changed = EchoClient(byteCount: 10, now: .zero, using: &generator)
        var sent = changed.transmitted()
        sent[4] ^= 0xFF
        changed.receive(sent, chunking: .whole)
        #expect(changed.events() == [.failed(.mismatch(offset: 4))])

        var missing = EchoClient(byteCount: 10, now: .zero, using: &generator)
        sent = missing.transmitted()
        missing.receive(Array(sent.prefix(9)), chunking: .whole)
        missing.receiveEndOfStream(now: .zero)
        #expect(missing.events() == [.failed(.truncated(received: 9, expected: 10))])

        var extra = EchoClient(byteCount: 10, now: .zero, using: &generator)
        sent = extra.transmitted()
        extra.receive(sent + [0], chunking: .whole)
        #expect(extra.events() == [.failed(.unexpectedBytes)])

        var late = EchoClient(byteCount: 1, now: .zero, timeout: .seconds(1), using: &generator)
        #expect(late.nextDeadline == .zero + .seconds(1))
        late.handleTimeout(now: .zero + .seconds(1))
        #expect(late.events() == [.failed(.timeout)])
    }
}
