import Testing
@testable import TraverseCore

/// A dialer and a listener wired to each other in memory, each with an owner that sends
/// protocol data as soon as its machine allows and routes bytes to the protocol once the
/// negotiation is complete. Bytes cross in random pieces from a seeded generator.
struct MultistreamPair {
    typealias Wire = MultistreamWire

    var dialer: MultistreamDialer
    var listener: MultistreamListener
    /// What each owner sends once its machine reports `protocolSelected`.
    let dialerData: [UInt8]
    let listenerData: [UInt8]

    var dialerEvents: [MultistreamEvent] = []
    var listenerEvents: [MultistreamEvent] = []
    /// Protocol data each owner received.
    var dialerReceived: [UInt8] = []
    var listenerReceived: [UInt8] = []

    private var toListener: [UInt8] = []
    private var toDialer: [UInt8] = []
    private var dialerComplete = false
    private var listenerComplete = false
    private var dialerFailed = false
    private var listenerFailed = false

    init(dialer: MultistreamDialer, listener: MultistreamListener, dialerData: [UInt8], listenerData: [UInt8]) {
        self.dialer = dialer
        self.listener = listener
        self.dialerData = dialerData
        self.listenerData = listenerData
    }

    /// Runs until no bytes are in flight.
    mutating func run(using generator: inout some RandomNumberGenerator) {
        drain()
        while !toListener.isEmpty || !toDialer.isEmpty {
            let towardsListener = toDialer.isEmpty || (!toListener.isEmpty && Bool.random(using: &generator))
            if towardsListener {
                let count = Int.random(in: 1...toListener.count, using: &generator)
                let piece = Array(toListener.prefix(count))
                toListener.removeFirst(count)
                if listenerComplete {
                    listenerReceived += piece
                } else if !listenerFailed {
                    Wire.feed(&listener, piece)
                }
            } else {
                let count = Int.random(in: 1...toDialer.count, using: &generator)
                let piece = Array(toDialer.prefix(count))
                toDialer.removeFirst(count)
                if dialerComplete {
                    dialerReceived += piece
                } else if !dialerFailed {
                    Wire.feed(&dialer, piece)
                }
            }
            drain()
        }
    }

    private mutating func drain() {
        toListener += Wire.transmit(&dialer)
        for event in Wire.events(&dialer) {
            dialerEvents.append(event)
            switch event {
            case .protocolSelected: toListener += dialerData
            case .negotiationComplete:
                dialerComplete = true
                dialerReceived += dialer.takeRemainingBytes()
            case .failed: dialerFailed = true
            }
        }
        toDialer += Wire.transmit(&listener)
        for event in Wire.events(&listener) {
            listenerEvents.append(event)
            switch event {
            case .protocolSelected: toDialer += listenerData
            case .negotiationComplete:
                listenerComplete = true
                listenerReceived += listener.takeRemainingBytes()
            case .failed: listenerFailed = true
            }
        }
    }
}

@Suite struct MultistreamPairTests {
    static let dialerData: [UInt8] = Array("hello from the dialer, right behind the proposal".utf8)
    static let listenerData: [UInt8] = Array("and hello back".utf8)

    @Test(arguments: 0..<40)
    func optimisticDialerSendsDataBehindItsProposal(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var pair = MultistreamPair(
            dialer: try MultistreamDialer(protocols: ["/yamux/1.0.0"]),
            listener: try MultistreamListener(supportedProtocols: ["/mplex/6.7.0", "/yamux/1.0.0"]),
            dialerData: Self.dialerData, listenerData: Self.listenerData)
        pair.run(using: &generator)
        #expect(pair.dialerEvents == [.protocolSelected("/yamux/1.0.0"), .negotiationComplete("/yamux/1.0.0")])
        #expect(pair.listenerEvents == [.protocolSelected("/yamux/1.0.0"), .negotiationComplete("/yamux/1.0.0")])
        #expect(pair.listenerReceived == Self.dialerData)
        #expect(pair.dialerReceived == Self.listenerData)
    }

    @Test(arguments: 0..<40)
    func dialerFallsBackAfterNotAvailable(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var pair = MultistreamPair(
            dialer: try MultistreamDialer(protocols: ["/tls/1.0.0", "/quic", "/noise"]),
            listener: try MultistreamListener(supportedProtocols: ["/noise"]),
            dialerData: Self.dialerData, listenerData: Self.listenerData)
        pair.run(using: &generator)
        #expect(pair.dialerEvents == [.protocolSelected("/noise"), .negotiationComplete("/noise")])
        #expect(pair.listenerEvents == [.protocolSelected("/noise"), .negotiationComplete("/noise")])
        #expect(pair.listenerReceived == Self.dialerData)
        #expect(pair.dialerReceived == Self.listenerData)
    }

    @Test(arguments: 0..<20)
    func noProtocolInCommon(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var pair = MultistreamPair(
            dialer: try MultistreamDialer(protocols: ["/a", "/b"]),
            listener: try MultistreamListener(supportedProtocols: ["/c"]),
            dialerData: Self.dialerData, listenerData: Self.listenerData)
        pair.run(using: &generator)
        #expect(pair.dialerEvents == [.failed(.noProtocolInCommon)])
        #expect(pair.listenerEvents.isEmpty, "the listener waits; the owner resets the stream")
    }

    @Test(arguments: 0..<20)
    func optimisticDialerIsRefused(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var pair = MultistreamPair(
            dialer: try MultistreamDialer(protocols: ["/perf/1.0.0"]),
            listener: try MultistreamListener(supportedProtocols: ["/ipfs/ping/1.0.0"]),
            dialerData: Self.dialerData, listenerData: Self.listenerData)
        pair.run(using: &generator)
        #expect(pair.dialerEvents == [.protocolSelected("/perf/1.0.0"), .failed(.protocolRefused("/perf/1.0.0"))])
        // The listener reads the dialer's data as a (long) multistream message: it either
        // waits for the rest of it or rejects it, and never selects anything.
        #expect(!pair.listenerEvents.contains(.negotiationComplete("/perf/1.0.0")))
        #expect(pair.listenerReceived.isEmpty)
        #expect(pair.listener.bufferedByteCount <= 1024 + Varint.maximumLength)
    }

    @Test(arguments: 0..<20)
    func nonOptimisticDialerWaitsForTheEcho(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var pair = MultistreamPair(
            dialer: try MultistreamDialer(protocols: ["/echo/1.0.0"], configuration: .init(optimisticNegotiation: false)),
            listener: try MultistreamListener(supportedProtocols: ["/echo/1.0.0"]),
            dialerData: Self.dialerData, listenerData: [])
        pair.run(using: &generator)
        #expect(pair.dialerEvents == [.protocolSelected("/echo/1.0.0"), .negotiationComplete("/echo/1.0.0")])
        #expect(pair.listenerReceived == Self.dialerData)
    }
}
