import Testing
@testable import TraverseCore

@Suite struct PingTests {
    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 1), .random(seed: 2)])
    func pingsRunInSequenceOverOneStream(_ chunking: Chunking) throws {
        var pair = StreamPair(try PingClient(), try PingServer(), chunking: chunking)
        var generator = SeededGenerator(seed: 7)
        for round in 1...5 {
            let sentAt = pair.now
            try pair.a.ping(now: sentAt, using: &generator)
            #expect(pair.a.nextDeadline == sentAt + .seconds(10))
            #expect(!pair.a.isReady)
            pair.now = sentAt + .milliseconds(round)
            pair.run()
            #expect(pair.eventsA.last == .roundTrip(.milliseconds(round)))
            #expect(pair.a.isReady)
            #expect(pair.a.nextDeadline == nil)
        }
        #expect(pair.eventsA.count == 5)
        pair.a.finish()
        pair.run()
        #expect(pair.aClosedWrite && pair.bClosedWrite)
        #expect(pair.eventsB == [.finished(echoedPayloads: 5)])
        #expect(pair.carriedAB == 5 * 32 && pair.carriedBA == 5 * 32)
        #expect(pair.eventsA.count == 5, "no failure after the server's close")
    }

    @Test func finishDuringAPingClosesAfterTheEcho() throws {
        var client = try PingClient()
        var generator = SeededGenerator(seed: 1)
        try client.ping(now: .zero, using: &generator)
        let payload = client.transmitted()
        client.finish()
        #expect(!client.wantsToCloseWrite)
        #expect(throws: PingUsageError.pingInFlight) { try client.ping(now: .zero, using: &generator) }
        client.receive(payload, chunking: .bytewise)
        #expect(client.events() == [.roundTrip(.zero)])
        #expect(client.wantsToCloseWrite)
        #expect(throws: PingUsageError.closed) { try client.ping(now: .zero, using: &generator) }
    }

    @Test func payloadsAreRandomAndThirtyTwoBytes() throws {
        var client = try PingClient()
        var generator = SeededGenerator(seed: 3)
        try client.ping(now: .zero, using: &generator)
        let first = client.transmitted()
        client.receive(first, chunking: .whole)
        try client.ping(now: .zero, using: &generator)
        let second = client.transmitted()
        #expect(first.count == 32 && second.count == 32 && first != second)
    }

    @Test func aWrongEchoFailsWithMismatch() throws {
        var client = try PingClient()
        var generator = SeededGenerator(seed: 1)
        try client.ping(now: .zero, using: &generator)
        var payload = client.transmitted()
        payload[31] ^= 1
        client.receive(payload, chunking: .random(seed: 4))
        #expect(client.events() == [.failed(.mismatch)])
        #expect(throws: PingUsageError.closed) { try client.ping(now: .zero, using: &generator) }
    }

    @Test func anUnansweredPingTimesOut() throws {
        var client = try PingClient(timeout: .seconds(2))
        var generator = SeededGenerator(seed: 1)
        try client.ping(now: .zero, using: &generator)
        client.handleTimeout(now: .zero + .milliseconds(1999))
        #expect(client.events().isEmpty)
        client.handleTimeout(now: .zero + .seconds(2))
        #expect(client.events() == [.failed(.timeout)])
        #expect(client.nextDeadline == nil)
        #expect(throws: PingUsageError.invalidConfiguration("timeout must be positive")) { try PingClient(timeout: .zero) }
    }

    @Test func thePeerClosingFailsAPingInFlightOrEndsTheSession() throws {
        var client = try PingClient()
        var generator = SeededGenerator(seed: 1)
        try client.ping(now: .zero, using: &generator)
        let payload = client.transmitted()
        client.receive(Array(payload.prefix(10)), chunking: .whole)
        client.receiveEndOfStream(now: .zero)
        #expect(client.events() == [.failed(.closed)])

        var idle = try PingClient()
        idle.receiveEndOfStream(now: .zero)
        #expect(idle.events() == [.failed(.closed)])

        var finished = try PingClient()
        finished.finish()
        finished.receiveEndOfStream(now: .zero)
        #expect(finished.events().isEmpty)
    }

    @Test func bytesWithNoPingInFlightAreUnexpected() throws {
        var client = try PingClient()
        client.receive([1, 2, 3], chunking: .whole)
        #expect(client.events() == [.failed(.unexpectedBytes)])
    }

    @Test func theServerEchoesWholePayloadsAndHoldsOnePartial() throws {
        var server = try PingServer()
        let payloads: [[UInt8]] = (0..<3).map { index in [UInt8](repeating: UInt8(index), count: 32) }
        let echoes: [UInt8] = payloads.reduce([], +)
        server.receive(echoes + [9, 9, 9], chunking: .random(seed: 5))
        #expect(server.transmitted() == echoes)
        #expect(server.echoedPayloadCount == 3)
        #expect(server.receiveCapacity == 1024 - 3)
        server.receiveEndOfStream(now: .zero)
        #expect(server.events() == [.failed(.truncatedPayload(receivedBytes: 3))])
        #expect(!server.wantsToCloseWrite)
    }

    @Test func theServerBoundsUnwrittenEchoes() throws {
        var server = try PingServer(maximumPendingBytes: 64)
        server.receive([UInt8](repeating: 1, count: 64), chunking: .whole)
        #expect(server.receiveCapacity == 0)
        _ = server.transmitted()
        #expect(server.receiveCapacity == 64)
        server.receive([UInt8](repeating: 2, count: 65), chunking: .whole)
        #expect(server.events() == [.failed(.bufferLimitExceeded)])
        #expect(server.transmitted().isEmpty)
        #expect(throws: PingUsageError.self) { try PingServer(maximumPendingBytes: 31) }
    }

    @Test func theServerClosesOnlyAfterItsEchoesAreDrained() throws {
        var server = try PingServer()
        server.receive([UInt8](repeating: 4, count: 32), chunking: .whole)
        server.receiveEndOfStream(now: .zero)
        #expect(!server.wantsToCloseWrite)
        #expect(server.transmitted().count == 32)
        #expect(server.wantsToCloseWrite)
        #expect(server.events() == [.finished(echoedPayloads: 1)])
        server.receive([1], chunking: .whole)
        #expect(server.events() == [.failed(.unexpectedBytes)])
    }
}
