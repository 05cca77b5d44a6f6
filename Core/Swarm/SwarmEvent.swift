/// What the swarm reports to the application, drained with `Swarm.pollEvent()`.
public enum SwarmEvent: Equatable, Sendable {
    /// A listener is open; `addresses` are its full addresses (an unspecified address is
    /// expanded to the host's interface addresses), each ending with `/p2p/<local ID>`.
    case listening(ListenerID, addresses: [Multiaddr])
    /// A listener could not be opened.
    case listenFailed(ListenerID, address: Multiaddr, TransportFailure)
    /// A connection finished its upgrade: the peer is authenticated.
    case connectionEstablished(ConnectionSummary)
    /// An established connection ended.
    case connectionClosed(ConnectionSummary, ConnectionCloseReason)
    /// A dial succeeded on this connection (possibly one that already existed).
    case dialSucceeded(DialID, peer: PeerID, connection: ConnectionID)
    /// A dial failed.
    case dialFailed(DialID, DialFailure)
    /// Identify (or identify push) told us about a peer; the peer store is updated.
    case peerIdentified(PeerID, IdentifyInfo)
    /// A peer told us how it sees our address (identify's observed address).
    case addressObserved(Multiaddr, by: PeerID)
    /// A connection measured a round-trip time (Yamux keepalive or ping).
    case roundTripTime(ConnectionID, Duration)
    /// The peer opened a stream for a protocol the application handles.
    case inboundStream(SwarmStreamID, protocol: String, peer: PeerID)
    /// An outbound stream the application asked for is ready for data.
    case streamOpened(RequestID, SwarmStreamID, protocol: String)
    /// Data can be read from an application stream whose buffer was empty.
    case streamReadable(SwarmStreamID)
    /// An application stream that took only part of a write can take more.
    case streamWritable(SwarmStreamID)
    /// The peer half-closed an application stream; what is buffered stays readable.
    case streamRemoteClosed(SwarmStreamID)
    /// An application stream was reset (by the peer, or because its connection closed).
    case streamReset(SwarmStreamID)
    /// An application stream is finished in both directions and fully read.
    case streamClosed(SwarmStreamID)
    /// One ping of a `ping` request came back.
    case pingRoundTrip(RequestID, Duration)
    /// A request finished: a stream could not be opened, or a ping, perf or echo request
    /// ended (successfully or not).
    case requestCompleted(RequestID, RequestOutcome)
    // MARK: Relay client

    /// A relay granted (or refreshed) this node's reservation; `addresses` are this node's
    /// circuit addresses through it (`…/p2p/RELAY/p2p-circuit/p2p/SELF`), now among its
    /// listen addresses.
    case reservationAccepted(relay: PeerID, RelayReservationInfo, addresses: [Multiaddr])
    /// A reservation could not be made or was lost; `retryAt` says when it is tried again
    /// (`nil`: given up, as after a refusal).
    case reservationFailed(relay: PeerID, RelayReservationFailure, retryAt: Instant?)
    /// A relayed connection is ending because the relay's limit was reached (the
    /// `connectionClosed` event follows).
    case circuitLimitReached(ConnectionID, CircuitCloseReason)

    // MARK: Relay (hop role)

    /// This relay granted or refreshed a peer's reservation.
    case relayReservationGranted(PeerID)
    /// A peer's reservation on this relay expired.
    case relayReservationExpired(PeerID)
    /// This relay refused a reservation or a circuit of `peer`.
    case relayRequestRefused(peer: PeerID, RelayRefusal)
    /// This relay opened a circuit from `source` to `target`.
    case relayCircuitOpened(RelayCircuitID, source: PeerID, target: PeerID)
    /// A circuit of this relay ended.
    case relayCircuitClosed(RelayCircuitID, RelayCircuitEnd)

    // MARK: Hole punching (DCUtR)

    /// A relayed connection to `peer` was upgraded: the `direct` connection authenticated
    /// the peer on `attempt` (1-based), `timeToDirect` after the relayed connection was up.
    /// New streams go to the direct connection; the relayed one closes once it has none.
    case holePunchSucceeded(peer: PeerID, direct: ConnectionID, relayed: ConnectionID, attempt: Int, timeToDirect: Duration)
    /// Hole punching with `peer` gave up: its connection stays relayed.
    case holePunchFailed(peer: PeerID, HolePunchFailure)

    // MARK: Reachability

    /// An AutoNAT request to `peer` came back (dialed back, not reachable, refused, failed).
    case autoNATResult(peer: PeerID, AutoNATClientEvent)
    /// What this node knows of its reachability changed (AutoNAT's verdict, its NAT type,
    /// its public addresses, whether it needs a relay): `Swarm.status(now:)`.
    case reachabilityChanged(NodeStatus)

    // MARK: NATS tier

    /// The connection to the NATS server is up and subscribed: pipes can be opened and
    /// accepted.
    case natsConnected(NATSServerInfo)
    /// The connection to the NATS server failed or ended; the swarm connects again after
    /// `NATSTierConfiguration.reconnectDelay` (unless it shut down).
    case natsDisconnected(NATSTierDisconnection)
    /// The pipe carrying an established connection of the NATS tier failed (the
    /// `connectionClosed` event follows).
    case natsPipeFailed(ConnectionID, NATSPipeError)
}

/// Why this node's reservation on a relay failed or ended.
public enum RelayReservationFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The relay could not be reached.
    case dialFailed(DialFailure)
    /// The relay refused, or answered with a reservation that does not check out.
    case refused(RelayReservationError)
    /// The connection to the relay closed.
    case connectionLost
    /// The relay does not speak the hop protocol, or the stream failed.
    case streamFailed(RequestFailure)

    public var description: String {
        switch self {
        case .dialFailed(let failure): "relay unreachable: \(failure)"
        case .refused(let error): "reservation refused: \(error)"
        case .connectionLost: "connection to the relay lost"
        case .streamFailed(let failure): "reservation stream failed: \(failure)"
        }
    }
}

/// How a circuit this relay carried (or tried to) ended, with the bytes it carried.
public struct RelayCircuitEnd: Equatable, Sendable {
    /// Why it ended.
    public enum Reason: Equatable, Sendable {
        /// Both sides finished their writes.
        case closed
        /// A side reset its stream or lost its connection.
        case reset
        /// The circuit's limit was reached; both streams were reset.
        case limitReached(CircuitCloseReason)
        /// The target refused the STOP request, or it failed; the source got CONNECTION_FAILED.
        case stopFailed(RelayCircuitFailure)

        /// A short name, for metric labels and logs (`data_limit`, `stop_failed`…).
        public var label: String {
            switch self {
            case .closed: "closed"
            case .reset: "reset"
            case .limitReached(.durationLimitReached): "duration_limit"
            case .limitReached(.dataLimitReached): "data_limit"
            case .stopFailed: "stop_failed"
            }
        }
    }

    /// A short name of the reason, for metric labels and logs.
    public var reasonLabel: String { reason.label }

    /// Why it ended.
    public let reason: Reason
    /// Bytes relayed from the source to the target, and back.
    public let sourceToTargetBytes: UInt64
    public let targetToSourceBytes: UInt64
}

/// What the application is told about a connection.
public struct ConnectionSummary: Equatable, Hashable, Sendable {
    /// The connection.
    public let id: ConnectionID
    /// The authenticated peer.
    public let peer: PeerID
    /// Whether this side dialed it.
    public let direction: ConnectionDirection
    /// The peer's socket address as a multiaddr.
    public let remoteAddress: Multiaddr
    /// This side's socket address as a multiaddr (the relay's address for a relayed
    /// connection).
    public let localAddress: Multiaddr
    /// The relay and its limit when the connection goes through a relay; `nil` for a
    /// direct connection.
    public let relay: RelayedConnectionInfo?
    /// Which tier carries the connection: a direct socket, a relay, or a NATS pipe.
    public let tier: ConnectionTier

    /// Whether the connection goes through a relay (it is limited, and slower).
    public var isRelayed: Bool { relay != nil }
}

/// What carries a connection, from the best tier to the last resort.
public enum ConnectionTier: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A TCP socket to the peer (dialed, accepted, or hole punched).
    case direct
    /// A Circuit Relay v2 circuit through a relay.
    case relay
    /// A pipe through a NATS server (the fallback tier).
    case nats

    public var description: String { rawValue }
}

/// What a relayed connection's summary tells about its relay.
public struct RelayedConnectionInfo: Equatable, Hashable, Sendable {
    /// The relay.
    public let relay: PeerID
    /// The limit the relay applies to the circuit (`nil`: none announced).
    public let limit: CircuitLimit?
}

/// How a request ended.
public enum RequestOutcome: Equatable, Sendable {
    /// Every ping of the request came back, with these round-trip times.
    case pinged([Duration])
    /// A perf run finished.
    case perf(PerfResult)
    /// An echo exchange returned every byte unchanged.
    case echoed(byteCount: UInt64, elapsed: Duration)
    /// The request failed.
    case failed(RequestFailure)
}

/// Why a request failed.
public enum RequestFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// There is no connection to the peer and the dial for it failed.
    case dialFailed(DialFailure)
    /// There is no connection to the peer and no address to dial.
    case notConnected(PeerID)
    /// The connection named in the request is not open.
    case unknownConnection(ConnectionID)
    /// The peer supports none of the protocols (or refused the optimistic one).
    case protocolNotSupported([String])
    /// The stream could not be negotiated (timeout, reset, malformed messages).
    case negotiationFailed(ConnectionStreamFailure)
    /// The connection refused the stream (too many streams, closing…).
    case streamRefused(ConnectionUsageError)
    /// The peer reset the stream, or its connection closed, before the request finished.
    case streamReset
    /// The peer broke the protocol, or it did not answer in time.
    case protocolFailed(String)
    /// Too many requests are waiting or running.
    case tooManyRequests
    /// The swarm is shutting down.
    case shutdown

    public var description: String {
        switch self {
        case .tooManyRequests: "too many requests in progress"
        case .dialFailed(let failure): "dial failed: \(failure)"
        case .notConnected(let peer): "not connected to \(peer) and no address known"
        case .unknownConnection(let id): "\(id) is not open"
        case .protocolNotSupported(let protocols): "peer does not support \(protocols.joined(separator: ", "))"
        case .negotiationFailed(let failure): "stream negotiation failed: \(failure)"
        case .streamRefused(let error): "stream refused: \(error)"
        case .streamReset: "stream reset"
        case .protocolFailed(let text): text
        case .shutdown: "shutting down"
        }
    }
}

/// Why a dial failed.
public enum DialFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The address is not one this swarm can dial (only TCP over IPv4, IPv6, `/dns*` and
    /// `/dnsaddr`).
    case unsupportedAddress(Multiaddr)
    /// The peer is known but no dialable address is.
    case noAddresses(PeerID)
    /// Resolving the address's name failed.
    case resolutionFailed(String)
    /// Every address failed; one reason per attempt.
    case allAttemptsFailed([DialAttemptFailure])
    /// The dial did not finish within the dial timeout.
    case timedOut
    /// The address names this node itself.
    case dialedSelf
    /// The connection limit is reached.
    case connectionLimitReached
    /// The swarm is shutting down.
    case shutdown

    public var description: String {
        switch self {
        case .unsupportedAddress(let address): "unsupported address \(address)"
        case .noAddresses(let peer): "no known address for \(peer)"
        case .resolutionFailed(let text): "could not resolve: \(text)"
        case .allAttemptsFailed(let attempts):
            attempts.map { "\($0.address): \($0.reason)" }.joined(separator: "; ")
        case .timedOut: "dial timed out"
        case .dialedSelf: "cannot dial self"
        case .connectionLimitReached: "connection limit reached"
        case .shutdown: "shutting down"
        }
    }
}

/// One failed attempt of a dial.
public struct DialAttemptFailure: Equatable, Sendable {
    /// The address tried.
    public let address: Multiaddr
    /// What went wrong.
    public let reason: DialAttemptFailureReason

    /// A failure of the attempt at `address`.
    public init(address: Multiaddr, reason: DialAttemptFailureReason) {
        self.address = address
        self.reason = reason
    }
}

/// What went wrong in one attempt of a dial.
public enum DialAttemptFailureReason: Equatable, Sendable, CustomStringConvertible {
    /// The socket could not be opened.
    case transport(TransportFailure)
    /// The socket opened but the upgrade failed (wrong peer, no common protocol…).
    case upgrade(ConnectionCloseReason)
    /// The address's name did not resolve.
    case resolution(MultiaddrResolutionError)
    /// The attempt was given up for a faster one, or at the dial's deadline.
    case cancelled
    /// A circuit address this node cannot dial (client role off, no relay peer ID, or
    /// the relay is the target).
    case unsupported
    /// The NATS tier is not configured, or its server connection is down.
    case natsUnavailable
    /// The NATS pipe failed before the upgrade finished (refused, not accepted in time…).
    case nats(NATSPipeError)
    /// The relay of a circuit address could not be reached.
    indirect case relayUnreachable(DialFailure)
    /// The relay (or the target, through it) refused the circuit, or the exchange failed.
    case relay(RelayCircuitFailure)

    public var description: String {
        switch self {
        case .transport(let failure): failure.description
        case .upgrade(let reason): "upgrade failed: \(reason)"
        case .resolution(let error): "name resolution failed: \(error)"
        case .cancelled: "cancelled"
        case .unsupported: "not a dialable circuit address"
        case .natsUnavailable: "NATS tier unavailable"
        case .nats(let error): "NATS: \(error)"
        case .relayUnreachable(let failure): "relay unreachable: \(failure)"
        case .relay(let failure): "relay: \(failure)"
        }
    }
}
