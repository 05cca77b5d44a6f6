import Foundation
import Testing
import TraverseCore

/// A response as a client reads it.
struct ParsedHTTPResponse: Equatable {
    var statusLine: String
    var headers: [String]
    var body: String

    init?(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        statusLine = lines[0]
        headers = Array(lines.dropFirst())
        body = String(text[headEnd.upperBound...])
    }

    var status: Int? { Int(statusLine.split(separator: " ").dropFirst().first ?? "") }

    func header(_ name: String) -> String? {
        headers.first { $0.lowercased().hasPrefix(name.lowercased() + ": ") }.map { String($0.dropFirst(name.count + 2)) }
    }
}

/// Feeds one request to a fresh exchange, answering a metrics request with `body`.
struct MetricsExchangeDriver {
    var exchange: MetricsHTTPExchange
    var written: [UInt8] = []
    var events: [MetricsHTTPExchangeEvent] = []
    var body: String

    init(body: String = "traverse_test 1\n", maximumHeadLength: Int = 8192) {
        exchange = MetricsHTTPExchange(now: .zero, maximumHeadLength: maximumHeadLength)
        self.body = body
    }

    mutating func receive(_ bytes: [UInt8], chunking: Chunking, now: Instant = .zero) {
        var generator = SeededGenerator(seed: { if case .random(let seed) = chunking { seed } else { 0 } }())
        var offset = 0
        while offset < bytes.count {
            let size = switch chunking {
            case .whole: bytes.count - offset
            case .bytewise: 1
            case .random: min(bytes.count - offset, Int.random(in: 1...64, using: &generator))
            }
            bytes[offset..<(offset + size)].withUnsafeBufferPointer { exchange.receive($0.span, now: now) }
            offset += size
            drain()
        }
    }

    mutating func receive(_ text: String, chunking: Chunking = .whole) {
        receive(Array(text.utf8), chunking: chunking)
    }

    mutating func drain() {
        while exchange.pollTransmit(into: &written) > 0 {}
        while let event = exchange.pollEvent() {
            events.append(event)
            if event == .metricsRequested {
                #expect(exchange.pollTransmit(into: &written) == 0, "nothing written before the body")
                #expect(!exchange.wantsToClose)
                #expect(exchange.nextDeadline == nil)
                #expect(throws: Never.self) { try exchange.respond(body: body) }
                while exchange.pollTransmit(into: &written) > 0 {}
            }
        }
    }

    var response: ParsedHTTPResponse? { ParsedHTTPResponse(written) }
}

@Suite struct MetricsHTTPExchangeTests {
    static let get = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nUser-Agent: Prometheus/2.0\r\nAccept: text/plain\r\n\r\n"

    func serve(_ request: String, chunking: Chunking = .whole, body: String = "traverse_test 1\n") -> MetricsExchangeDriver {
        var driver = MetricsExchangeDriver(body: body)
        driver.receive(request, chunking: chunking)
        return driver
    }

    @Test(arguments: [Chunking.whole, .bytewise, .random(seed: 1), .random(seed: 2)])
    func aGetOfMetricsAsksForTheBodyAndAnswersWithIt(_ chunking: Chunking) throws {
        let body = "# TYPE a gauge\na 1\nüñí 2\n"
        let driver = serve(Self.get, chunking: chunking, body: body)
        #expect(driver.events == [.metricsRequested, .finished(.responded(.ok))])
        let response = try #require(driver.response)
        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(response.header("Content-Length") == String(body.utf8.count))
        #expect(response.header("Connection") == "close")
        #expect(response.body == body)
        #expect(driver.exchange.wantsToClose)
        #expect(driver.exchange.nextDeadline == nil)
    }

    @Test func everyChunkingWritesTheSameBytes() {
        let whole = serve(Self.get).written
        for chunking in [Chunking.bytewise, .random(seed: 3), .random(seed: 4)] {
            #expect(serve(Self.get, chunking: chunking).written == whole)
        }
    }

    @Test func headGetsTheHeadersOfGetWithoutTheBody() throws {
        let body = "a 1\nb 2\n"
        let driver = serve("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", chunking: .bytewise, body: body)
        #expect(driver.events == [.metricsRequested, .finished(.responded(.ok))])
        let response = try #require(driver.response)
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == String(body.utf8.count))
        #expect(response.header("Content-Type") == PrometheusExposition.contentType)
        #expect(response.body.isEmpty)
        #expect(driver.written.count == Array(serve(Self.get, body: body).written).count - body.utf8.count)
    }

    @Test(arguments: [
        "GET /metrics?name[]=up HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET http://127.0.0.1:9090/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET HTTP://x/metrics?q HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.0\r\n\r\n",
        "GET /metrics HTTP/1.1\nHost: x\n\n",
        "\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nhOsT:   x  \r\nX-Empty:\r\nX-Tab:\tv\t\r\nX-Obs: \u{e9}\r\n\r\n",
    ])
    func acceptedFormsOfTheRequestAreServed(_ request: String) {
        let driver = serve(request, chunking: .bytewise)
        #expect(driver.events == [.metricsRequested, .finished(.responded(.ok))])
        #expect(driver.response?.status == 200)
    }

    @Test(arguments: ["/", "/metricsx", "/metrics/", "/Metrics", "/metr%69cs", "*", "http://x", "https://x?metrics"])
    func otherPathsAreNotFound(_ target: String) throws {
        let driver = serve("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(driver.events == [.finished(.responded(.notFound))])
        let response = try #require(driver.response)
        #expect(response.statusLine == "HTTP/1.1 404 Not Found")
        #expect(response.body == "404 Not Found\n")
        #expect(response.header("Content-Length") == "14")
        #expect(response.header("Connection") == "close")
        #expect(driver.exchange.wantsToClose)
    }

    @Test func headOfAnotherPathIsNotFoundWithoutBody() throws {
        let response = try #require(serve("HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n").response)
        #expect(response.status == 404)
        #expect(response.header("Content-Length") == "14")
        #expect(response.body.isEmpty)
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "get", "Head", "BREW", "CONNECT"])
    func otherMethodsAreNotAllowed(_ method: String) throws {
        let target = method == "CONNECT" ? "example.com:443" : "/metrics"
        let driver = serve("\(method) \(target) HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        #expect(driver.events == [.finished(.responded(.methodNotAllowed))])
        let response = try #require(driver.response)
        #expect(response.statusLine == "HTTP/1.1 405 Method Not Allowed")
        #expect(response.header("Allow") == "GET, HEAD")
        #expect(response.body == "405 Method Not Allowed\n")
    }

    @Test(arguments: [
        "garbage\r\n\r\n",
        "GET /metrics\r\nHost: x\r\n\r\n",
        "GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.1 \r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\u{0}\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\u{7f}\r\n\r\n",
        "GET /met\u{1}rics HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /métrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.x\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/11\r\nHost: x\r\n\r\n",
        "GET /metrics http/1.1\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.10\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\r\n\r\n",
    ])
    func malformedHeadsAreBadRequests(_ request: String) throws {
        let driver = serve(request, chunking: .bytewise)
        #expect(driver.events == [.finished(.responded(.badRequest))])
        let response = try #require(driver.response)
        #expect(response.statusLine == "HTTP/1.1 400 Bad Request")
        #expect(response.body == "400 Bad Request\n")
        #expect(driver.exchange.wantsToClose)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/3.1"])
    func otherMajorVersionsAreNotSupported(_ version: String) throws {
        let driver = serve("GET /metrics \(version)\r\nHost: x\r\n\r\n")
        #expect(driver.events == [.finished(.responded(.httpVersionNotSupported))])
        #expect(driver.response?.statusLine == "HTTP/1.1 505 HTTP Version Not Supported")
    }

    @Test func aHeadOfExactlyTheLimitIsServedAndOneByteMoreIsTooLarge() throws {
        let start = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: "
        let end = "\r\n\r\n"
        let padding = 8192 - start.utf8.count - end.utf8.count
        let fits = start + String(repeating: "p", count: padding) + end
        #expect(fits.utf8.count == 8192)
        #expect(serve(fits, chunking: .bytewise).events == [.metricsRequested, .finished(.responded(.ok))])

        let tooLong = start + String(repeating: "p", count: padding + 1) + end
        for chunking in [Chunking.whole, .bytewise, .random(seed: 5)] {
            let driver = serve(tooLong, chunking: chunking)
            #expect(driver.events == [.finished(.responded(.requestHeaderFieldsTooLarge))])
            let response = try #require(driver.response)
            #expect(response.statusLine == "HTTP/1.1 431 Request Header Fields Too Large")
            #expect(response.body == "431 Request Header Fields Too Large\n")
        }
    }

    @Test func anEndlessHeadIsCutAtTheLimitWithoutBufferingTheRest() throws {
        var driver = MetricsExchangeDriver(maximumHeadLength: 64)
        #expect(driver.exchange.maximumHeadLength == 64)
        let start = "GET /metrics HTTP/1.1\r\nHost: x\r\nX: "
        driver.receive(start + String(repeating: "a", count: 64 - start.utf8.count))
        #expect(driver.events.isEmpty, "64 bytes without the end of the head")
        driver.receive("a")
        #expect(driver.events == [.finished(.responded(.requestHeaderFieldsTooLarge))])
        let written = driver.written
        driver.receive(Array(repeating: UInt8(ascii: "a"), count: 1 << 20), chunking: .random(seed: 6))
        #expect(driver.written == written && driver.events.count == 1, "nothing more after the answer")
    }

    @Test func emptyLinesBeforeTheRequestCountTowardsTheLimit() {
        var driver = MetricsExchangeDriver(maximumHeadLength: 64)
        driver.receive(String(repeating: "\r\n", count: 32) + "GET /metrics HTTP/1.0\r\n\r\n", chunking: .bytewise)
        #expect(driver.events == [.finished(.responded(.requestHeaderFieldsTooLarge))])
    }

    @Test func bytesAfterTheHeadAreIgnored() throws {
        let driver = serve(Self.get + "GET /other HTTP/1.1\r\nHost: x\r\n\r\nmore", chunking: .random(seed: 7))
        #expect(driver.events == [.metricsRequested, .finished(.responded(.ok))])
        #expect(driver.written == serve(Self.get).written)
    }

    @Test func theHeadMustArriveBeforeTheTimeout() {
        var exchange = MetricsHTTPExchange(now: Instant(nanoseconds: 5_000), headTimeout: .seconds(10))
        let deadline = Instant(nanoseconds: 5_000) + .seconds(10)
        #expect(exchange.nextDeadline == deadline)
        let partial = Array("GET /metrics HTTP/1.1\r\nHost:".utf8)
        partial.withUnsafeBufferPointer { exchange.receive($0.span, now: .zero + .seconds(9)) }
        exchange.handleTimeout(now: deadline + .nanoseconds(-1))
        #expect(exchange.pollEvent() == nil && !exchange.wantsToClose, "not yet")
        #expect(exchange.nextDeadline == deadline, "bytes do not extend the deadline")
        exchange.handleTimeout(now: deadline)
        #expect(exchange.pollEvent() == .finished(.requestHeadTimedOut))
        #expect(exchange.pollEvent() == nil)
        #expect(exchange.wantsToClose)
        #expect(exchange.nextDeadline == nil)
        var written: [UInt8] = []
        #expect(exchange.pollTransmit(into: &written) == 0, "a timeout is not answered")
        Array(" x\r\n\r\n".utf8).withUnsafeBufferPointer { exchange.receive($0.span, now: deadline) }
        #expect(exchange.pollEvent() == nil, "nothing after the end")
    }

    @Test func noTimeoutMeansNoDeadline() {
        var exchange = MetricsHTTPExchange(now: .zero, headTimeout: nil)
        #expect(exchange.nextDeadline == nil)
        exchange.handleTimeout(now: Instant(nanoseconds: .max))
        #expect(exchange.pollEvent() == nil && !exchange.wantsToClose)
    }

    @Test func aCompleteHeadStopsTheTimer() throws {
        var driver = MetricsExchangeDriver()
        driver.receive("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(driver.exchange.nextDeadline == nil)
        driver.exchange.handleTimeout(now: .zero + .seconds(60))
        driver.drain()
        #expect(driver.events == [.finished(.responded(.notFound))])
    }

    @Test func theClientClosingBeforeAFullHeadEndsTheExchangeWithoutAResponse() {
        var driver = MetricsExchangeDriver()
        driver.receive("GET /metrics HTTP/1.1\r\n")
        driver.exchange.receiveEndOfStream(now: .zero)
        driver.drain()
        #expect(driver.events == [.finished(.endOfStreamBeforeRequest)])
        #expect(driver.written.isEmpty)
        #expect(driver.exchange.wantsToClose)
    }

    @Test func theClientClosingAfterItsRequestStillGetsTheResponse() {
        var driver = MetricsExchangeDriver()
        driver.receive(Self.get)
        driver.exchange.receiveEndOfStream(now: .zero)
        driver.drain()
        #expect(driver.events == [.metricsRequested, .finished(.responded(.ok))])
        #expect(driver.response?.status == 200)
    }

    @Test func respondIsOnlyForAWaitingMetricsRequest() throws {
        var exchange = MetricsHTTPExchange(now: .zero)
        #expect(throws: MetricsHTTPExchangeUsageError.notAwaitingBody) { try exchange.respond(body: "x") }
        Array(Self.get.utf8).withUnsafeBufferPointer { exchange.receive($0.span, now: .zero) }
        #expect(exchange.pollEvent() == .metricsRequested)
        #expect(!exchange.wantsToClose, "waits for the owner")
        try exchange.respond(body: "x 1\n")
        #expect(throws: MetricsHTTPExchangeUsageError.notAwaitingBody) { try exchange.respond(body: "y") }
        #expect(!exchange.wantsToClose, "the response is still to be polled")
        var written: [UInt8] = []
        #expect(exchange.pollTransmit(into: &written) == written.count && !written.isEmpty)
        #expect(exchange.wantsToClose)
        #expect(ParsedHTTPResponse(written)?.body == "x 1\n")
    }

    @Test func randomBytesAlwaysEndInAResponseAtTheLimitOrWait() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            let count = Int.random(in: 0...300, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator) { bytes = Array("GET /metrics HTTP/1.1\r\n".utf8) + bytes }
            var driver = MetricsExchangeDriver(maximumHeadLength: 128)
            driver.receive(bytes, chunking: .random(seed: UInt64(count)))
            if bytes.count > 128 {
                #expect(driver.events.last.map { if case .finished = $0 { true } else { false } } == true)
            }
            if let last = driver.events.last, case .finished(.responded(let status)) = last {
                #expect(driver.response?.status == Int(status.code))
                #expect(driver.exchange.wantsToClose)
            } else {
                #expect(driver.events.isEmpty && driver.written.isEmpty && !driver.exchange.wantsToClose)
            }
        }
    }
}
