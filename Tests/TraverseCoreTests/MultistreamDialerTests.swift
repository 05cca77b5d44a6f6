import Testing
@testable import TraverseCore

@Suite struct MultistreamDialerTests {
    typealias Wire = MultistreamWire

    @Test func headerAndFirstProposalGoOutInOneWrite() throws {
        var dialer = try MultistreamDialer(protocols: ["/noise", "/tls/1.0.0"])
        #expect(Wire.transmit(&dialer) == Wire.header + hex("072f6e6f6973650a"))
        #expect(Wire.transmit(&dialer).isEmpty)
        #expect(Wire.events(&dialer).isEmpty)
        #expect(dialer.nextDeadline == nil)
        #expect(!dialer.isOptimistic)
    }

    @Test func selectsTheEchoedProtocol() throws {
        var dialer = try MultistreamDialer(protocols: ["/noise"], configuration: .init(optimisticNegotiation: false))
        _ = Wire.transmit(&dialer)
        Wire.feed(&dialer, Wire.header + Wire.message("/noise"))
        #expect(Wire.events(&dialer) == [.protocolSelected("/noise"), .negotiationComplete("/noise")])
        #expect(dialer.negotiatedProtocol == "/noise")
        #expect(dialer.takeRemainingBytes().isEmpty)
    }

    @Test func triesTheNextProtocolAfterNotAvailable() throws {
        var dialer = try MultistreamDialer(protocols: ["/tls/1.0.0", "/noise"])
        _ = Wire.transmit(&dialer)
        Wire.feed(&dialer, Wire.header + Wire.notAvailable)
        #expect(Wire.events(&dialer).isEmpty)
        #expect(Wire.transmit(&dialer) == hex("072f6e6f6973650a"))
        Wire.feed(&dialer, Wire.message("/noise") + [1, 2, 3])
        #expect(Wire.events(&dialer) == [.protocolSelected("/noise"), .negotiationComplete("/noise")])
        #expect(dialer.takeRemainingBytes() == [1, 2, 3])
        #expect(dialer.takeRemainingBytes().isEmpty, "leftover bytes are delivered once")
    }

    @Test func failsWhenEveryProtocolIsRefused() throws {
        var dialer = try MultistreamDialer(protocols: ["/a", "/b"])
        _ = Wire.transmit(&dialer)
        Wire.feed(&dialer, Wire.header + Wire.notAvailable)
        #expect(Wire.transmit(&dialer) == Wire.message("/b"))
        Wire.feed(&dialer, Wire.notAvailable)
        #expect(Wire.events(&dialer) == [.failed(.noProtocolInCommon)])
        #expect(Wire.transmit(&dialer).isEmpty)
        // Nothing follows a failure.
        Wire.feed(&dialer, Wire.message("/b"))
        #expect(Wire.events(&dialer).isEmpty)
        #expect(dialer.negotiatedProtocol == nil)
    }

    @Test func optimisticDialerReportsSelectionAtOnce() throws {
        var dialer = try MultistreamDialer(protocols: ["/yamux/1.0.0"])
        #expect(dialer.isOptimistic)
        #expect(Wire.events(&dialer) == [.protocolSelected("/yamux/1.0.0")])
        #expect(Wire.transmit(&dialer) == Wire.header + Wire.message("/yamux/1.0.0"))
        // The listener's header, echo and first protocol bytes arrive in one read.
        Wire.feed(&dialer, Wire.header + Wire.message("/yamux/1.0.0") + [0, 1, 0, 0])
        #expect(Wire.events(&dialer) == [.negotiationComplete("/yamux/1.0.0")])
        #expect(dialer.takeRemainingBytes() == [0, 1, 0, 0])
        #expect(dialer.takeRemainingBytes().isEmpty)
        // Bytes the owner still passes in after completion are kept for it.
        Wire.feed(&dialer, [9])
        #expect(dialer.takeRemainingBytes() == [9])
        #expect(Wire.events(&dialer).isEmpty)
    }

    @Test func optimisticDialerLearnsOfRefusal() throws {
        var dialer = try MultistreamDialer(protocols: ["/perf/1.0.0"])
        #expect(Wire.events(&dialer) == [.protocolSelected("/perf/1.0.0")])
        Wire.feedBytewise(&dialer, Wire.header + Wire.notAvailable)
        #expect(Wire.events(&dialer) == [.failed(.protocolRefused("/perf/1.0.0"))])
        #expect(Wire.transmit(&dialer) == Wire.header + Wire.message("/perf/1.0.0"))
    }

    @Test func rejectsAWrongHeader() throws {
        var dialer = try MultistreamDialer(protocols: ["/a"])
        Wire.feed(&dialer, Wire.message("/multistream/2.0.0"))
        #expect(Wire.events(&dialer) == [.protocolSelected("/a"), .failed(.unsupportedHeader("/multistream/2.0.0"))])
    }

    @Test func rejectsAnAnswerBeforeTheHeader() throws {
        var dialer = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feed(&dialer, Wire.notAvailable)
        #expect(Wire.events(&dialer) == [.failed(.unsupportedHeader("na"))])
    }

    @Test func rejectsAnEchoOfAnotherProtocol() throws {
        var dialer = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feed(&dialer, Wire.header + Wire.message("/b"))
        #expect(Wire.events(&dialer) == [.failed(.unexpectedMessage("/b"))])
    }

    @Test func rejectsASecondHeader() throws {
        var dialer = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feed(&dialer, Wire.header + Wire.header)
        #expect(Wire.events(&dialer) == [.failed(.unexpectedMessage("/multistream/1.0.0"))])
    }

    @Test func rejectsOversizeMessagesFromTheirPrefix() throws {
        var dialer = try MultistreamDialer(protocols: ["/a", "/b"])
        // 1025 = 0x81 0x08; nothing after the prefix is needed to reject it.
        Wire.feed(&dialer, Wire.header + [0x81, 0x08])
        #expect(Wire.events(&dialer) == [.failed(.messageTooLong(1025))])

        var bytewise = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feedBytewise(&bytewise, Wire.header + [0x81, 0x08])
        #expect(Wire.events(&bytewise) == [.failed(.messageTooLong(1025))])
    }

    @Test func acceptsAMessageOfExactlyTheMaximumLength() throws {
        let name = "/" + String(repeating: "x", count: 1022)
        var dialer = try MultistreamDialer(protocols: [name])
        let echo = Wire.message(name)
        #expect(echo.count == 2 + 1024)
        Wire.feedBytewise(&dialer, Wire.header + echo)
        #expect(Wire.events(&dialer) == [.protocolSelected(name), .negotiationComplete(name)])
    }

    @Test func rejectsMalformedLengths() throws {
        var nonMinimal = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feed(&nonMinimal, [0x81, 0x00])
        #expect(Wire.events(&nonMinimal) == [.failed(.malformedLength)])

        var tooLong = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feedBytewise(&tooLong, [UInt8](repeating: 0x80, count: 10))
        #expect(Wire.events(&tooLong) == [.failed(.malformedLength)])
        #expect(tooLong.bufferedByteCount <= 10)
    }

    @Test func rejectsAMessageWithoutNewline() throws {
        var dialer = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feed(&dialer, Wire.header + hex("036e6178"))
        #expect(Wire.events(&dialer) == [.failed(.missingNewline)])

        var empty = try MultistreamDialer(protocols: ["/a", "/b"])
        Wire.feedBytewise(&empty, [0x00])
        #expect(Wire.events(&empty) == [.failed(.missingNewline)])
    }

    @Test func handlesEveryChunking() throws {
        let reply = Wire.header + Wire.notAvailable + Wire.message("/b") + [7, 7]
        for split1 in 0...reply.count {
            for split2 in split1...reply.count {
                var dialer = try MultistreamDialer(protocols: ["/a", "/b"])
                var data: [UInt8] = []
                for piece in [reply[..<split1], reply[split1..<split2], reply[split2...]] {
                    let bytes = Array(piece)
                    if dialer.negotiatedProtocol != nil {
                        data += bytes
                    } else {
                        Wire.feed(&dialer, bytes)
                        data += dialer.takeRemainingBytes()
                    }
                }
                #expect(Wire.events(&dialer) == [.protocolSelected("/b"), .negotiationComplete("/b")])
                #expect(data == [7, 7])
            }
        }
    }

    @Test func localMisuseThrows() throws {
        #expect(throws: MultistreamUsageError.noProtocols) { try MultistreamDialer(protocols: []) }
        #expect(throws: MultistreamUsageError.invalidProtocolName("", .empty)) {
            try MultistreamDialer(protocols: [""])
        }
        #expect(throws: MultistreamUsageError.invalidProtocolName("noise", .missingLeadingSlash)) {
            try MultistreamDialer(protocols: ["noise"])
        }
        #expect(throws: MultistreamUsageError.invalidProtocolName("na", .missingLeadingSlash)) {
            try MultistreamDialer(protocols: ["/a", "na"])
        }
        #expect(throws: MultistreamUsageError.invalidProtocolName("/a\n", .containsNewline)) {
            try MultistreamDialer(protocols: ["/a\n"])
        }
        #expect(throws: MultistreamUsageError.invalidProtocolName("/multistream/1.0.0", .reserved)) {
            try MultistreamDialer(protocols: ["/multistream/1.0.0"])
        }
        let long = "/" + String(repeating: "x", count: 140)
        #expect(throws: MultistreamUsageError.invalidProtocolName(long, .tooLong(length: 141, maximum: 140))) {
            try MultistreamDialer(protocols: [long], configuration: .init(maximumProtocolNameLength: 140))
        }
        let tooLongForAMessage = "/" + String(repeating: "x", count: 1023)
        #expect(throws: MultistreamUsageError.invalidProtocolName(tooLongForAMessage, .tooLong(length: 1024, maximum: 1023))) {
            try MultistreamDialer(protocols: [tooLongForAMessage], configuration: .init(maximumProtocolNameLength: 5000))
        }
        #expect(throws: MultistreamUsageError.self) {
            try MultistreamDialer(protocols: ["/a"], configuration: .init(maximumMessageLength: 10))
        }
        #expect(throws: MultistreamUsageError.self) {
            try MultistreamDialer(protocols: ["/a"], configuration: .init(maximumProposals: 0))
        }
    }
}
