import TraverseCore

/// Why a `Node` operation failed. Every case has a one-line description for users.
public enum NodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The event loop could not start.
    case startFailed(String)
    /// The node was stopped.
    case stopped
    /// A listener could not be opened.
    case listenFailed(Multiaddr, TransportFailure)
    /// The swarm refused the command (an unsupported address, an unknown stream…).
    case usage(SwarmUsageError)
    /// A dial failed.
    case dialFailed(DialFailure)
    /// A request (stream, ping, perf, echo) failed.
    case requestFailed(RequestFailure)
    /// The stream was reset by the peer, or its connection closed.
    case streamReset
    /// The stream's write side is closed.
    case streamClosed
    /// A read or a write is already waiting on this stream.
    case concurrentStreamUse

    public var description: String {
        switch self {
        case .startFailed(let reason): "could not start the event loop: \(reason)"
        case .stopped: "the node is stopped"
        case .listenFailed(let address, let failure): "cannot listen on \(address): \(failure)"
        case .usage(let error): error.description
        case .dialFailed(let failure): "dial failed: \(failure)"
        case .requestFailed(let failure): failure.description
        case .streamReset: "stream reset"
        case .streamClosed: "stream closed for writing"
        case .concurrentStreamUse: "another read or write is already waiting on this stream"
        }
    }
}

/// What a `Node` reports on its `events` sequence.
public enum NodeEvent: Equatable, Sendable {
    /// A listener is open on these addresses (each ending with `/p2p/<ID>`).
    case listening([Multiaddr])
    /// A connection finished its upgrade.
    case connectionEstablished(ConnectionSummary)
    /// A connection ended.
    case connectionClosed(ConnectionSummary, ConnectionCloseReason)
    /// Identify (or a push) told us about a peer.
    case peerIdentified(PeerID, IdentifyInfo)
    /// A peer reported how it sees our address.
    case addressObserved(Multiaddr, by: PeerID)
    /// A relay granted (or refreshed) this node's reservation; `addresses` are this node's
    /// circuit addresses through it.
    case reservationAccepted(relay: PeerID, addresses: [Multiaddr], expiration: UInt64, limit: CircuitLimit?)
    /// A reservation failed or was lost; `willRetry` says whether it is tried again.
    case reservationFailed(relay: PeerID, RelayReservationFailure, willRetry: Bool)
    /// A relayed connection is ending because its relay's limit was reached.
    case circuitLimitReached(ConnectionID, CircuitCloseReason)
    /// (Relay) a peer's reservation was granted or refreshed.
    case relayReservationGranted(PeerID)
    /// (Relay) a peer's reservation expired or its holder disconnected.
    case relayReservationExpired(PeerID)
    /// (Relay) a reservation or circuit request was refused.
    case relayRequestRefused(peer: PeerID, RelayRefusal)
    /// (Relay) a circuit opened.
    case relayCircuitOpened(RelayCircuitID, source: PeerID, target: PeerID)
    /// (Relay) a circuit ended.
    case relayCircuitClosed(RelayCircuitID, RelayCircuitEnd)
    /// A relayed connection to `peer` was upgraded to the `direct` one by hole punching.
    case holePunchSucceeded(peer: PeerID, direct: ConnectionID, attempt: Int, timeToDirect: Duration)
    /// Hole punching with `peer` gave up; the connection stays relayed.
    case holePunchFailed(peer: PeerID, HolePunchFailure)
    /// An AutoNAT request to `peer` (to dial this node back) came back.
    case autoNATResult(peer: PeerID, AutoNATClientEvent)
    /// What this node knows of its reachability changed (`Node.status()`).
    case reachabilityChanged(NodeStatus)
    /// The connection to the NATS server is up: pipes can be opened and accepted.
    case natsConnected(NATSServerInfo)
    /// The connection to the NATS server failed or ended (it is tried again later).
    case natsDisconnected(NATSTierDisconnection)
    /// The pipe under an established NATS connection failed; `connectionClosed` follows.
    case natsPipeFailed(ConnectionID, NATSPipeError)
}

extension SocketError {
    /// The core's name for this failure.
    var transportFailure: TransportFailure {
        switch self {
        case .connectionRefused: .connectionRefused
        case .timedOut: .timedOut
        case .hostUnreachable, .networkUnreachable: .unreachable
        case .connectionReset: .connectionReset
        case .addressInUse: .addressInUse
        case .addressNotAvailable: .addressNotAvailable
        case .nameNotFound: .nameNotFound
        default: .other(description)
        }
    }
}
