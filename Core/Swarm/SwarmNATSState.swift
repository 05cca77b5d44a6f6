/// The swarm's NATS tier: the socket to the server, the pipe transport on it, and which
/// connection each pipe carries.
struct SwarmNATSState {
    /// The socket to the NATS server (connecting, open, or sending its last bytes).
    var socket: ConnectionID?
    /// Whether the driver reported the socket connected.
    var socketOpen = false
    /// When an unanswered connect is given up.
    var connectDeadline: Instant?
    /// The transport, from the socket's `connected` until it ended and its last bytes went.
    var transport: NATSPipeTransport?
    /// The transport reported `closed`: after its last bytes the socket closes.
    var transportEnded = false
    /// Whether the transport reported `connected` (pipes can be opened).
    var isReady = false
    /// When the server is connected to again after a failure.
    var reconnectAt: Instant?
    /// The driver's socket is full: no transmit until it drains.
    var blocked = false
    /// The connection each live pipe carries.
    var pipes: [NATSPipeID: ConnectionID] = [:]
    /// Pipes whose connection is gone after a clean close: what arrives is read and dropped
    /// until the peer closes too.
    var discarding: Set<NATSPipeID> = []
    /// Outbound attempts waiting for the transport to be ready, oldest first.
    var waitingAttempts: [ConnectionID] = []
    /// The peer ID the transport claims in its frames and subscribes under; `nil`: this
    /// node's own. Tests set it to play a node that lies about its identity.
    var claimedPeer: PeerID?

    /// The earliest timer of the tier.
    var nextDeadline: Instant? {
        var earliest = connectDeadline.earliest(reconnectAt)
        if !transportEnded { earliest = earliest.earliest(transport?.nextDeadline) }
        return earliest
    }
}

/// The pipe that carries a connection of the NATS tier, and the connection's bytes the pipe
/// has not taken yet.
struct NATSPipeCarrier {
    /// The peer at the other end: the dialed peer, or the sender an inbound OPEN claimed
    /// (the Noise handshake must prove it).
    let peer: PeerID
    /// The pipe; `nil` while an outbound attempt waits for the NATS server.
    var pipe: NATSPipeID?
    /// Bytes of the connection the pipe has not taken, from `outboundOffset`.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    /// The pipe is gone (closed or failed); `failure` says why it failed.
    var ended = false
    var failure: NATSPipeError?

    var hasPendingOutbound: Bool { outboundOffset < outbound.count }

    /// The address a NATS connection's peer has: `/p2p/PEER` (there is no socket).
    var remoteAddress: Multiaddr {
        (try? Multiaddr(components: [.p2p(peer)])) ?? Multiaddr()
    }
}
