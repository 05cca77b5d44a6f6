import Testing
@testable import TraverseCore

@Suite struct NATSParserTests {
    /// What nats-server 2.9 sends first (note the blank before CRLF).
    static let info = Array(
        #"INFO {"server_id":"NB4B","server_name":"n1","version":"2.9.10","proto":1,"go":"go1.19.8","host":"127.0.0.1","port":4222,"headers":true,"max_payload":4096,"client_id":4} "#
            .utf8) + [13, 10]

    /// Every operation once, as a server would send them.
    static let stream: [UInt8] = info + Array(
        ("PING\r\nPONG\r\n+OK\r\nMSG a.b 1 r.x 5\r\nhello\r\nMSG a.b 22 0\r\n\r\n"
            + "-ERR 'Invalid Subject'\r\nmsg\ta.b\t3\t\t2\r\nhi\r\n-ERR 'Stale Connection'\r\n").utf8)

    static let expected: [NATSServerOperation] = [
        .info(NATSServerInfo(serverID: "NB4B", serverName: "n1", version: "2.9.10", protocolVersion: 1, maximumPayload: 4096, headers: true)),
        .ping, .pong, .ok,
        .message(NATSMessage(subject: "a.b", subscription: NATSSubscriptionID(rawValue: 1), replyTo: "r.x", payload: Array("hello".utf8))),
        .message(NATSMessage(subject: "a.b", subscription: NATSSubscriptionID(rawValue: 22), payload: [])),
        .error(.invalidSubject),
        .message(NATSMessage(subject: "a.b", subscription: NATSSubscriptionID(rawValue: 3), payload: Array("hi".utf8))),
        .error(.staleConnection),
    ]

    /// Feeds `pieces` and collects operations until the first error.
    static func parse(
        _ pieces: [[UInt8]], parser: NATSServerOperationParser = .init()
    ) -> (operations: [NATSServerOperation], error: NATSProtocolError?) {
        var parser = parser
        var operations: [NATSServerOperation] = []
        for piece in pieces {
            parser.append(piece.span)
            do {
                while let operation = try parser.next() { operations.append(operation) }
            } catch {
                return (operations, error)
            }
        }
        return (operations, nil)
    }

    @Test func everyOperationParses() {
        let (operations, error) = Self.parse([Self.stream])
        #expect(error == nil)
        #expect(operations == Self.expected)
    }

    @Test func splitAtEveryByteBoundaryGivesTheSameOperations() {
        for split in 0...Self.stream.count {
            let (operations, error) = Self.parse([Array(Self.stream[..<split]), Array(Self.stream[split...])])
            #expect(error == nil && operations == Self.expected, "split at \(split)")
        }
        let (bytewise, error) = Self.parse(Self.stream.map { [$0] })
        #expect(error == nil && bytewise == Self.expected)
    }

    @Test func incompleteInputWaits() {
        var parser = NATSServerOperationParser()
        parser.append(Array("MSG a 1 5\r\nhel".utf8).span)
        #expect((try? parser.next()) == .some(nil))
        parser.append(Array("lo\r".utf8).span)
        #expect((try? parser.next()) == .some(nil))
        parser.append(Array("\n".utf8).span)
        #expect((try? parser.next()) == .message(NATSMessage(subject: "a", subscription: NATSSubscriptionID(rawValue: 1), payload: Array("hello".utf8))))
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func controlLineLimit() {
        let limit = 64
        let parser = NATSServerOperationParser(maximumControlLineLength: limit)
        let atLimit = "-ERR '" + String(repeating: "x", count: limit - 7) + "'"
        #expect(atLimit.utf8.count == limit)
        let (operations, error) = Self.parse([Array((atLimit + "\r\n").utf8)], parser: parser)
        #expect(error == nil && operations.count == 1)
        let over = Array(("-ERR '" + String(repeating: "x", count: limit) + "'\r\n").utf8)
        #expect(Self.parse([over], parser: parser).error == .controlLineTooLong(limit: limit))
        // Without a line end the parser gives up once the limit is buffered, not later.
        let endless = [UInt8](repeating: 65, count: limit + 2)
        #expect(Self.parse(endless.map { [$0] }, parser: parser).error == .controlLineTooLong(limit: limit))
        #expect(Self.parse([Array(endless.dropLast())], parser: parser).error == nil)
    }

    @Test func oversizedPayloadIsSkippedNotBuffered() {
        let parser = NATSServerOperationParser(maximumPayloadLength: 10)
        var bytes = Array("MSG big 7 20\r\n".utf8)
        bytes += [UInt8](repeating: 0x55, count: 20) + [13, 10]
        bytes += Array("MSG ok 7 10\r\n0123456789\r\nPING\r\n".utf8)
        for pieces in [[bytes], bytes.map { [$0] }] {
            var parser = parser
            var operations: [NATSServerOperation] = []
            for piece in pieces {
                parser.append(piece.span)
                while let operation = try? parser.next() { operations.append(operation) }
                #expect(parser.bufferedByteCount <= 16, "skipped bytes are not held")
            }
            #expect(operations == [
                .oversizedMessage(subject: "big", subscription: NATSSubscriptionID(rawValue: 7), size: 20),
                .message(NATSMessage(subject: "ok", subscription: NATSSubscriptionID(rawValue: 7), payload: Array("0123456789".utf8))),
                .ping,
            ])
        }
    }

    @Test(arguments: [
        ("PING\n", NATSProtocolError.missingCarriageReturn),
        ("MSG a 1 2\r\nhiXY", .missingCarriageReturn),
        ("MSG a 1 40\r\n" + String(repeating: "z", count: 40) + "XY", .missingCarriageReturn),
        ("HELLO\r\n", .unknownOperation("HELLO")),
        ("HMSG a 1 0 0\r\n\r\n", .unexpectedHeaders),
        ("MSG a 1\r\n", .malformedArguments("MSG")),
        ("MSG a b 1\r\n", .malformedArguments("MSG")),
        ("MSG a 1 -1\r\n", .malformedArguments("MSG")),
        ("MSG a 1 r s 1\r\n", .malformedArguments("MSG")),
        ("MSG a 99999999999999999999 1\r\n", .malformedArguments("MSG")),
        ("MSG a 1 99999999999999999999\r\n", .malformedArguments("MSG")),
        ("MSG a\u{1} 1 1\r\n", .malformedArguments("MSG")),
        ("PING x\r\n", .malformedArguments("PING")),
        ("PONG x\r\n", .malformedArguments("PONG")),
        ("+OK x\r\n", .malformedArguments("+OK")),
        ("INFO\r\n", .malformedInfo),
        ("INFO {\"max_payload\":0}\r\n", .malformedInfo),
        ("INFO {\"max_payload\":\"big\"}\r\n", .malformedInfo),
        ("INFO [1,2]\r\n", .malformedInfo),
        ("INFO {\"server_id\":\r\n", .malformedInfo),
    ])
    func malformedInput(_ text: String, _ error: NATSProtocolError) {
        let bytes = Array(text.utf8)
        #expect(Self.parse([bytes]).error == error)
        #expect(Self.parse(bytes.map { [$0] }).error == error, "bytewise")
    }

    @Test func errorsAreFinal() {
        var parser = NATSServerOperationParser()
        parser.append(Array("BOGUS\r\nPING\r\n".utf8).span)
        #expect(throws: NATSProtocolError.unknownOperation("BOGUS")) { try parser.next() }
        parser.append(Array("PING\r\n".utf8).span)
        #expect(throws: NATSProtocolError.unknownOperation("BOGUS")) { try parser.next() }
    }

    @Test func infoDefaultsAndUnknownFields() throws {
        let info = try NATSServerInfo(json: Array(#"{"server_id":"x","nested":{"a":[1,2,{"b":null}]},"tls_required":true,"ldm":true,"auth_required":true}"#.utf8))
        #expect(info.serverID == "x" && info.maximumPayload == NATSServerInfo.defaultMaximumPayload)
        #expect(info.tlsRequired && info.lameDuckMode && info.authRequired && !info.headers && info.protocolVersion == 0)
    }

    @Test(arguments: [
        ("'Unknown Protocol Operation'", NATSServerError.unknownProtocolOperation, true),
        ("'Attempted To Connect To Route Port'", .attemptedToConnectToRoutePort, true),
        ("'Authorization Violation'", .authorizationViolation, true),
        ("'Authorization Timeout'", .authorizationTimeout, true),
        ("'Invalid Client Protocol'", .invalidClientProtocol, true),
        ("'Maximum Control Line Exceeded'", .maximumControlLineExceeded, true),
        ("'Parser Error'", .parserError, true),
        ("'Secure Connection - TLS Required'", .secureConnectionTLSRequired, true),
        ("'Stale Connection'", .staleConnection, true),
        ("'Maximum Connections Exceeded'", .maximumConnectionsExceeded, true),
        ("'Slow Consumer'", .slowConsumer, true),
        ("'Maximum Payload Violation'", .maximumPayloadViolation, true),
        (" 'invalid subject' ", .invalidSubject, false),
        ("'Permissions Violation for Publish to \"a.b\"'", .permissionsViolation("Permissions Violation for Publish to \"a.b\""), false),
        ("'Permissions Violation for Subscription to \"a.>\"'", .permissionsViolation("Permissions Violation for Subscription to \"a.>\""), false),
        ("something new", .other("something new"), true),
    ])
    func serverErrors(_ text: String, _ error: NATSServerError, _ fatal: Bool) {
        let (operations, parseError) = Self.parse([Array("-ERR \(text)\r\n".utf8)])
        #expect(parseError == nil)
        #expect(operations == [.error(error)])
        #expect(error.isFatal == fatal)
    }

    @Test func longErrorTextIsTruncated() {
        let error = NATSServerError(message: "'" + String(repeating: "q", count: 1000) + "'")
        guard case .other(let text) = error else { Issue.record("\(error)"); return }
        #expect(text.count == NATSServerError.maximumMessageLength)
    }
}
