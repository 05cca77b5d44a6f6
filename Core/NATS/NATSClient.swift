import DequeModule

/// A sans-IO client of the NATS core protocol (plain text over one TCP connection): reads
/// INFO, sends CONNECT and a PING, and is connected at the PONG; then subscribes, publishes,
/// receives messages, answers the server's PINGs and keeps the connection alive with its own.
///
/// ```
/// < INFO {…}                       (within connectTimeout, with the PONG below)
/// > CONNECT {"verbose":false,…}    > PING
/// < PONG                           → connected(info)
/// > SUB / UNSUB / PUB …            < MSG … → message(…)
/// < PING → > PONG                  > PING every pingInterval; maximumOutstandingPings unanswered → closed(.staleConnection)
/// < -ERR '…'                       → error(…) or, when fatal, closed(.server(…))
/// ```
///
/// Commands are accepted once INFO arrived (they go out after CONNECT, in order). A payload
/// over the server's `max_payload` is refused with `payloadTooLarge` and never sent (the
/// server would close the connection). Output is bounded by `maximumPendingOutput`.
public struct NATSClient: ByteStreamMachine {
    public typealias Event = NATSClientEvent

    private enum Phase { case awaitingInfo, awaitingPong, connected, closed }

    private struct Subscription {
        var subject: String
        var delivered: Int = 0
        /// UNSUB with a maximum: the subscription ends after this many messages.
        var maximumMessages: Int?
    }

    /// The configuration.
    public let configuration: NATSClientConfiguration
    /// The most PONG and PING bytes queued beyond `maximumPendingOutput` before the server
    /// is cut off for making this side queue replies it does not read.
    public static let controlOutputReserve = 64 * 1024

    private var phase = Phase.awaitingInfo
    private var parser: NATSServerOperationParser
    private var output = ByteBuffer()
    private var events: Deque<NATSClientEvent> = []
    private var info: NATSServerInfo?
    private let connectDeadline: Instant
    private var nextPingAt: Instant?
    private var outstandingPings = 0
    private var nextSubscription: UInt64 = 1
    private var subscriptions: [NATSSubscriptionID: Subscription] = [:]
    private var writableWanted = false

    /// A client whose socket to the server just connected at `now`.
    public init(now: Instant, configuration: NATSClientConfiguration = .init()) {
        self.configuration = configuration
        parser = NATSServerOperationParser(
            maximumControlLineLength: configuration.maximumControlLineLength,
            maximumPayloadLength: configuration.maximumMessagePayload)
        connectDeadline = now + configuration.connectTimeout
    }

    /// The server's latest INFO, once it arrived.
    public var serverInfo: NATSServerInfo? { info }
    /// Whether the server answered the first PING (the `connected` event was queued).
    public var isConnected: Bool { if case .connected = phase { true } else { false } }
    /// Whether the connection ended.
    public var isClosed: Bool { if case .closed = phase { true } else { false } }
    /// Bytes waiting in `pollTransmit`.
    public var pendingOutputCount: Int { output.readableCount }
    /// Active subscriptions.
    public var subscriptionCount: Int { subscriptions.count }

    /// Whether `publish` would take a message with this payload and subject now (connected
    /// enough, within `max_payload` and the output limit).
    public func canPublish(payloadCount: Int, subjectLength: Int, replyLength: Int = 0) -> Bool {
        guard let info, phase == .awaitingPong || phase == .connected, payloadCount <= info.maximumPayload else { return false }
        return output.readableCount + Self.publishOverhead(subjectLength: subjectLength, replyLength: replyLength) + payloadCount
            <= configuration.maximumPendingOutput
    }

    // MARK: Input

    /// Feeds bytes from the server.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard phase != .closed else { return }
        parser.append(bytes)
        while phase != .closed {
            let operation: NATSServerOperation?
            do {
                operation = try parser.next()
            } catch {
                fail(.protocolViolation(error))
                return
            }
            guard let operation else { return }
            handle(operation, now: now)
        }
    }

    /// The socket closed: the connection ends with `transportClosed` (unless it already ended).
    public mutating func transportClosed(now: Instant) {
        guard phase != .closed else { return }
        fail(.transportClosed)
    }

    /// Acts on the connect deadline and the keepalive PING.
    public mutating func handleTimeout(now: Instant) {
        switch phase {
        case .awaitingInfo, .awaitingPong:
            if now >= connectDeadline { fail(.connectTimeout) }
        case .connected:
            guard let due = nextPingAt, now >= due else { return }
            if outstandingPings >= configuration.maximumOutstandingPings {
                fail(.staleConnection)
                return
            }
            queueControl("PING\r\n")
            outstandingPings += 1
            nextPingAt = now + configuration.pingInterval
        case .closed:
            return
        }
    }

    // MARK: Commands

    /// Subscribes to `subject` (wildcards allowed), optionally in a queue group; messages
    /// arrive as `message` events with the returned ID.
    public mutating func subscribe(
        to subject: String, queueGroup: String? = nil, now: Instant
    ) throws(NATSClientUsageError) -> NATSSubscriptionID {
        try checkReady()
        guard NATSSubject.isValid(subject, allowWildcards: true, maximumLength: configuration.maximumSubjectLength) else {
            throw .invalidSubject(subject)
        }
        if let queueGroup, !NATSSubject.isValidQueueGroup(queueGroup, maximumLength: configuration.maximumSubjectLength) {
            throw .invalidSubject(queueGroup)
        }
        guard subscriptions.count < configuration.maximumSubscriptions else { throw .tooManySubscriptions }
        let id = NATSSubscriptionID(rawValue: nextSubscription)
        var line = "SUB \(subject) "
        if let queueGroup { line += "\(queueGroup) " }
        line += "\(id.rawValue)\r\n"
        guard output.readableCount + line.utf8.count <= configuration.maximumPendingOutput else {
            writableWanted = true
            throw .outputFull
        }
        nextSubscription += 1
        subscriptions[id] = Subscription(subject: subject)
        output.append(Array(line.utf8))
        return id
    }

    /// Ends a subscription: at once, or (with `afterMessages`) once that many messages in
    /// all were delivered for it.
    public mutating func unsubscribe(
        _ id: NATSSubscriptionID, afterMessages: Int? = nil, now: Instant
    ) throws(NATSClientUsageError) {
        try checkReady()
        guard var subscription = subscriptions[id] else { throw .unknownSubscription(id) }
        var line = "UNSUB \(id.rawValue)"
        if let afterMessages, afterMessages > 0 { line += " \(afterMessages)" }
        line += "\r\n"
        guard output.readableCount + line.utf8.count <= configuration.maximumPendingOutput else {
            writableWanted = true
            throw .outputFull
        }
        output.append(Array(line.utf8))
        if let afterMessages, afterMessages > subscription.delivered {
            subscription.maximumMessages = afterMessages
            subscriptions[id] = subscription
        } else {
            subscriptions[id] = nil
        }
    }

    /// Publishes `payload` to `subject` (no wildcards), optionally with a reply subject.
    /// A payload over the server's `max_payload` is refused (`payloadTooLarge`) and not sent.
    public mutating func publish(
        to subject: String, replyTo: String? = nil, payload: Span<UInt8>, now: Instant
    ) throws(NATSClientUsageError) {
        try checkReady()
        guard NATSSubject.isValid(subject, allowWildcards: false, maximumLength: configuration.maximumSubjectLength) else {
            throw .invalidSubject(subject)
        }
        if let replyTo, !NATSSubject.isValid(replyTo, allowWildcards: false, maximumLength: configuration.maximumSubjectLength) {
            throw .invalidSubject(replyTo)
        }
        let maximum = info?.maximumPayload ?? 0
        guard payload.count <= maximum else { throw .payloadTooLarge(size: payload.count, maximum: maximum) }
        var line = "PUB \(subject) "
        if let replyTo { line += "\(replyTo) " }
        line += "\(payload.count)\r\n"
        guard output.readableCount + line.utf8.count + payload.count + 2 <= configuration.maximumPendingOutput else {
            writableWanted = true
            throw .outputFull
        }
        output.append(Array(line.utf8))
        output.append(payload)
        output.append(Self.crlf)
    }

    /// Ends the connection locally: `closed(nil)` follows. Output already queued stays
    /// in `pollTransmit`; the driver sends it and then closes the socket.
    public mutating func close(now: Instant) {
        guard phase != .closed else { return }
        phase = .closed
        events.append(.closed(nil))
    }

    // MARK: Output

    /// Appends the bytes for the server.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = output.read(into: &buffer)
        if count > 0, writableWanted, phase != .closed {
            writableWanted = false
            events.append(.writable)
        }
        return count
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> NATSClientEvent? { events.popFirst() }

    /// The connect deadline, then the next keepalive PING.
    public var nextDeadline: Instant? {
        switch phase {
        case .awaitingInfo, .awaitingPong: connectDeadline
        case .connected: nextPingAt
        case .closed: nil
        }
    }

    // MARK: Internals

    private static let crlf: [UInt8] = [13, 10]

    /// The bytes of `PUB <subject> [reply] <size>\r\n` and the final CRLF, bounded above.
    static func publishOverhead(subjectLength: Int, replyLength: Int) -> Int {
        4 + subjectLength + 1 + (replyLength > 0 ? replyLength + 1 : 0) + 20 + 2 + 2
    }

    private func checkReady() throws(NATSClientUsageError) {
        switch phase {
        case .awaitingInfo: throw .notConnected
        case .closed: throw .closed
        case .awaitingPong, .connected: return
        }
    }

    private mutating func handle(_ operation: NATSServerOperation, now: Instant) {
        if phase == .awaitingInfo {
            switch operation {
            case .info, .error: break
            case .message, .oversizedMessage: return fail(.protocolViolation(.unexpectedOperation("MSG")))
            case .ping: return fail(.protocolViolation(.unexpectedOperation("PING")))
            case .pong: return fail(.protocolViolation(.unexpectedOperation("PONG")))
            case .ok: return fail(.protocolViolation(.unexpectedOperation("+OK")))
            }
        }
        switch operation {
        case .info(let newInfo):
            info = newInfo
            guard phase == .awaitingInfo else {
                events.append(.infoUpdated(newInfo))
                return
            }
            guard !newInfo.tlsRequired else { return fail(.tlsRequired) }
            // CONNECT goes before anything a command queued after this point.
            output.append(Array(connectLine().utf8))
            output.append(Array("PING\r\n".utf8))
            outstandingPings = 1
            phase = .awaitingPong
        case .ping:
            queueControl("PONG\r\n")
        case .pong:
            outstandingPings = max(0, outstandingPings - 1)
            if phase == .awaitingPong, let info {
                phase = .connected
                outstandingPings = 0
                nextPingAt = now + configuration.pingInterval
                events.append(.connected(info))
            }
        case .ok:
            break
        case .error(let error):
            if error.isFatal { fail(.server(error)) } else { events.append(.error(error)) }
        case .message(let message):
            guard countDelivery(message.subscription) else { return }
            events.append(.message(message))
        case .oversizedMessage(let subject, let subscription, let size):
            guard countDelivery(subscription) else { return }
            events.append(.messageDropped(subject: subject, subscription: subscription, size: size))
        }
    }

    /// Counts a message for its subscription; false when the subscription is not active
    /// (a message in flight when it ended).
    private mutating func countDelivery(_ id: NATSSubscriptionID) -> Bool {
        guard var subscription = subscriptions[id] else { return false }
        subscription.delivered += 1
        if let maximum = subscription.maximumMessages, subscription.delivered >= maximum {
            subscriptions[id] = nil
        } else {
            subscriptions[id] = subscription
        }
        return true
    }

    private mutating func queueControl(_ line: String) {
        guard output.readableCount + line.utf8.count <= configuration.maximumPendingOutput + Self.controlOutputReserve else {
            return fail(.pendingOutputExceeded)
        }
        output.append(Array(line.utf8))
    }

    private mutating func fail(_ error: NATSClientError) {
        phase = .closed
        output.removeAll()
        events.append(.closed(error))
    }

    /// `CONNECT {…}\r\n`: not verbose, not pedantic, no headers, protocol 1 (asynchronous INFO).
    private func connectLine() -> String {
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\(Self.jsonString(configuration.name)),"
            + "\"lang\":\"swift\",\"version\":\(Self.jsonString(configuration.version)),\"protocol\":1,\"headers\":false}\r\n"
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
