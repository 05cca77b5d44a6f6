/// The swarm's settings for DCUtR hole punching.
public struct HolePunchSwarmConfiguration: Sendable {
    /// Whether the swarm serves `/libp2p/dcutr` on relayed connections and hole-punches the
    /// relayed connections it accepts (the DCUtR initiator's side).
    public var isEnabled = true
    /// The exchange: its timeout and which addresses are dialed.
    public var exchange = HolePunchConfiguration()
    /// Attempts per relayed connection, the dial timeout and the legacy role swap.
    public var attempts = HolePunchAttemptPolicy()
    /// Whether a node whose observers show a symmetric NAT (a new port for every
    /// connection: `Swarm.status(now:).natType`) neither starts nor answers hole punches,
    /// so no attempt is spent on a simultaneous open that cannot meet.
    public var skipsWhenSymmetricNAT = true
    /// How long a relayed connection that a hole punch replaced stays open before it is
    /// closed (once it has no streams): the peer may not have its side of the direct
    /// connection yet and still open a stream on the relayed one.
    public var relayedConnectionGrace: Duration = .seconds(2)

    /// The defaults.
    public init() {}
}

/// One peer's hole punch: the relayed connection it upgrades and the attempts made.
struct HolePunchSession {
    /// The relayed connection the DCUtR streams run on.
    let relayed: ConnectionID
    var attempts: HolePunchAttempts
    /// The upgrade role of the current attempt's dials (also of an inbound connection
    /// from one of `dialAddresses`: in a simultaneous open only one SYN may get through).
    var connectionRole: ConnectionRole?
    /// The sockets of the current attempt, and where they go.
    var dials: Set<ConnectionID> = []
    var dialAddresses: Set<SocketAddress> = []
    /// The initiator's machine after its stream ended (the responder closes it on SYNC),
    /// still waiting for its RTT/2 timer to say dial.
    var waitingInitiator: HolePunchInitiator?
    /// The relayed connection closed while dials were in flight: the session ends with
    /// the last of them.
    var relayedClosed = false

    /// The attempt's dial timeout, or the waiting initiator's timer.
    var nextDeadline: Instant? { attempts.nextDeadline.earliest(waitingInitiator?.nextDeadline) }
}

/// Hole punching state of the swarm.
struct SwarmHolePunchState {
    /// Sessions by peer, kept until the relayed connection closes (a finished one refuses
    /// further DCUtR streams on it).
    var sessions: [PeerID: HolePunchSession] = [:]
    /// The session each hole-punch socket belongs to.
    var dialPeers: [ConnectionID: PeerID] = [:]
    /// When each established relayed connection came up: hole punching's time to direct
    /// counts from there.
    var relayedSince: [ConnectionID: Instant] = [:]
    /// Relayed connections a direct connection replaced, until their grace ends.
    var retiringAt: [ConnectionID: Instant] = [:]
    /// Relayed connections a direct connection replaced, past their grace: closed once they
    /// have no streams.
    var retiring: Set<ConnectionID> = []
    /// Outbound sockets bound to a listening port, with the address they went to: when the
    /// bind fails they are retried from an ephemeral port.
    var reusedPortDials: [ConnectionID: SocketAddress] = [:]

    /// The earliest attempt deadline (a dial timeout).
    var nextDeadline: Instant? {
        var earliest: Instant?
        for session in sessions.values { earliest = earliest.earliest(session.nextDeadline) }
        for instant in retiringAt.values { earliest = earliest.earliest(instant) }
        return earliest
    }
}
