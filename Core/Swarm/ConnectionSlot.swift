/// The swarm's record of one socket: its connection machine once the socket is open, the
/// streams the swarm runs or hands to the application, and the socket's flow state.
struct ConnectionSlot {
    enum Phase {
        /// The driver is opening the TCP connection (outbound only).
        case connecting(deadline: Instant)
        /// The connection machine is upgrading the socket.
        case upgrading
        /// The peer is authenticated.
        case established(ConnectionSummary)
        /// Closed: the last bytes are being handed to the driver, then `close` follows.
        case closing
    }

    var phase: Phase
    /// `nil` until the TCP connection is open.
    var connection: Connection?
    let direction: ConnectionDirection
    /// The socket's endpoints (`localSocket` once it is open); both `nil` for a relayed
    /// connection.
    let remoteSocket: SocketAddress?
    var localSocket: SocketAddress?
    /// The relay stream that carries a relayed connection; `nil` for a socket.
    var circuit: CircuitTransport? {
        get { circuitStorage.value }
        _modify { yield &circuitStorage.value }
    }
    /// The NATS pipe that carries a connection of the NATS tier; `nil` otherwise.
    var natsCarrier: NATSPipeCarrier? {
        get { natsCarrierStorage.value }
        _modify { yield &natsCarrierStorage.value }
    }
    /// Boxed: most connections are neither relayed nor over NATS, and the slot is stored
    /// inline in the swarm's table.
    private var circuitStorage: BoxedOptional<CircuitTransport>
    private var natsCarrierStorage: BoxedOptional<NATSPipeCarrier>
    /// The dial this socket is an attempt of, and the address it tried.
    let dial: DialID?
    let dialedAddress: Multiaddr?
    /// The listener that accepted it.
    let listener: ListenerID?
    var streams: [StreamID: StreamSlot] = [:]
    /// The driver's socket holds more unsent bytes than it wants: no transmit, no reads.
    var transportBlocked = false
    /// The peer sent GoAway: no new streams on this connection.
    var remoteGoingAway = false
    /// The earliest deadline of the connection and its streams, kept current after every
    /// change so the swarm's `nextDeadline` is a scan of plain values.
    var deadline: Instant?

    init(
        phase: Phase, connection: Connection?, direction: ConnectionDirection,
        remoteSocket: SocketAddress?, localSocket: SocketAddress?, circuit: CircuitTransport? = nil,
        natsCarrier: NATSPipeCarrier? = nil, dial: DialID?, dialedAddress: Multiaddr?, listener: ListenerID?
    ) {
        self.phase = phase
        self.connection = connection
        self.direction = direction
        self.remoteSocket = remoteSocket
        self.localSocket = localSocket
        self.circuitStorage = BoxedOptional(circuit)
        self.natsCarrierStorage = BoxedOptional(natsCarrier)
        self.dial = dial
        self.dialedAddress = dialedAddress
        self.listener = listener
    }

    var peer: PeerID? {
        if case .established(let summary) = phase { return summary.peer }
        return nil
    }

    var summary: ConnectionSummary? {
        if case .established(let summary) = phase { return summary }
        return nil
    }

    /// The peer's address: its socket address, the circuit address through the relay, or
    /// `/p2p/PEER` through NATS.
    var remoteAddress: Multiaddr {
        circuit?.remoteAddress ?? natsCarrier?.remoteAddress ?? remoteSocket?.tcpMultiaddr ?? Multiaddr()
    }

    /// The address identify reports as observed: none through NATS (no socket to see).
    var observedAddress: Multiaddr? {
        natsCarrier == nil ? remoteAddress : nil
    }

    /// Which tier carries the connection.
    var tier: ConnectionTier {
        if circuit != nil { return .relay }
        if natsCarrier != nil { return .nats }
        return .direct
    }

    /// This side's socket address, or the relay's address for a relayed connection.
    var localAddress: Multiaddr {
        circuit?.relayAddress ?? localSocket?.tcpMultiaddr ?? Multiaddr()
    }

    /// The peer's IP address, for per-IP limits; `nil` for a relayed connection.
    var remoteIP: IPAddress? {
        guard circuit == nil, natsCarrier == nil, let remoteSocket else { return nil }
        switch remoteSocket {
        case .ipv4(let address, _): return .ipv4(address)
        case .ipv6(let address, _): return .ipv6(address)
        }
    }

    /// The relay and limit of a relayed connection.
    var relayInfo: RelayedConnectionInfo? {
        guard let circuit else { return nil }
        return RelayedConnectionInfo(relay: circuit.relay, limit: circuit.limit)
    }

    /// Whether the connection goes through a relay.
    var isRelayed: Bool { circuit != nil }

    var isClosing: Bool {
        if case .closing = phase { return true }
        return false
    }

    /// Recomputes `deadline` from the phase, the connection and the streams.
    mutating func refreshDeadline() {
        var earliest: Instant?
        if case .connecting(let deadline) = phase { earliest = deadline }
        // Read through the optional: binding it would copy the whole connection.
        earliest = earliest.earliest(connection?.nextDeadline)
        for slot in streams.values {
            if case .protocolStream(let stream) = slot { earliest = earliest.earliest(stream.nextDeadline) }
        }
        deadline = earliest
    }
}

/// What the swarm does with one stream of a connection.
enum StreamSlot {
    /// An outbound stream whose protocol is being negotiated, and what it is for.
    case opening(OutboundPurpose)
    /// A stream the swarm runs with a built-in protocol machine.
    case protocolStream(ProtocolStream)
    /// A stream the application reads and writes.
    case application
    /// A relay stream that carries the relayed connection with this identifier.
    case circuitCarrier(ConnectionID)
    /// One side of a circuit this node relays.
    case splice(RelayCircuitID)
    /// A stream whose user is gone: what arrives is dropped until it ends.
    case discarding
}

/// Why the swarm opened an outbound stream.
enum OutboundPurpose {
    /// The application asked for a stream.
    case application(RequestID)
    /// Our identify request after a connection is established.
    case identify
    /// An identify push after our addresses or protocols changed.
    case identifyPush
    case ping(RequestID, count: Int)
    case perf(RequestID, uploadBytes: UInt64, downloadBytes: UInt64)
    case echo(RequestID, byteCount: UInt64)
    /// A reservation (or its refresh) on the relay.
    case reserve(relay: PeerID)
    /// A CONNECT through the relay for the relayed connection `relayed`.
    case relayConnect(relayed: ConnectionID, target: PeerID)
    /// This relay's STOP to the target of `circuit`.
    case stop(RelayCircuitID)
    /// A DCUtR exchange with the peer, as the initiator.
    case holePunch
    /// An AutoNAT request: the peer is asked to dial this node back.
    case autoNAT

    var request: RequestID? {
        switch self {
        case .application(let id), .ping(let id, _), .perf(let id, _, _), .echo(let id, _): id
        case .identify, .identifyPush, .reserve, .relayConnect, .stop, .holePunch, .autoNAT: nil
        }
    }

    var protocols: [String] {
        switch self {
        case .application: []
        case .identify: [StreamProtocolID.identify]
        case .identifyPush: [StreamProtocolID.identifyPush]
        case .ping: [StreamProtocolID.ping]
        case .perf: [StreamProtocolID.perf]
        case .echo: [StreamProtocolID.echo]
        case .reserve, .relayConnect: [RelayProtocolID.hop]
        case .holePunch: [StreamProtocolID.dcutr]
        case .autoNAT: [StreamProtocolID.autoNAT]
        case .stop: [RelayProtocolID.stop]
        }
    }
}
