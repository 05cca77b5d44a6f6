import TraverseCore

/// Runs one `MetricsHTTPExchange` over `request` fed in `pieces`, answering a metrics
/// request with `body`; what it wrote, what it reported and whether it wants to close.
private struct MetricsExchangeRun {
    var written: [UInt8] = []
    var events: [MetricsHTTPExchangeEvent] = []
    var wantsToClose = false

    init(pieces: [[UInt8]], maximumHeadLength: Int, body: String, timeout: Bool, endOfStream: Bool) {
        var exchange = MetricsHTTPExchange(now: .zero, maximumHeadLength: maximumHeadLength)
        for piece in pieces {
            piece.withUnsafeBufferPointer { exchange.receive($0.span, now: .zero) }
            drain(&exchange, body: body)
        }
        if timeout { exchange.handleTimeout(now: .zero + .seconds(10)) }
        if endOfStream { exchange.receiveEndOfStream(now: .zero) }
        drain(&exchange, body: body)
        wantsToClose = exchange.wantsToClose
    }

    private mutating func drain(_ exchange: inout MetricsHTTPExchange, body: String) {
        while exchange.pollTransmit(into: &written) > 0 {}
        while let event = exchange.pollEvent() {
            events.append(event)
            if event == .metricsRequested {
                try? exchange.respond(body: body)
                while exchange.pollTransmit(into: &written) > 0 {}
            }
        }
    }
}

extension FuzzTarget {
    /// The metrics endpoint's HTTP/1.1 request parsing (`MetricsHTTPExchange`, with
    /// `HTTPRequestHead`) on arbitrary bytes. The first byte picks a 64-byte head limit
    /// (bit 0), a timeout (bit 1) and an end of stream (bit 2) after the input. The input
    /// fed in pieces gives the same bytes and events as fed whole; at most one response,
    /// well formed (a known status, `Content-Length` matching the body, or no body for
    /// HEAD), bounded, only after a complete head (or an oversized one), and a 200 only for
    /// a head `HTTPRequestHead` parses as GET or HEAD of `/metrics`; one final event, after
    /// which the exchange wants to close.
    public static let metricsHTTPRequest = FuzzTarget(name: "metrics-http-request") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let request = bytes.dropFirst()
        let limit = options & 1 == 0 ? 8192 : 64
        let body = "traverse_fuzz_value 1\n"
        let chunked = MetricsExchangeRun(
            pieces: MultistreamFuzzing.pieces(request), maximumHeadLength: limit, body: body,
            timeout: options & 2 != 0, endOfStream: options & 4 != 0)
        let whole = MetricsExchangeRun(
            pieces: [Array(request)], maximumHeadLength: limit, body: body,
            timeout: options & 2 != 0, endOfStream: options & 4 != 0)
        precondition(chunked.written == whole.written, "chunking changed the response")
        precondition(chunked.events == whole.events, "chunking changed the events")

        let finals = chunked.events.filter { $0 != .metricsRequested }
        precondition(finals.count <= 1, "more than one final event")
        precondition(chunked.events.filter { $0 == .metricsRequested }.count <= 1, "two metrics requests")
        precondition(chunked.wantsToClose == (finals.count == 1), "wantsToClose disagrees with the final event")
        if finals.first == nil || finals.first == .finished(.requestHeadTimedOut)
            || finals.first == .finished(.endOfStreamBeforeRequest) {
            precondition(chunked.written.isEmpty, "a response without a request")
            return
        }
        guard case .finished(.responded(let status)) = finals.first else { preconditionFailure("unknown final event") }
        precondition(chunked.written.count <= 512 + body.utf8.count, "unbounded response")
        let response = MetricsFuzzResponse(chunked.written)
        precondition(response?.status == status.code, "the status line disagrees with the event")
        let headEnd = Self.headEnd(of: Array(request), limit: limit)
        switch status {
        case .requestHeaderFieldsTooLarge:
            precondition(headEnd == nil, "431 for a head within the limit")
        default:
            guard let headEnd else { preconditionFailure("answered before the head ended") }
            let parsed = Array(request.prefix(headEnd)).withUnsafeBufferPointer { buffer in
                Result { () throws(HTTPRequestHeadError) in try HTTPRequestHead(parsing: buffer.span) }
            }
            let head = try? parsed.get()
            let isHead = head?.method == "HEAD"
            precondition(
                response?.body.count == response?.contentLength || (isHead && response?.body.isEmpty == true),
                "the body disagrees with Content-Length")
            switch status {
            case .ok:
                precondition(head?.path == "/metrics" && (head?.method == "GET" || isHead), "200 for another request")
                precondition(chunked.events.first == .metricsRequested)
                precondition(response?.body.count == (isHead ? 0 : body.utf8.count) && response?.contentLength == body.utf8.count)
            case .badRequest:
                precondition(head == nil && parsed != .failure(.unsupportedVersion), "400 for a head that parses")
            case .httpVersionNotSupported:
                precondition(parsed == .failure(.unsupportedVersion), "505 for a supported version")
            case .methodNotAllowed:
                precondition(head != nil && head?.method != "GET" && !isHead, "405 for GET or HEAD")
            case .notFound:
                precondition(head != nil && head?.path != "/metrics", "404 for /metrics")
            case .requestHeaderFieldsTooLarge:
                preconditionFailure("unreachable")
            }
        }
    }

    /// Where the head in `bytes` ends (the byte after its empty line), if within `limit`.
    static func headEnd(of bytes: [UInt8], limit: Int) -> Int? {
        var hasRequestLine = false
        var lineStart = 0
        for index in bytes.indices.prefix(limit) where bytes[index] == UInt8(ascii: "\n") {
            var lineEnd = index
            if lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            if lineEnd > lineStart {
                hasRequestLine = true
            } else if hasRequestLine {
                return index + 1
            }
            lineStart = index + 1
        }
        return nil
    }
}

/// A response as the fuzz target reads it: status code, `Content-Length`, body.
private struct MetricsFuzzResponse {
    let status: UInt16
    let contentLength: Int
    let body: [UInt8]

    init?(_ bytes: [UInt8]) {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0...(max(bytes.count - 4, 0))).first(where: { bytes.count >= 4 && Array(bytes[$0..<($0 + 4)]) == separator })
        else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = head.first, statusLine.hasPrefix("HTTP/1.1 "),
              let status = UInt16(statusLine.dropFirst(9).prefix(3))
        else { return nil }
        guard let lengthLine = head.first(where: { $0.hasPrefix("Content-Length: ") }),
              let length = Int(lengthLine.dropFirst(16))
        else { return nil }
        self.status = status
        contentLength = length
        body = Array(bytes[(end + 4)...])
    }
}
