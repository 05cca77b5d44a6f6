/// AutoNAT v1 and reachability settings of a swarm.
public struct AutoNATSwarmConfiguration: Sendable {
    /// Whether the swarm serves `/libp2p/autonat/1.0.0`: dials peers back at the addresses
    /// they ask about (only at the IP their connection comes from, never over a relayed
    /// connection, rate-limited by `admission`).
    public var servesDialBacks = true
    /// Whether the swarm asks peers that serve AutoNAT to dial it back, to learn whether
    /// it is reachable (`Swarm.status`).
    public var probesReachability = true
    /// The server machine's limits; `publicScopes` also decide which of the peer's
    /// addresses count as public.
    public var server = AutoNATServerConfiguration()
    /// Dial-back rate limits of the server.
    public var admission = AutoNATServerAdmissionConfiguration()
    /// The client machine's limits.
    public var client = AutoNATClientConfiguration()
    /// How AutoNAT results turn into a reachability.
    public var reachability = ReachabilityStatusConfiguration()
    /// How identify's observed addresses are confirmed and judged (NAT type).
    public var observedAddresses = ObservedAddressBookConfiguration()
    /// How many peers are asked at once while the reachability is unknown (a verdict needs
    /// `reachability.resultsToFlip` results from distinct peers); one at a time after.
    public var concurrentProbesWhileUnknown = 3
    /// How long one dial back may take (TCP connect and the security handshake).
    public var dialBackTimeout: Duration = .seconds(15)
    /// The scopes whose addresses are public for this swarm: the addresses it asks to be
    /// dialed back at, the observers and observed addresses that count. `.global` by
    /// default; a lab on documentation addresses adds `.documentation`. Setting it sets
    /// the server's and the observed-address book's scopes too.
    public var publicScopes: Set<IPAddressScope> = [.global] {
        didSet {
            server.publicScopes = publicScopes
            observedAddresses.publicScopes = publicScopes
        }
    }

    /// The defaults.
    public init() {}
}

/// A dial back this node runs as an AutoNAT server for a peer that asked.
struct AutoNATDialBack {
    /// The connection and stream of the request being answered.
    let requestConnection: ConnectionID
    let requestStream: StreamID
    /// The peer that must answer the dial back.
    let peer: PeerID
    /// The address being tried, and the ones after it.
    var address: Multiaddr
    var remaining: [Multiaddr]
}

/// The swarm's view of its own reachability and its AutoNAT work in both roles.
struct SwarmReachabilityState {
    /// Identify's observed addresses: confirmation and NAT type.
    var observedAddresses: ObservedAddressBook
    /// AutoNAT results: public, private or unknown.
    var status: ReachabilityStatus
    /// The server's admission (relayed connections, rate limits).
    var admission: AutoNATServerAdmission
    /// When the last round of probes started, the probes in flight (their connection and
    /// peer), and when the next round is due (`nil`: no peer to ask is known; an identify
    /// from one schedules it).
    var lastProbeAt: Instant?
    var probes: [ConnectionID: PeerID] = [:]
    var nextProbeAt: Instant?
    /// Peers asked lately, newest last (a few, so probes go to different peers).
    var askedPeers: [PeerID] = []
    /// Dial backs in progress, by their socket.
    var dialBacks: [ConnectionID: AutoNATDialBack] = [:]
    /// The status last reported in a `reachabilityChanged` event.
    var reportedStatus: NodeStatus?

    /// How many recently asked peers are avoided when choosing the next one to ask.
    static let askedPeersRemembered = 8

    init(configuration: AutoNATSwarmConfiguration, now: Instant) {
        observedAddresses = ObservedAddressBook(configuration: configuration.observedAddresses)
        status = ReachabilityStatus(configuration: configuration.reachability)
        admission = AutoNATServerAdmission(configuration: configuration.admission, now: now)
    }

    /// The earliest of the probe time, the observed addresses' expiry and the status decay.
    var nextDeadline: Instant? {
        nextProbeAt.earliest(observedAddresses.nextDeadline).earliest(status.nextDeadline)
    }
}
