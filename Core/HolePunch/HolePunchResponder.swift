/// The responder's side of DCUtR (`A` in the spec: the peer that dialed through the relay
/// serves `/libp2p/dcutr` and answers).
///
/// ```
/// < CONNECT peer addresses   no dialable address → failed(.noDialableAddresses), no answer
/// > CONNECT own addresses
/// < SYNC                     → dial(addresses, connectionRole) at once; then half-close
/// ```
///
/// The whole exchange must finish within `exchangeTimeout` of the machine's start. Input
/// after SYNC is discarded. One machine serves one stream, i.e. one attempt; the owner
/// counts attempts per peer with a `HolePunchAttempts` of role `.responder`.
public struct HolePunchResponder: StreamProtocolMachine {
    public typealias Event = HolePunchEvent

    private enum State {
        case awaitingConnect
        case awaitingSync(HolePunchDial)
        case done
    }

    /// The addresses sent in CONNECT (`HolePunchLimits.fitting` of those given).
    public let localAddresses: [Multiaddr]
    /// The role the dial event asks for in the upgrade.
    public let connectionRole: ConnectionRole
    /// The peer, when known: its CONNECT addresses naming another `/p2p` are not dialed.
    public let peer: PeerID?
    private let configuration: HolePunchConfiguration
    private let deadline: Instant?
    private var state: State = .awaitingConnect
    private var receivedSync = false
    private var exchange = HolePunchExchange()

    /// A responder on a new inbound `/libp2p/dcutr` stream at `now`.
    ///
    /// - Parameters:
    ///   - localAddresses: this node's addresses to offer, public ones first; also what
    ///     tells whether the peer is behind the same NAT.
    ///   - connectionRole: the upgrade role for this attempt, from `HolePunchAttempts`
    ///     (the spec's: client).
    ///   - peer: the peer at the other end, if its addresses should be checked against it.
    ///
    /// With no address to offer the machine fails at once with `noLocalAddresses`.
    public init(
        localAddresses: [Multiaddr], connectionRole: ConnectionRole = HolePunchRole.responder.connectionRole(),
        peer: PeerID? = nil, now: Instant, configuration: HolePunchConfiguration = .init()
    ) {
        self.localAddresses = HolePunchLimits.fitting(localAddresses)
        self.connectionRole = connectionRole
        self.peer = peer
        self.configuration = configuration
        deadline = configuration.exchangeTimeout.map { now + $0 }
        if self.localAddresses.isEmpty { fail(.noLocalAddresses) }
    }

    /// Feeds bytes from the initiator: CONNECT, then SYNC; anything after SYNC is discarded.
    /// Bytes that arrive at or after the deadline time out the exchange, whether or not
    /// `handleTimeout` ran first.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0, !finished else { return }
        if let deadline, now >= deadline {
            fail(.timeout)
            return
        }
        exchange.reader.append(bytes)
        while !finished {
            let message: HolePunchMessage?
            do {
                message = try exchange.reader.next()
            } catch {
                fail(.malformedMessage(error))
                return
            }
            guard let message else { return }
            handle(message)
        }
    }

    private mutating func handle(_ message: HolePunchMessage) {
        switch (state, message) {
        case (.awaitingConnect, .connect(let addresses)):
            let selected = configuration.addressSelection.select(addresses, local: localAddresses, peer: peer)
            guard !selected.isEmpty else {
                fail(.noDialableAddresses(received: addresses.count))
                return
            }
            exchange.send(.connect(addresses: localAddresses))
            state = .awaitingSync(
                HolePunchDial(
                    addresses: selected, connectionRole: connectionRole, roundTripTime: nil,
                    remoteAddresses: addresses))
        case (.awaitingSync(let dial), .sync):
            state = .done
            receivedSync = true
            exchange.reader.removeAll()
            exchange.events.append(.dial(dial))
        case (_, let message):
            fail(.unexpectedMessage(message.type))
        }
    }

    /// The initiator half-closed before SYNC: a failure.
    public mutating func receiveEndOfStream(now: Instant) {
        guard !finished else { return }
        fail(.endOfStream(bufferedBytes: exchange.reader.bufferedByteCount))
    }

    /// Fails with `timeout` when the exchange has not completed by the deadline.
    public mutating func handleTimeout(now: Instant) {
        guard !finished, let deadline, now >= deadline else { return }
        fail(.timeout)
    }

    /// Appends CONNECT once the initiator's arrived.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int { exchange.pollTransmit(into: &buffer) }
    /// The next event, or `nil`.
    public mutating func pollEvent() -> HolePunchEvent? { exchange.pollEvent() }
    /// The exchange's deadline, until it is over.
    public var nextDeadline: Instant? { finished ? nil : deadline }
    /// True after SYNC: the responder has sent all it sends.
    public var wantsToCloseWrite: Bool { receivedSync }
    /// Anything: a message is limited by its length prefix, and input after SYNC is
    /// discarded.
    public var receiveCapacity: Int { Int.max }

    private var finished: Bool {
        if case .done = state { true } else { false }
    }

    private mutating func fail(_ error: HolePunchError) {
        state = .done
        exchange.reader.removeAll()
        exchange.outbound.removeAll()
        exchange.events.append(.failed(error))
    }
}
