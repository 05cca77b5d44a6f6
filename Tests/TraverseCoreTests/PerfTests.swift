import Testing
@testable import TraverseCore

@Suite struct PerfTests {
    @Test(arguments: [
        (UInt64(0), UInt64(0)), (1, 0), (0, 1), (100_000, 3_000_000), (3_000_000, 7), (262_136, 262_144),
    ])
    func aRunUploadsThenDownloads(_ upload: UInt64, _ download: UInt64) throws {
        for chunking in [Chunking.whole, .random(seed: upload &+ download)] {
            var pair = StreamPair(
                PerfClient(uploadBytes: upload, downloadBytes: download, now: .zero), PerfServer(), chunking: chunking)
            pair.now = .zero + .milliseconds(30)
            pair.run()
            #expect(pair.carriedAB == 8 + Int(upload))
            #expect(pair.carriedBA == Int(download))
            #expect(pair.eventsB == [.finished(uploadBytes: upload, downloadBytes: download)])
            guard case .finished(let result) = try #require(pair.eventsA.first) else {
                Issue.record("expected a result, got \(pair.eventsA)")
                return
            }
            #expect(pair.eventsA.count == 1)
            #expect(result.uploadBytes == upload && result.downloadBytes == download)
            #expect(result.total == .milliseconds(30))
            #expect(pair.aClosedWrite && pair.bClosedWrite)
        }
    }

    @Test func outputComesInBoundedPieces() {
        var client = PerfClient(uploadBytes: 1_000_000, downloadBytes: 5, now: .zero)
        var sizes: [Int] = []
        var buffer: [UInt8] = []
        while true {
            buffer.removeAll(keepingCapacity: true)
            let count = client.pollTransmit(into: &buffer)
            guard count > 0 else { break }
            #expect(count == buffer.count)
            sizes.append(count)
        }
        #expect(sizes.allSatisfy { $0 <= StreamProtocolLimits.transmitChunk })
        #expect(sizes.reduce(0, +) == 1_000_008)
        #expect(client.wantsToCloseWrite)

        var server = PerfServer()
        server.receive([0, 0, 0, 0, 0, 0x10, 0, 0], chunking: .bytewise)
        server.receiveEndOfStream(now: .zero)
        var total = 0
        while true {
            buffer.removeAll(keepingCapacity: true)
            let count = server.pollTransmit(into: &buffer)
            guard count > 0 else { break }
            #expect(count <= StreamProtocolLimits.transmitChunk)
            total += count
        }
        #expect(total == 0x10_0000)
        #expect(server.wantsToCloseWrite)
    }

    @Test func theClientSendsTheDownloadSizeBigEndian() {
        var client = PerfClient(uploadBytes: 2, downloadBytes: 0x0102_0304_0506_0708, now: .zero)
        #expect(client.transmitted() == [1, 2, 3, 4, 5, 6, 7, 8, 0, 0])
    }

    @Test func uploadAndDownloadAreTimedSeparately() {
        var client = PerfClient(uploadBytes: 10, downloadBytes: 4, now: .zero)
        _ = client.transmitted()
        client.receive([0, 0], chunking: .whole, now: .zero + .milliseconds(40))
        client.receive([0, 0], chunking: .whole, now: .zero + .milliseconds(50))
        client.receiveEndOfStream(now: .zero + .milliseconds(100))
        #expect(client.events() == [.finished(PerfResult(
            uploadBytes: 10, downloadBytes: 4, uploadDuration: .milliseconds(40),
            downloadDuration: .milliseconds(60), total: .milliseconds(100)))])
    }

    @Test func theServerRefusesOversizedDownloads() {
        var server = PerfServer(maximumDownloadBytes: 1000)
        server.receive([0, 0, 0, 0, 0, 0, 0x03, 0xE9, 1, 2], chunking: .random(seed: 2))
        #expect(server.events() == [.failed(.downloadTooLarge(requested: 1001, maximum: 1000))])
        server.receiveEndOfStream(now: .zero)
        #expect(server.transmitted().isEmpty)
        #expect(server.events().isEmpty)

        var huge = PerfServer()
        huge.receive([UInt8](repeating: 0xFF, count: 8), chunking: .whole)
        #expect(huge.events() == [.failed(.downloadTooLarge(requested: .max, maximum: 10 << 30))])
    }

    @Test func theServerFailsOnATruncatedHeaderOrLateBytes() {
        var server = PerfServer()
        server.receive([0, 0, 0], chunking: .whole)
        server.receiveEndOfStream(now: .zero)
        #expect(server.events() == [.failed(.truncatedHeader(receivedBytes: 3))])

        var sending = PerfServer()
        sending.receive([0, 0, 0, 0, 0, 0, 0, 1], chunking: .whole)
        sending.receiveEndOfStream(now: .zero)
        sending.receive([1], chunking: .whole)
        #expect(sending.events() == [.failed(.unexpectedBytes)])
    }

    @Test func theClientFailsOnTooMuchTooLittleOrAnEarlyClose() {
        var tooMuch = PerfClient(uploadBytes: 0, downloadBytes: 3, now: .zero)
        _ = tooMuch.transmitted()
        tooMuch.receive([0, 0, 0, 0], chunking: .random(seed: 1))
        #expect(tooMuch.events() == [.failed(.downloadTooLong(expected: 3))])

        var tooLittle = PerfClient(uploadBytes: 0, downloadBytes: 3, now: .zero)
        _ = tooLittle.transmitted()
        tooLittle.receive([0, 0], chunking: .whole)
        tooLittle.receiveEndOfStream(now: .zero)
        #expect(tooLittle.events() == [.failed(.downloadTruncated(received: 2, expected: 3))])

        var early = PerfClient(uploadBytes: 1_000_000, downloadBytes: 0, now: .zero)
        var buffer: [UInt8] = []
        _ = early.pollTransmit(into: &buffer)
        early.receiveEndOfStream(now: .zero)
        #expect(early.events() == [.failed(.closedDuringUpload)])
        #expect(!early.wantsToCloseWrite)
    }
}
