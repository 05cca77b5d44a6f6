import DequeModule

/// Resolves one multiaddr into the addresses to dial, as a sans-IO machine: it never looks
/// anything up itself, but asks the driver to, and reads the answers.
///
/// | address | resolved by | gives |
/// | --- | --- | --- |
/// | `/ip4/…`, `/ip6/…`, `/ip6zone/…` | nothing | itself, at once |
/// | `/dns/H/…`, `/dns4/H/…`, `/dns6/H/…` | `lookUpHost(H, family)` (getaddrinfo) | `/ip4/A/…` or `/ip6/A/…` per address (any family, IPv4 only, IPv6 only) |
/// | `/dnsaddr/H/…` | a TXT query for `_dnsaddr.H` sent by UDP to the configured name servers | the records' addresses that end with `…`, each resolved again |
///
/// Everything after the name is kept (`/tcp/4001/p2p/ID`). A `/dnsaddr` record may hold
/// another `/dnsaddr` or a `/dns*` address, which is resolved in turn within
/// `MultiaddrResolutionLimits`; records that start with anything else are dropped.
///
/// The machine contract without a byte stream: inputs are the driver's answers
/// (`hostLookupCompleted`, `queryAnswered`, `queryFailed`) and `handleTimeout(now:)`;
/// after each, the driver drains `pollRequest()` (the work to do, in place of
/// `pollTransmit`), then `pollEvent()`, then reads `nextDeadline`. Exactly one event
/// comes: `resolved` with at least one address, or `failed` with the reason (unless the
/// owner calls `cancel()`).
///
/// TXT queries carry a random 16-bit ID. A reply whose ID, response flag or question does
/// not match is dropped and the machine keeps waiting, so a spoofed datagram cannot end
/// the query. A query that times out, gets a server failure, a truncated answer (no TCP
/// retry) or a malformed one goes to the next server, for `ResolverConfiguration.attempts`
/// rounds; NXDOMAIN is final.
public struct MultiaddrResolution: Sendable {
    /// What the machine reports: one final event.
    public typealias Event = MultiaddrResolutionEvent

    /// The address being resolved.
    public let address: Multiaddr
    /// The name servers and retry policy of TXT queries.
    public let configuration: ResolverConfiguration
    /// The bounds on the resolution.
    public let limits: MultiaddrResolutionLimits

    /// One outstanding TXT query: the datagram in flight, and what the earlier ones met.
    struct QueryInFlight {
        /// The tree node being resolved.
        var node: Int
        /// The name asked for, as sent.
        var name: String
        /// The name as a response's question reports it.
        var canonicalName: String
        /// The DNS ID of the datagram in flight.
        var dnsID: UInt16
        /// The number of datagrams sent before this one (which server and round it is).
        var attempt: Int
        /// When this datagram times out.
        var deadline: Instant
        /// What the previous datagrams met (the last one's failure is reported).
        var lastFailure: MultiaddrResolutionError?
    }

    /// A request the driver has not answered yet.
    enum PendingRequest {
        case hostLookup(node: Int, name: String, family: IPAddressFamily)
        case query(QueryInFlight)
    }

    /// Lookups are outstanding.
    struct Resolving {
        var tree = ResolutionTree()
        /// At most `limits.maximumQueries`: one per outstanding lookup.
        var pending: [ResolutionRequestID: PendingRequest] = [:]
        /// When the whole resolution times out.
        var deadline: Instant
        /// Lookups made so far.
        var queriesMade = 0
        /// Addresses already looked up: a repeat (a loop, or two records naming the same
        /// address) adds nothing new, so it is not looked up again.
        var lookedUp: Set<Multiaddr> = []
    }

    enum State {
        case resolving(Resolving)
        /// The event is out (or the owner cancelled); inputs are ignored.
        case finished
    }

    var state: State
    var requests: Deque<MultiaddrResolutionRequest> = []
    var event: MultiaddrResolutionEvent?
    var nextRequestID: UInt32 = 0
    /// The source of DNS IDs, seeded from the caller's generator.
    var random: SeededRandomNumberGenerator

    /// Replies dropped because their ID, response flag or question did not match the query
    /// in flight (spoofed, stale or garbled), counted for metrics.
    public internal(set) var droppedReplies = 0

    /// Starts resolving `address` at `now`.
    ///
    /// - Parameters:
    ///   - configuration: the name servers for `/dnsaddr` TXT queries (usually read from
    ///     `/etc/resolv.conf`).
    ///   - generator: 64 bits of it seed the DNS IDs (the driver passes
    ///     `SecureRandomNumberGenerator`, so off-path attackers cannot guess them).
    /// - Throws: `MultiaddrResolutionUsageError.invalidLimits` for limits out of range.
    public init(
        resolving address: Multiaddr, configuration: ResolverConfiguration,
        limits: MultiaddrResolutionLimits = .init(), now: Instant,
        using generator: inout some RandomNumberGenerator
    ) throws(MultiaddrResolutionUsageError) {
        try limits.validate()
        self.address = address
        self.configuration = configuration
        self.limits = limits
        random = SeededRandomNumberGenerator(seed: generator.next())
        state = .finished
        var resolving = Resolving(deadline: now + limits.timeout)
        addNode(address, depth: 1, to: &resolving, now: now)
        state = .resolving(resolving)
        finishIfDone(resolving)
    }

    /// Whether the final event was produced (or the owner cancelled).
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    // MARK: - Inputs

    /// The driver's answer to `lookUpHost`: the addresses in the system's order, or why
    /// there are none. Addresses of another family than asked for are ignored.
    ///
    /// - Throws: `unknownRequest` for an ID never issued, `wrongRequestKind` for a query's
    ///   ID. An answer to a cancelled request, or after the end, is ignored.
    public mutating func hostLookupCompleted(
        _ request: ResolutionRequestID, _ result: Result<[IPAddress], ResolverDriverError>, now: Instant
    ) throws(MultiaddrResolutionUsageError) {
        guard case .resolving(var resolving) = try pendingState(for: request) else { return }
        guard case .hostLookup(let node, let name, let family)? = resolving.pending[request] else {
            throw .wrongRequestKind(request)
        }
        resolving.pending[request] = nil
        completeHostLookup(node: node, name: name, family: family, result: result, in: &resolving, now: now)
        state = .resolving(resolving)
        finishIfDone(resolving)
    }

    /// A datagram that arrived on the socket of `sendQuery` `request`. A reply that does
    /// not match the query (ID, response flag, question) is dropped, and the query keeps
    /// waiting for the real one.
    ///
    /// - Throws: `unknownRequest` for an ID never issued, `wrongRequestKind` for a host
    ///   lookup's ID. A datagram for a cancelled request, or after the end, is ignored.
    public mutating func queryAnswered(
        _ request: ResolutionRequestID, bytes: Span<UInt8>, now: Instant
    ) throws(MultiaddrResolutionUsageError) {
        guard case .resolving(var resolving) = try pendingState(for: request) else { return }
        guard case .query(let query)? = resolving.pending[request] else { throw .wrongRequestKind(request) }
        receiveReply(bytes, for: request, query: query, in: &resolving, now: now)
        state = .resolving(resolving)
        finishIfDone(resolving)
    }

    /// A datagram that arrived on the socket of `sendQuery` `request` (see the `Span` form).
    public mutating func queryAnswered(
        _ request: ResolutionRequestID, bytes: [UInt8], now: Instant
    ) throws(MultiaddrResolutionUsageError) {
        try queryAnswered(request, bytes: bytes.span, now: now)
    }

    /// The socket of `sendQuery` `request` failed (the datagram could not be sent, or the
    /// server is unreachable): the query goes to the next server.
    ///
    /// - Throws: as `queryAnswered`.
    public mutating func queryFailed(
        _ request: ResolutionRequestID, _ error: ResolverDriverError, now: Instant
    ) throws(MultiaddrResolutionUsageError) {
        guard case .resolving(var resolving) = try pendingState(for: request) else { return }
        guard case .query(var query)? = resolving.pending[request] else { throw .wrongRequestKind(request) }
        query.lastFailure = .lookupFailed(error)
        retry(query, replacing: request, in: &resolving, now: now)
        state = .resolving(resolving)
        finishIfDone(resolving)
    }

    /// Acts on time: at the overall deadline every outstanding lookup fails with `timeout`
    /// and the result is what arrived; before it, each query datagram past its own
    /// deadline goes to the next server.
    public mutating func handleTimeout(now: Instant) {
        guard case .resolving(var resolving) = state else { return }
        if now >= resolving.deadline {
            for (request, pending) in resolving.pending.sorted(by: { $0.key < $1.key }) {
                requests.append(.cancel(request))
                switch pending {
                case .hostLookup(let node, _, _): resolving.tree.setStatus(.failed(.timeout), of: node)
                case .query(let query): resolving.tree.setStatus(.failed(.timeout), of: query.node)
                }
            }
            resolving.pending.removeAll()
        } else {
            let expired = resolving.pending.compactMap { request, pending -> (ResolutionRequestID, QueryInFlight)? in
                guard case .query(let query) = pending, now >= query.deadline else { return nil }
                return (request, query)
            }
            for (request, var query) in expired.sorted(by: { $0.0 < $1.0 }) {
                query.lastFailure = .timeout
                retry(query, replacing: request, in: &resolving, now: now)
            }
        }
        state = .resolving(resolving)
        finishIfDone(resolving)
    }

    /// Gives up: every outstanding request is cancelled and no event follows.
    public mutating func cancel() {
        guard case .resolving(let resolving) = state else { return }
        for request in resolving.pending.keys.sorted() { requests.append(.cancel(request)) }
        state = .finished
    }

    // MARK: - Outputs

    /// The next request for the driver, or `nil` when there is none.
    public mutating func pollRequest() -> MultiaddrResolutionRequest? {
        requests.popFirst()
    }

    /// The final event, once, or `nil`.
    public mutating func pollEvent() -> MultiaddrResolutionEvent? {
        defer { event = nil }
        return event
    }

    /// The earliest of the overall deadline and the outstanding queries' deadlines; `nil`
    /// once finished.
    public var nextDeadline: Instant? {
        guard case .resolving(let resolving) = state else { return nil }
        var earliest = resolving.deadline
        for case .query(let query) in resolving.pending.values where query.deadline < earliest {
            earliest = query.deadline
        }
        return earliest
    }

    // MARK: - Bookkeeping

    /// The state to apply an answer to `request` to: `.finished` when the answer is to be
    /// ignored (the request was cancelled or the machine is done).
    private func pendingState(for request: ResolutionRequestID) throws(MultiaddrResolutionUsageError) -> State {
        guard request.rawValue < nextRequestID else { throw .unknownRequest(request) }
        guard case .resolving(let resolving) = state, resolving.pending[request] != nil else { return .finished }
        return state
    }

    /// A new request ID.
    mutating func makeRequestID() -> ResolutionRequestID {
        defer { nextRequestID += 1 }
        return ResolutionRequestID(rawValue: nextRequestID)
    }

    /// Emits the event once no lookup is outstanding.
    private mutating func finishIfDone(_ resolving: Resolving) {
        guard resolving.pending.isEmpty else { return }
        let result = resolving.tree.result(limit: limits.maximumAddresses)
        event = result.addresses.isEmpty ? .failed(result.firstFailure ?? .noAddresses) : .resolved(result.addresses)
        state = .finished
    }
}
