/// One HTTP/1.1 connection to a metrics endpoint: one request, one response, then close.
///
/// ```
/// < GET /metrics HTTP/1.1 …   → metricsRequested     respond(body:)
/// > 200 OK, text/plain; version=0.0.4, Content-Length, Connection: close, body
///                             → finished(.responded(.ok))
/// < anything else             > 400 / 404 / 405 / 431 / 505 → finished(.responded(status))
/// < no full head in time      → finished(.requestHeadTimedOut), no response
/// ```
///
/// The request head (request line and header fields) may be at most `maximumHeadLength`
/// bytes (8 KiB by default) and must arrive within `headTimeout` (10 s by default) of the
/// connection's start. Bytes after the head (a body, a second request) are ignored: the
/// response always says `Connection: close`, and `wantsToClose` turns true once it (or the
/// decision to send none) is handed out through `pollTransmit`, so the owner closes the
/// connection after writing it. HEAD gets GET's headers without the body.
///
/// Routing: a malformed head is 400, an HTTP major version other than 1 is 505, a method
/// other than GET and HEAD is 405 (with `Allow: GET, HEAD`), a path other than `/metrics`
/// (the query is ignored) is 404. Any input gives one of these or a timeout; none traps.
public struct MetricsHTTPExchange: ByteStreamMachine {
    public typealias Event = MetricsHTTPExchangeEvent

    /// The path that serves the metrics.
    public static let metricsPath = "/metrics"

    private enum State {
        case readingHead
        /// `metricsRequested` was reported; `isHead` leaves the body out.
        case awaitingBody(isHead: Bool)
        case finished
    }

    private var state = State.readingHead
    private var reader: HTTPRequestHeadReader
    private let headDeadline: Instant?
    private var outbound = ByteBuffer()
    private var events: [MetricsHTTPExchangeEvent] = []
    private var eventIndex = 0

    /// An exchange on a connection accepted at `now`, whose request head must arrive within
    /// `headTimeout` (`nil` for no limit) and be at most `maximumHeadLength` bytes long.
    public init(now: Instant, headTimeout: Duration? = .seconds(10), maximumHeadLength: Int = 8192) {
        reader = HTTPRequestHeadReader(maximumLength: max(maximumHeadLength, 1))
        headDeadline = headTimeout.map { now + $0 }
    }

    /// The largest request head accepted, in bytes.
    public var maximumHeadLength: Int { reader.maximumLength }

    /// Feeds bytes from the client. Bytes after the request head are dropped.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard case .readingHead = state else { return }
        switch reader.append(bytes) {
        case .needsMore:
            return
        case .tooLarge:
            finish(.requestHeaderFieldsTooLarge, omitsBody: false)
        case .complete:
            route(reader.bytes)
        }
    }

    /// The client closed its side: before a full head, the exchange ends without a response.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .readingHead = state else { return }
        state = .finished
        events.append(.finished(.endOfStreamBeforeRequest))
    }

    /// Answers the `metricsRequested` event: queues `200 OK` with `body` (the exposition
    /// text; HEAD gets its length and no body).
    ///
    /// - Throws: `MetricsHTTPExchangeUsageError.notAwaitingBody` unless a metrics request is
    ///   waiting for its body.
    public mutating func respond(body: String, contentType: String = PrometheusExposition.contentType)
        throws(MetricsHTTPExchangeUsageError)
    {
        guard case .awaitingBody(let isHead) = state else { throw .notAwaitingBody }
        outbound.append(MetricsHTTPResponse.encode(.ok, contentType: contentType, body: body, omitsBody: isHead))
        state = .finished
        events.append(.finished(.responded(.ok)))
    }

    /// Ends the exchange without a response once the head deadline has passed.
    public mutating func handleTimeout(now: Instant) {
        guard case .readingHead = state, let headDeadline, now >= headDeadline else { return }
        state = .finished
        events.append(.finished(.requestHeadTimedOut))
    }

    /// Appends the queued response bytes.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        outbound.read(into: &buffer)
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> MetricsHTTPExchangeEvent? {
        guard eventIndex < events.count else {
            if !events.isEmpty {
                events.removeAll(keepingCapacity: true)
                eventIndex = 0
            }
            return nil
        }
        defer { eventIndex += 1 }
        return events[eventIndex]
    }

    /// The head deadline while the head is being read; `nil` afterwards.
    public var nextDeadline: Instant? {
        if case .readingHead = state { headDeadline } else { nil }
    }

    /// True once the exchange is over and its response (if any) was handed out: the owner
    /// closes the connection after writing what it polled.
    public var wantsToClose: Bool {
        if case .finished = state { outbound.isEmpty } else { false }
    }

    // MARK: Routing

    private mutating func route(_ head: [UInt8]) {
        let request: HTTPRequestHead
        do {
            request = try HTTPRequestHead(parsing: head.span)
        } catch .unsupportedVersion {
            return finish(.httpVersionNotSupported, omitsBody: false)
        } catch {
            return finish(.badRequest, omitsBody: false)
        }
        let isHead = request.method == "HEAD"
        guard isHead || request.method == "GET" else { return finish(.methodNotAllowed, omitsBody: false) }
        guard request.path == Self.metricsPath else { return finish(.notFound, omitsBody: isHead) }
        state = .awaitingBody(isHead: isHead)
        events.append(.metricsRequested)
    }

    private mutating func finish(_ status: MetricsHTTPStatus, omitsBody: Bool) {
        outbound.append(MetricsHTTPResponse.error(status, omitsBody: omitsBody))
        state = .finished
        events.append(.finished(.responded(status)))
    }
}

/// What a `MetricsHTTPExchange` reports.
public enum MetricsHTTPExchangeEvent: Hashable, Sendable {
    /// A GET or HEAD for `/metrics` arrived: answer with `respond(body:)`.
    case metricsRequested
    /// The exchange is over (the last event): close once the polled bytes are written.
    case finished(MetricsHTTPExchangeOutcome)
}

/// How a metrics exchange ended.
public enum MetricsHTTPExchangeOutcome: Hashable, Sendable {
    /// A response with this status was queued.
    case responded(MetricsHTTPStatus)
    /// The request head did not arrive in time; no response.
    case requestHeadTimedOut
    /// The client closed before a full request head; no response.
    case endOfStreamBeforeRequest
}

/// A `MetricsHTTPExchange` command given at the wrong time.
public enum MetricsHTTPExchangeUsageError: Error, Hashable, Sendable {
    /// `respond(body:)` without a waiting `metricsRequested`.
    case notAwaitingBody
}
