/// The initiator's side of DCUtR (`B` in the spec: the peer that accepted the relayed
/// connection opens `/libp2p/dcutr` on it).
///
/// ```
/// > CONNECT own addresses    (queued at init; the RTT clock starts)
/// < CONNECT peer addresses   RTT = now − start; no dialable address → failed(.noDialableAddresses)
/// > SYNC                     then half-close
///   … RTT/2 …                (nextDeadline; handleTimeout)
///                            → dial(addresses, connectionRole, roundTripTime)
/// ```
///
/// The SYNC reaches the responder half an RTT after it was sent, and the responder dials on
/// it, so both sides dial at about the same moment: a TCP simultaneous open. Input after the
/// peer's CONNECT is not part of the protocol and is discarded. One machine runs one attempt;
/// `HolePunchAttempts` decides about the next.
public struct HolePunchInitiator: StreamProtocolMachine {
    public typealias Event = HolePunchEvent

    private enum State {
        case awaitingConnect(sentAt: Instant, deadline: Instant?)
        case synchronizing(dialAt: Instant, dial: HolePunchDial)
        case done
    }

    /// The addresses sent in CONNECT (`HolePunchLimits.fitting` of those given).
    public let localAddresses: [Multiaddr]
    /// The role the dial event asks for in the upgrade.
    public let connectionRole: ConnectionRole
    /// The peer, when known: its CONNECT addresses naming another `/p2p` are not dialed.
    public let peer: PeerID?
    /// The round trip between sending CONNECT and receiving the peer's, once measured.
    public private(set) var roundTripTime: Duration?
    private let configuration: HolePunchConfiguration
    private var state: State
    private var sentSync = false
    private var exchange = HolePunchExchange()

    /// Queues CONNECT with `localAddresses` at `now` (the start of the RTT measurement).
    ///
    /// - Parameters:
    ///   - localAddresses: this node's addresses to offer, public ones first (relayed ones
    ///     are left out); also what tells whether the peer is behind the same NAT.
    ///   - connectionRole: the upgrade role for this attempt, from `HolePunchAttempts`
    ///     (the spec's: server).
    ///   - peer: the peer at the other end, if its addresses should be checked against it.
    ///
    /// With no address to offer, nothing is sent and the machine fails at once with
    /// `noLocalAddresses` (the owner had better not open the stream then).
    public init(
        localAddresses: [Multiaddr], connectionRole: ConnectionRole = HolePunchRole.initiator.connectionRole(),
        peer: PeerID? = nil, now: Instant, configuration: HolePunchConfiguration = .init()
    ) {
        self.localAddresses = HolePunchLimits.fitting(localAddresses)
        self.connectionRole = connectionRole
        self.peer = peer
        self.configuration = configuration
        state = .awaitingConnect(sentAt: now, deadline: configuration.exchangeTimeout.map { now + $0 })
        if self.localAddresses.isEmpty {
            fail(.noLocalAddresses)
        } else {
            exchange.send(.connect(addresses: self.localAddresses))
        }
    }

    /// Feeds bytes from the responder: its CONNECT; anything after it is discarded. Bytes
    /// that arrive at or after the deadline time out the exchange, whether or not
    /// `handleTimeout` ran first.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0, case .awaitingConnect(let sentAt, let deadline) = state else { return }
        if let deadline, now >= deadline {
            fail(.timeout)
            return
        }
        exchange.reader.append(bytes)
        let message: HolePunchMessage?
        do {
            message = try exchange.reader.next()
        } catch {
            fail(.malformedMessage(error))
            return
        }
        switch message {
        case nil:
            return
        case .sync?:
            fail(.unexpectedMessage(.sync))
        case .connect(let addresses)?:
            exchange.reader.removeAll()
            let roundTripTime = now - sentAt
            self.roundTripTime = roundTripTime
            let selected = configuration.addressSelection.select(addresses, local: localAddresses, peer: peer)
            guard !selected.isEmpty else {
                fail(.noDialableAddresses(received: addresses.count))
                return
            }
            exchange.send(.sync)
            sentSync = true
            let dial = HolePunchDial(
                addresses: selected, connectionRole: connectionRole, roundTripTime: roundTripTime,
                remoteAddresses: addresses)
            let dialAt = now + roundTripTime / 2
            if dialAt <= now {
                state = .done
                exchange.events.append(.dial(dial))
            } else {
                state = .synchronizing(dialAt: dialAt, dial: dial)
            }
        }
    }

    /// The responder half-closed: a failure before its CONNECT, nothing after it.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .awaitingConnect = state else { return }
        fail(.endOfStream(bufferedBytes: exchange.reader.bufferedByteCount))
    }

    /// Fails with `timeout` while waiting for the CONNECT past the deadline; emits `dial`
    /// once half the RTT has passed since SYNC.
    public mutating func handleTimeout(now: Instant) {
        switch state {
        case .awaitingConnect(_, let deadline?) where now >= deadline:
            fail(.timeout)
        case .synchronizing(let dialAt, let dial) where now >= dialAt:
            state = .done
            exchange.events.append(.dial(dial))
        default:
            return
        }
    }

    /// Appends CONNECT, then SYNC.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int { exchange.pollTransmit(into: &buffer) }
    /// The next event, or `nil`.
    public mutating func pollEvent() -> HolePunchEvent? { exchange.pollEvent() }

    /// The CONNECT's deadline, then the moment to dial.
    public var nextDeadline: Instant? {
        switch state {
        case .awaitingConnect(_, let deadline): deadline
        case .synchronizing(let dialAt, _): dialAt
        case .done: nil
        }
    }

    /// True once SYNC is queued: the initiator sends nothing after it.
    public var wantsToCloseWrite: Bool { sentSync }
    /// Anything: a message is limited by its length prefix, and input after the CONNECT is
    /// discarded.
    public var receiveCapacity: Int { Int.max }

    private mutating func fail(_ error: HolePunchError) {
        state = .done
        exchange.reader.removeAll()
        exchange.outbound.removeAll()
        exchange.events.append(.failed(error))
    }
}
