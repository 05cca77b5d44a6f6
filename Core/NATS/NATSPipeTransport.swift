import DequeModule

/// Settings of a `NATSPipeTransport`.
public struct NATSPipeTransportConfiguration: Hashable, Sendable {
    /// The NATS client's settings.
    public var client = NATSClientConfiguration()
    /// The router's and pipes' settings.
    public var router = NATSPipeRouterConfiguration()
    /// Frames are made only while the client's output holds less than this, so bytes wait
    /// in the pipes (where credit bounds them) rather than in the client.
    public var outputHighWater = 256 * 1024
    /// The smallest server `max_payload` the transport works with.
    public static let minimumServerPayload = 1024

    /// The defaults.
    public init() {}
}

/// Why a `NATSPipeTransport` ended.
public enum NATSPipeTransportError: Error, Hashable, Sendable {
    /// The NATS connection ended.
    case client(NATSClientError)
    /// The server's `max_payload` is below `minimumServerPayload`.
    case serverPayloadTooSmall(Int)
    /// The server refused the subscription to the inbound subject (permissions).
    case subscriptionRefused(NATSServerError)
}

extension NATSPipeTransportError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .client(let error): error.description
        case .serverPayloadTooSmall(let size): "NATS server max_payload of \(size) bytes is too small for pipes"
        case .subscriptionRefused(let error): "NATS subscription refused: \(error)"
        }
    }
}

/// What a `NATSPipeTransport` reports.
public enum NATSPipeTransportEvent: Hashable, Sendable {
    /// Connected and subscribed to the inbound subject: pipes can be opened and accepted.
    case connected(NATSServerInfo)
    /// A peer opened a pipe and it was accepted.
    case inbound(NATSPipeID, remote: PeerID)
    /// An event of one pipe; after `closed` or `failed` it is gone.
    case pipe(NATSPipeID, NATSPipeEvent)
    /// A non-fatal server error (a permissions violation on publish, say).
    case serverError(NATSServerError)
    /// The transport ended (`nil`: closed locally); every pipe failed with
    /// `transportClosed` before. The last event.
    case closed(NATSPipeTransportError?)
}

/// The NATS tier's transport: one connection to a NATS server (`NATSClient`) carrying this
/// node's pipes (`NATSPipeRouter`). It subscribes to `<prefix>.<local ID>` once connected,
/// feeds the messages that arrive there to the router, and publishes the pipes' frames while
/// the client's output is below `outputHighWater`.
///
/// The driver runs it like any socket machine (bytes of the socket in, `pollTransmit` out,
/// timers); the swarm runs one `Connection` per pipe over `write`/`read`, exactly as it runs
/// a relayed connection over its carrier stream.
public struct NATSPipeTransport: ByteStreamMachine {
    public typealias Event = NATSPipeTransportEvent

    /// The configuration.
    public let configuration: NATSPipeTransportConfiguration
    /// The NATS client (read its state; the transport drives it).
    public private(set) var client: NATSClient
    /// The router (read its state; the transport drives it).
    public private(set) var router: NATSPipeRouter

    private var subscription: NATSSubscriptionID?
    private var events: Deque<NATSPipeTransportEvent> = []
    private var frame: [UInt8] = []
    private var ended = false
    private var latestInput: Instant

    /// A transport for `local` whose socket to the NATS server just connected.
    public init(local: PeerID, now: Instant, configuration: NATSPipeTransportConfiguration = .init()) {
        self.configuration = configuration
        latestInput = now
        client = NATSClient(now: now, configuration: configuration.client)
        router = NATSPipeRouter(local: local, configuration: configuration.router)
    }

    /// Whether pipes can be opened: connected and subscribed.
    public var isReady: Bool { subscription != nil && client.isConnected }

    // MARK: Socket side

    /// Feeds bytes from the NATS server.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        latestInput = max(latestInput, now)
        client.receive(bytes, now: now)
        processClientEvents()
    }

    /// The socket closed.
    public mutating func transportClosed(now: Instant) {
        latestInput = max(latestInput, now)
        client.transportClosed(now: now)
        processClientEvents()
    }

    /// Acts on the client's and the pipes' timers.
    public mutating func handleTimeout(now: Instant) {
        latestInput = max(latestInput, now)
        client.handleTimeout(now: now)
        processClientEvents()
        router.handleTimeout(now: now)
        moveRouterEvents()
    }

    /// Publishes what the pipes have (while the client's output is below the high-water
    /// mark) and appends the client's bytes for the socket.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        pump()
        let count = client.pollTransmit(into: &buffer)
        processClientEvents()
        return count
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> NATSPipeTransportEvent? { events.popFirst() }

    /// The earliest of the client's and the pipes' deadlines.
    public var nextDeadline: Instant? {
        ended ? nil : client.nextDeadline.earliest(router.nextDeadline)
    }

    /// Resets every pipe (`shutdown`), queues their RESETs and closes the connection: send
    /// what `pollTransmit` gives, then close the socket.
    public mutating func close(now: Instant) {
        latestInput = max(latestInput, now)
        guard !ended else { return }
        router.resetAll(code: .shutdown, now: now)
        pump()
        client.close(now: now)
        processClientEvents()
    }

    // MARK: Pipe side

    /// Opens a pipe to `remote` (session ID from `generator`).
    public mutating func open(
        to remote: PeerID, now: Instant, using generator: inout some RandomNumberGenerator
    ) throws(NATSPipeUsageError) -> NATSPipeID {
        latestInput = max(latestInput, now)
        guard isReady, !ended else { throw .notConnected }
        return try router.open(to: remote, now: now, using: &generator)
    }

    /// Writes to a pipe; returns how many bytes it took (`writable` follows a short write).
    public mutating func write(_ id: NATSPipeID, _ bytes: Span<UInt8>, now: Instant) throws(NATSPipeUsageError) -> Int {
        latestInput = max(latestInput, now)
        defer { moveRouterEvents() }
        return try router.write(id, bytes, now: now)
    }

    /// Reads from a pipe.
    public mutating func read(
        _ id: NATSPipeID, into destination: inout [UInt8], maximum: Int = .max, now: Instant
    ) throws(NATSPipeUsageError) -> NATSPipeReadResult {
        latestInput = max(latestInput, now)
        defer { moveRouterEvents() }
        return try router.read(id, into: &destination, maximum: maximum, now: now)
    }

    /// Half-closes a pipe.
    public mutating func closeWrite(_ id: NATSPipeID, now: Instant) throws(NATSPipeUsageError) {
        latestInput = max(latestInput, now)
        defer { moveRouterEvents() }
        try router.closeWrite(id, now: now)
    }

    /// Resets a pipe.
    public mutating func reset(_ id: NATSPipeID, now: Instant) throws(NATSPipeUsageError) {
        latestInput = max(latestInput, now)
        defer { moveRouterEvents() }
        try router.reset(id, now: now)
    }

    // MARK: Internals

    private mutating func pump() {
        guard isReady, let maximumPayload = client.serverInfo?.maximumPayload else { return }
        let frameLimit = min(maximumPayload, configuration.router.pipe.maximumFramePayload + 256)
        while client.pendingOutputCount < configuration.outputHighWater,
              client.canPublish(payloadCount: frameLimit, subjectLength: configuration.router.subjectPrefix.utf8.count + 64)
        {
            frame.removeAll(keepingCapacity: true)
            guard let subject = router.pollPublish(into: &frame, maximumPayload: frameLimit) else { break }
            // The subject is valid and the frame within the limits checked above.
            let payload = frame
            try? client.publish(to: subject, payload: payload.span, now: latestInput)
        }
        moveRouterEvents()
    }

    private mutating func processClientEvents() {
        let now = latestInput
        while let event = client.pollEvent() {
            switch event {
            case .connected(let info):
                guard info.maximumPayload >= NATSPipeTransportConfiguration.minimumServerPayload else {
                    end(.serverPayloadTooSmall(info.maximumPayload))
                    return
                }
                subscription = try? client.subscribe(to: router.inboundSubject, now: now)
                if subscription == nil {
                    end(.client(.pendingOutputExceeded))
                    return
                }
                events.append(.connected(info))
            case .message(let message):
                guard message.subscription == subscription else { continue }
                router.receive(message.payload, now: now)
            case .error(let error):
                if case .permissionsViolation(let text) = error, text.contains(router.inboundSubject), text.lowercased().contains("subscription") {
                    end(.subscriptionRefused(error))
                    return
                }
                events.append(.serverError(error))
            case .closed(let error):
                end(error.map { .client($0) })
                return
            case .infoUpdated, .messageDropped, .writable:
                continue
            }
        }
        moveRouterEvents()
    }

    private mutating func end(_ error: NATSPipeTransportError?) {
        guard !ended else { return }
        ended = true
        router.transportClosed(now: latestInput)
        moveRouterEvents()
        if !client.isClosed { client.close(now: latestInput) }
        while client.pollEvent() != nil {}
        events.append(.closed(error))
    }

    private mutating func moveRouterEvents() {
        while let event = router.pollEvent() {
            switch event {
            case .inbound(let id, let remote): events.append(.inbound(id, remote: remote))
            case .pipe(let id, let pipeEvent): events.append(.pipe(id, pipeEvent))
            }
        }
    }
}
