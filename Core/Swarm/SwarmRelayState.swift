import DequeModule

/// The swarm's Circuit Relay v2 state: the relay's resources and circuits (hop role), and
/// this node's reservations and the relayed dials waiting for their relay (client role).
struct SwarmRelayState {
    /// Admission and accounting of the hop role; `nil` when this node is no relay.
    var resources: RelayResources?
    /// CONNECTs admitted and waiting for the target's STOP answer.
    var pendingCircuits: [RelayCircuitID: PendingCircuit] = [:]
    /// Circuits being relayed.
    var splices: [RelayCircuitID: SpliceState] = [:]
    /// Reservations of this node, by relay.
    var reservations: [PeerID: ReservationState] = [:]
    /// Relayed connections waiting for a connection to their relay, by relay.
    var circuitsAwaitingRelay: [PeerID: [ConnectionID]] = [:]
    /// Work across two connections, done when no connection is out of the table.
    var work: Deque<RelayWork> = []
    /// Bytes relayed in all, both directions.
    var bytesRelayed: UInt64 = 0
    /// Reservations granted (refreshes included) since the start.
    var reservationsGranted: UInt64 = 0
    /// Refusals since the start, by `RelayRefusal.label`.
    var refusals: [String: UInt64] = [:]
    /// Circuits opened since the start, and closed by how they ended.
    var circuitsOpened: UInt64 = 0
    var circuitsClosed: [String: UInt64] = [:]
}

/// Work that touches two connections, queued while one of them is being processed and run
/// at the start of `pollTransmit`.
enum RelayWork {
    /// Open the STOP stream of a circuit on its target's connection.
    case openStop(RelayCircuitID)
    /// Answer a CONNECT on its HOP stream: STATUS OK and splice, or a refusal.
    case answerConnect(RelayCircuitID, Result<[UInt8], RelayCircuitFailure>)
    /// Copy what can go between the two sides of a circuit.
    case pumpSplice(RelayCircuitID)
    /// Open the CONNECT stream of a relayed dial on its relay connection.
    case connectThroughRelay(ConnectionID)
    /// Send RESERVE to the relay on the connection its reservation state names.
    case requestReservation(PeerID)
    /// Reset a relay stream whose relayed connection is gone.
    case resetCarrier(ConnectionID, StreamID)
    /// The circuit addresses changed: re-sign the peer record and push identify.
    case listenAddressesChanged
    /// Start the next DCUtR attempt with this peer on its relayed connection.
    case startHolePunch(PeerID)
    /// AutoRelay: reserve on other relays until enough are held.
    case maintainReservations
}

/// A CONNECT the relay admitted, waiting for the target's STOP answer.
struct PendingCircuit {
    let source: PeerID
    let target: PeerID
    /// The HOP stream, on the source's connection.
    let sourceConnection: ConnectionID
    let sourceStream: StreamID
    let limit: CircuitLimit?
    /// The STOP stream, on the target's connection, once opened.
    var targetConnection: ConnectionID?
    var targetStream: StreamID?
    /// The target's bytes that came with its STOP answer.
    var targetLeftover: [UInt8] = []
}

/// One circuit being relayed: its two streams and the bytes on their way.
struct SpliceState {
    let source: PeerID
    let target: PeerID
    let sourceConnection: ConnectionID
    let sourceStream: StreamID
    let targetConnection: ConnectionID
    let targetStream: StreamID
    var accounting: CircuitSplice
    /// Bytes read from the source not yet taken by the target's stream, and the reverse.
    var toTarget = SpliceBuffer()
    var toSource = SpliceBuffer()
    /// When bandwidth shaping lets more bytes go.
    var resumeAt: Instant?
    /// A side's stream finished cleanly (both directions closed, everything read) and the
    /// muxer let go of it; what it sent may still be on its way to the other side.
    var sourceFinished = false
    var targetFinished = false
}

/// The bytes of one direction of a circuit between reading and writing.
struct SpliceBuffer {
    var bytes: [UInt8] = []
    var offset = 0
    /// The reading side ended its writes (end of stream read).
    var inputEnded = false
    /// The writing side was half-closed after the last byte.
    var outputClosed = false

    var isEmpty: Bool { offset >= bytes.count }

    mutating func append(_ more: [UInt8]) {
        if isEmpty {
            bytes.removeAll(keepingCapacity: true)
            offset = 0
        }
        bytes.append(contentsOf: more)
    }
}

/// This node's reservation on one relay.
struct ReservationState {
    enum Phase {
        /// Dialing the relay.
        case dialing(DialID)
        /// RESERVE sent on this connection.
        case requesting(ConnectionID)
        /// Granted, on this connection; refreshed at `info.refreshAt`.
        case reserved(RelayReservationInfo, ConnectionID)
        /// Waiting to try again.
        case waiting(until: Instant)
    }

    let relay: PeerID
    /// The relay's addresses to dial (each ends with `/p2p/RELAY`).
    var addresses: [Multiaddr]
    var phase: Phase
    /// The last grant, kept while a refresh runs.
    var info: RelayReservationInfo?
    /// Failures in a row, for the back-off.
    var failures = 0

    var deadline: Instant? {
        switch phase {
        case .reserved(let info, _): info.refreshAt
        case .waiting(let until): until
        case .dialing, .requesting: nil
        }
    }
}
