import Testing
@testable import TraverseCore

@Suite struct MultistreamListenerTests {
    typealias Wire = MultistreamWire

    @Test func sendsItsHeaderAtOnce() throws {
        var listener = try MultistreamListener(supportedProtocols: ["/noise"])
        #expect(Wire.transmit(&listener) == Wire.header)
        #expect(Wire.transmit(&listener).isEmpty)
        #expect(Wire.events(&listener).isEmpty)
        #expect(listener.nextDeadline == nil)
    }

    @Test func echoesASupportedProposal() throws {
        var listener = try MultistreamListener(supportedProtocols: ["/noise", "/tls/1.0.0"])
        _ = Wire.transmit(&listener)
        Wire.feed(&listener, Wire.header + Wire.message("/tls/1.0.0"))
        #expect(Wire.transmit(&listener) == hex("0b2f746c732f312e302e300a"))
        #expect(Wire.events(&listener) == [.protocolSelected("/tls/1.0.0"), .negotiationComplete("/tls/1.0.0")])
        #expect(listener.negotiatedProtocol == "/tls/1.0.0")
    }

    @Test func answersNotAvailableThenSelects() throws {
        var listener = try MultistreamListener(supportedProtocols: ["/noise"])
        _ = Wire.transmit(&listener)
        Wire.feed(&listener, Wire.header + Wire.message("/tls/1.0.0"))
        #expect(Wire.transmit(&listener) == hex("036e610a"))
        #expect(Wire.events(&listener).isEmpty)
        Wire.feed(&listener, Wire.message("/noise"))
        #expect(Wire.transmit(&listener) == Wire.message("/noise"))
        #expect(Wire.events(&listener) == [.protocolSelected("/noise"), .negotiationComplete("/noise")])
    }

    @Test func deliversDataBehindTheProposalOnce() throws {
        var listener = try MultistreamListener(supportedProtocols: ["/ipfs/ping/1.0.0"])
        let ping = [UInt8](repeating: 0xAB, count: 32)
        Wire.feed(&listener, Wire.header + Wire.message("/ipfs/ping/1.0.0") + ping)
        #expect(Wire.events(&listener) == [.protocolSelected("/ipfs/ping/1.0.0"), .negotiationComplete("/ipfs/ping/1.0.0")])
        #expect(listener.takeRemainingBytes() == ping)
        #expect(listener.takeRemainingBytes().isEmpty)
        #expect(Wire.transmit(&listener) == Wire.header + Wire.message("/ipfs/ping/1.0.0"))
    }

    @Test func listsItsProtocols() throws {
        var listener = try MultistreamListener(supportedProtocols: ["/a", "/bc"])
        _ = Wire.transmit(&listener)
        Wire.feed(&listener, Wire.header + hex("036c730a"))
        // uvarint(10) ‖ [03 "/a" 0a] [04 "/bc" 0a] ‖ 0a
        #expect(Wire.transmit(&listener) == hex("0a" + "032f610a" + "042f62630a" + "0a"))
        #expect(Wire.events(&listener).isEmpty)
        Wire.feed(&listener, Wire.message("/bc"))
        #expect(Wire.events(&listener) == [.protocolSelected("/bc"), .negotiationComplete("/bc")])

        var empty = try MultistreamListener(supportedProtocols: [])
        _ = Wire.transmit(&empty)
        Wire.feed(&empty, Wire.header + Wire.message("ls") + Wire.message("/a"))
        #expect(Wire.transmit(&empty) == hex("010a") + Wire.notAvailable)
    }

    @Test func limitsTheNumberOfProposals() throws {
        let configuration = MultistreamConfiguration(maximumProposals: 3)
        var listener = try MultistreamListener(supportedProtocols: ["/yes"], configuration: configuration)
        _ = Wire.transmit(&listener)
        Wire.feed(&listener, Wire.header + Wire.message("/no1") + Wire.message("ls") + Wire.message("/no2"))
        #expect(Wire.events(&listener).isEmpty)
        #expect(Wire.transmit(&listener) == Wire.notAvailable + hex("07") + Wire.message("/yes") + hex("0a") + Wire.notAvailable)
        Wire.feed(&listener, Wire.message("/yes"))
        #expect(Wire.events(&listener) == [.failed(.tooManyProposals)])
        #expect(Wire.transmit(&listener).isEmpty)

        var atTheLimit = try MultistreamListener(supportedProtocols: ["/yes"], configuration: configuration)
        Wire.feed(&atTheLimit, Wire.header + Wire.message("/no1") + Wire.message("/no2") + Wire.message("/yes"))
        #expect(Wire.events(&atTheLimit) == [.protocolSelected("/yes"), .negotiationComplete("/yes")])
    }

    @Test func answersNotAvailableToOddButValidNames() throws {
        var listener = try MultistreamListener(
            supportedProtocols: ["/a"], configuration: .init(maximumProtocolNameLength: 8))
        _ = Wire.transmit(&listener)
        // A header again, `na`, a name without a slash, and one over the name limit.
        Wire.feed(&listener, Wire.header + Wire.header + Wire.message("na") + Wire.message("a")
            + Wire.message("/aaaaaaaaaaaaaaaaaaaa"))
        #expect(Wire.transmit(&listener) == Array([[UInt8]](repeating: Wire.notAvailable, count: 4).joined()))
        #expect(Wire.events(&listener).isEmpty)
    }

    @Test func rejectsInvalidProposals() throws {
        var empty = try MultistreamListener(supportedProtocols: ["/a"])
        Wire.feed(&empty, Wire.header + hex("010a"))
        #expect(Wire.events(&empty) == [.failed(.invalidProtocolName(.empty))])

        var notUTF8 = try MultistreamListener(supportedProtocols: ["/a"])
        Wire.feed(&notUTF8, Wire.header + hex("03fffe0a"))
        #expect(Wire.events(&notUTF8) == [.failed(.invalidProtocolName(.notUTF8))])

        var newline = try MultistreamListener(supportedProtocols: ["/a"])
        Wire.feed(&newline, Wire.header + hex("042f0a610a"))
        #expect(Wire.events(&newline) == [.failed(.invalidProtocolName(.containsNewline))])
    }

    @Test func rejectsABadHeader() throws {
        var listener = try MultistreamListener(supportedProtocols: ["/a"])
        Wire.feed(&listener, Wire.message("/a"))
        #expect(Wire.events(&listener) == [.failed(.unsupportedHeader("/a"))])
        // The header it queued at start is still there for the owner to flush or drop.
        #expect(Wire.transmit(&listener) == Wire.header)
        Wire.feed(&listener, Wire.header + Wire.message("/a"))
        #expect(Wire.events(&listener).isEmpty)
    }

    @Test func rejectsOversizeAndUnterminatedMessages() throws {
        var oversize = try MultistreamListener(supportedProtocols: ["/a"])
        Wire.feed(&oversize, Wire.header + [0x81, 0x08] + [UInt8](repeating: 0x2f, count: 2000))
        #expect(Wire.events(&oversize) == [.failed(.messageTooLong(1025))])
        #expect(oversize.bufferedByteCount == 0)

        var smallLimit = try MultistreamListener(
            supportedProtocols: ["/a"], configuration: .init(maximumMessageLength: 64))
        Wire.feedBytewise(&smallLimit, Wire.header + Wire.message("/" + String(repeating: "z", count: 63)))
        #expect(Wire.events(&smallLimit) == [.failed(.messageTooLong(65))])

        var unterminated = try MultistreamListener(supportedProtocols: ["/a"])
        Wire.feedBytewise(&unterminated, hex("132f6d756c746973747265616d2f312e302e3020"))
        #expect(Wire.events(&unterminated) == [.failed(.missingNewline)])
    }

    @Test func buffersAtMostOneMessage() throws {
        var listener = try MultistreamListener(supportedProtocols: ["/a"])
        Wire.feed(&listener, Wire.header)
        let big = Wire.message("/" + String(repeating: "q", count: 1022))
        var largest = 0
        for byte in big.dropLast() {
            Wire.feed(&listener, [byte])
            largest = max(largest, listener.bufferedByteCount)
        }
        #expect(largest == big.count - 1)
        #expect(largest <= 1024 + Varint.maximumLength)
        Wire.feed(&listener, [big[big.count - 1]])
        #expect(listener.bufferedByteCount == 0)
        #expect(Wire.transmit(&listener) == Wire.header + Wire.notAvailable)
    }

    @Test func localMisuseThrows() throws {
        #expect(throws: MultistreamUsageError.invalidProtocolName("ls", .missingLeadingSlash)) {
            try MultistreamListener(supportedProtocols: ["ls"])
        }
        #expect(throws: MultistreamUsageError.self) {
            try MultistreamListener(supportedProtocols: [], configuration: .init(maximumProtocolNameLength: 0))
        }
    }
}
