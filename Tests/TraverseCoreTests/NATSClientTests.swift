import Testing
@testable import TraverseCore

@Suite struct NATSClientTests {
    static func info(maximumPayload: Int = 1024, extra: String = "") -> [UInt8] {
        Array(#"INFO {"server_id":"S1","version":"2.9.10","proto":1,"headers":true,"max_payload":\#(maximumPayload)\#(extra)} "#.utf8)
            + [13, 10]
    }

    static func output(_ client: inout NATSClient) -> String {
        var bytes: [UInt8] = []
        while client.pollTransmit(into: &bytes) > 0 {}
        return String(decoding: bytes, as: UTF8.self)
    }

    static func events(_ client: inout NATSClient) -> [NATSClientEvent] {
        var events: [NATSClientEvent] = []
        while let event = client.pollEvent() { events.append(event) }
        return events
    }

    static func feed(_ client: inout NATSClient, _ text: String, now: Instant = .zero) {
        client.receive(Array(text.utf8).span, now: now)
    }

    /// A client through the handshake at `now`, its output and events drained.
    static func connected(
        configuration: NATSClientConfiguration = .init(), maximumPayload: Int = 1024, now: Instant = .zero
    ) -> NATSClient {
        var client = NATSClient(now: now, configuration: configuration)
        client.receive(info(maximumPayload: maximumPayload).span, now: now)
        _ = output(&client)
        feed(&client, "PONG\r\n", now: now)
        _ = events(&client)
        return client
    }

    @Test func handshakeSendsConnectAndPingAndConnectsAtPong() {
        var configuration = NATSClientConfiguration()
        configuration.name = "node \"1\""
        configuration.version = "1.2.3"
        var client = NATSClient(now: .zero, configuration: configuration)
        #expect(Self.output(&client).isEmpty, "the server speaks first")
        #expect(client.nextDeadline == .zero + .seconds(5))
        #expect(throws: NATSClientUsageError.notConnected) { try client.subscribe(to: "a", now: .zero) }
        client.receive(Self.info().span, now: .zero)
        #expect(Self.output(&client) == #"CONNECT {"verbose":false,"pedantic":false,"name":"node \"1\"","lang":"swift","version":"1.2.3","protocol":1,"headers":false}"#
            + "\r\nPING\r\n")
        #expect(Self.events(&client).isEmpty && !client.isConnected)
        // Commands are accepted once INFO is in; they follow CONNECT.
        let sid = try? client.subscribe(to: "inbox.>", now: .zero)
        #expect(Self.output(&client) == "SUB inbox.> 1\r\n")
        Self.feed(&client, "PONG\r\n")
        let events = Self.events(&client)
        #expect(events == [.connected(NATSServerInfo(serverID: "S1", version: "2.9.10", protocolVersion: 1, maximumPayload: 1024, headers: true))])
        #expect(client.isConnected && sid == NATSSubscriptionID(rawValue: 1))
        #expect(client.nextDeadline == .zero + .seconds(30), "the keepalive timer")
    }

    @Test func connectTimeoutWithoutInfo() {
        var client = NATSClient(now: .zero)
        client.handleTimeout(now: .zero + .seconds(4))
        #expect(Self.events(&client).isEmpty)
        client.handleTimeout(now: .zero + .seconds(5))
        #expect(Self.events(&client) == [.closed(.connectTimeout)])
        #expect(client.isClosed && client.nextDeadline == nil)
    }

    @Test func connectTimeoutWithoutPong() {
        var client = NATSClient(now: .zero)
        client.receive(Self.info().span, now: .zero + .seconds(1))
        client.handleTimeout(now: .zero + .seconds(5))
        #expect(Self.events(&client) == [.closed(.connectTimeout)])
    }

    @Test func keepalivePingsAndFailsAfterOutstandingPings() {
        var client = Self.connected()
        let interval = Duration.seconds(30)
        client.handleTimeout(now: .zero + .seconds(29))
        #expect(Self.output(&client).isEmpty)
        client.handleTimeout(now: .zero + interval)
        #expect(Self.output(&client) == "PING\r\n")
        Self.feed(&client, "PONG\r\n", now: .zero + .seconds(31))
        // Answered: the next two go unanswered, the third tick ends the connection.
        client.handleTimeout(now: .zero + interval * 2)
        #expect(Self.output(&client) == "PING\r\n")
        client.handleTimeout(now: .zero + interval * 3)
        #expect(Self.output(&client) == "PING\r\n")
        #expect(Self.events(&client).isEmpty)
        #expect(client.nextDeadline == Instant.zero + interval * 4)
        client.handleTimeout(now: .zero + interval * 4)
        #expect(Self.events(&client) == [.closed(.staleConnection)])
        #expect(Self.output(&client).isEmpty)
    }

    @Test func serverPingIsAnswered() {
        var client = Self.connected()
        Self.feed(&client, "PING\r\nping\r\n")
        #expect(Self.output(&client) == "PONG\r\nPONG\r\n")
        #expect(Self.events(&client).isEmpty)
    }

    @Test func serverPingFloodWhileOutputIsNotDrainedIsCutOff() {
        var configuration = NATSClientConfiguration()
        configuration.maximumPendingOutput = 1024
        var client = Self.connected(configuration: configuration)
        let pings = String(repeating: "PING\r\n", count: (1024 + NATSClient.controlOutputReserve) / 6 + 2)
        Self.feed(&client, pings)
        #expect(Self.events(&client) == [.closed(.pendingOutputExceeded)])
    }

    @Test func publishFormatsAndRefusesPayloadsOverMaxPayload() throws {
        var client = Self.connected(maximumPayload: 16)
        try client.publish(to: "a.b", payload: Array("hello".utf8).span, now: .zero)
        try client.publish(to: "a.b", replyTo: "r.1", payload: [UInt8]().span, now: .zero)
        try client.publish(to: "a.b", payload: [UInt8](repeating: 120, count: 16).span, now: .zero)
        #expect(Self.output(&client) == "PUB a.b 5\r\nhello\r\nPUB a.b r.1 0\r\n\r\nPUB a.b 16\r\n" + String(repeating: "x", count: 16) + "\r\n")
        #expect(throws: NATSClientUsageError.payloadTooLarge(size: 17, maximum: 16)) {
            try client.publish(to: "a.b", payload: [UInt8](repeating: 0, count: 17).span, now: .zero)
        }
        #expect(Self.output(&client).isEmpty, "nothing of it was sent")
        #expect(!client.canPublish(payloadCount: 17, subjectLength: 3) && client.canPublish(payloadCount: 16, subjectLength: 3))
        #expect(client.isConnected)
    }

    @Test(arguments: ["", "a..b", ".a", "a.", "a b", "a\tb", "a.*", "a.>", "*", ">"])
    func publishRejectsInvalidSubjects(_ subject: String) {
        var client = Self.connected()
        #expect(throws: NATSClientUsageError.invalidSubject(subject)) {
            try client.publish(to: subject, payload: [1].span, now: .zero)
        }
    }

    @Test func subscriptionSubjectsAndQueueGroups() throws {
        var client = Self.connected()
        _ = try client.subscribe(to: "a.*.c", now: .zero)
        _ = try client.subscribe(to: "a.>", queueGroup: "workers", now: .zero)
        #expect(Self.output(&client) == "SUB a.*.c 1\r\nSUB a.> workers 2\r\n")
        for bad in ["a.>.c", "a..b", "a b", ""] {
            #expect(throws: NATSClientUsageError.invalidSubject(bad)) { try client.subscribe(to: bad, now: .zero) }
        }
        #expect(throws: NATSClientUsageError.invalidSubject("two words")) {
            try client.subscribe(to: "a", queueGroup: "two words", now: .zero)
        }
    }

    @Test func messagesGoToActiveSubscriptionsOnly() throws {
        var client = Self.connected()
        let sid = try client.subscribe(to: "a", now: .zero)
        let other = try client.subscribe(to: "b", now: .zero)
        try client.unsubscribe(other, now: .zero)
        try client.unsubscribe(sid, afterMessages: 2, now: .zero)
        #expect(Self.output(&client) == "SUB a 1\r\nSUB b 2\r\nUNSUB 2\r\nUNSUB 1 2\r\n")
        Self.feed(&client, "MSG a 1 r 1\r\nx\r\nMSG b 2 1\r\ny\r\nMSG a 9 1\r\nz\r\nMSG a 1 1\r\nw\r\nMSG a 1 1\r\nv\r\n")
        #expect(Self.events(&client) == [
            .message(NATSMessage(subject: "a", subscription: sid, replyTo: "r", payload: [120])),
            .message(NATSMessage(subject: "a", subscription: sid, payload: [119])),
        ])
        #expect(client.subscriptionCount == 0)
        #expect(throws: NATSClientUsageError.unknownSubscription(sid)) { try client.unsubscribe(sid, now: .zero) }
    }

    @Test func oversizedMessagesAreDroppedAndReported() throws {
        var configuration = NATSClientConfiguration()
        configuration.maximumMessagePayload = 4
        var client = Self.connected(configuration: configuration)
        let sid = try client.subscribe(to: "a", now: .zero)
        Self.feed(&client, "MSG a 1 5\r\n12345\r\nMSG a 1 4\r\n1234\r\n")
        #expect(Self.events(&client) == [
            .messageDropped(subject: "a", subscription: sid, size: 5),
            .message(NATSMessage(subject: "a", subscription: sid, payload: Array("1234".utf8))),
        ])
        #expect(client.isConnected)
    }

    @Test func subscriptionLimit() throws {
        var configuration = NATSClientConfiguration()
        configuration.maximumSubscriptions = 2
        var client = Self.connected(configuration: configuration)
        let first = try client.subscribe(to: "a", now: .zero)
        _ = try client.subscribe(to: "b", now: .zero)
        #expect(throws: NATSClientUsageError.tooManySubscriptions) { try client.subscribe(to: "c", now: .zero) }
        try client.unsubscribe(first, now: .zero)
        let third = try client.subscribe(to: "c", now: .zero)
        #expect(third == NATSSubscriptionID(rawValue: 3), "IDs are not reused")
    }

    @Test func outputLimitRefusesAndThenSignalsWritable() throws {
        var configuration = NATSClientConfiguration()
        configuration.maximumPendingOutput = 64
        var client = Self.connected(configuration: configuration)
        let payload = [UInt8](repeating: 1, count: 40)
        try client.publish(to: "a", payload: payload.span, now: .zero)
        #expect(throws: NATSClientUsageError.outputFull) { try client.publish(to: "a", payload: payload.span, now: .zero) }
        #expect(client.pendingOutputCount == 52)
        _ = Self.output(&client)
        #expect(Self.events(&client) == [.writable])
        try client.publish(to: "a", payload: payload.span, now: .zero)
    }

    @Test func fatalAndNonFatalServerErrors() {
        var client = Self.connected()
        Self.feed(&client, "-ERR 'Permissions Violation for Publish to \"x\"'\r\n-ERR 'Invalid Subject'\r\n")
        #expect(Self.events(&client) == [.error(.permissionsViolation("Permissions Violation for Publish to \"x\"")), .error(.invalidSubject)])
        #expect(client.isConnected)
        Self.feed(&client, "-ERR 'Maximum Payload Violation'\r\nPING\r\n")
        #expect(Self.events(&client) == [.closed(.server(.maximumPayloadViolation))])
        #expect(Self.output(&client).isEmpty, "nothing after a fatal error")
        #expect(throws: NATSClientUsageError.closed) { try client.publish(to: "a", payload: [1].span, now: .zero) }
    }

    @Test func errorBeforeInfoAndAuthorizationFailure() {
        var client = NATSClient(now: .zero)
        client.receive(Self.info(extra: #","auth_required":true"#).span, now: .zero)
        _ = Self.output(&client)
        Self.feed(&client, "-ERR 'Authorization Violation'\r\n")
        #expect(Self.events(&client) == [.closed(.server(.authorizationViolation))])
    }

    @Test func tlsRequiredIsRefused() {
        var client = NATSClient(now: .zero)
        client.receive(Self.info(extra: #","tls_required":true"#).span, now: .zero)
        #expect(Self.output(&client).isEmpty, "no CONNECT in the clear")
        #expect(Self.events(&client) == [.closed(.tlsRequired)])
    }

    @Test func operationsBeforeInfoAreViolations() {
        var client = NATSClient(now: .zero)
        Self.feed(&client, "PING\r\n")
        #expect(Self.events(&client) == [.closed(.protocolViolation(.unexpectedOperation("PING")))])
        var garbage = NATSClient(now: .zero)
        Self.feed(&garbage, "HTTP/1.1 400 Bad Request\r\n")
        #expect(Self.events(&garbage) == [.closed(.protocolViolation(.unknownOperation("HTTP/1.1")))])
    }

    @Test func laterInfoUpdatesTheLimits() throws {
        var client = Self.connected(maximumPayload: 8)
        client.receive(Self.info(maximumPayload: 32).span, now: .zero)
        #expect(Self.events(&client) == [.infoUpdated(NATSServerInfo(serverID: "S1", version: "2.9.10", protocolVersion: 1, maximumPayload: 32, headers: true))])
        #expect(Self.output(&client).isEmpty, "no second CONNECT")
        try client.publish(to: "a", payload: [UInt8](repeating: 0, count: 32).span, now: .zero)
    }

    @Test func closeAndTransportClosed() {
        var client = Self.connected()
        client.close(now: .zero)
        client.transportClosed(now: .zero)
        #expect(Self.events(&client) == [.closed(nil)])
        var other = Self.connected()
        other.transportClosed(now: .zero)
        #expect(Self.events(&other) == [.closed(.transportClosed)])
    }

    @Test func connectJSONEscapesControlCharacters() {
        #expect(NATSClient.jsonString("a\u{1}\\\n") == #""a\u0001\\\n""#)
    }
}
