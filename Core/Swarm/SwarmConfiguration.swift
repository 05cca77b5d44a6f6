/// Settings and limits of a swarm.
public struct SwarmConfiguration: Sendable {
    /// Settings of every connection's upgrade and streams.
    public var connection = ConnectionConfiguration()
    /// Identify's `agentVersion`.
    public var agentVersion = "traverse/0.1.0"
    /// Identify's `protocolVersion`.
    public var protocolVersion = "ipfs/0.1.0"
    /// How long a dial may take in all, name resolution and upgrade included.
    public var dialTimeout: Duration = .seconds(15)
    /// How long one TCP connect attempt may take before the next address is tried.
    public var connectTimeout: Duration = .seconds(5)
    /// How long a dial waits on one attempt before it also tries the next address
    /// (attempts overlap, the first to finish its upgrade wins).
    public var dialStagger: Duration = .milliseconds(250)
    /// The most attempts of one dial that run at once.
    public var maximumConcurrentAttemptsPerDial = 4
    /// The most addresses one dial tries.
    public var maximumAddressesPerDial = 16
    /// The most connections (upgrading or established, both directions).
    public var maximumConnections = 4096
    /// The most inbound connections still upgrading.
    public var maximumPendingInboundConnections = 256
    /// The most established connections to one peer.
    public var maximumConnectionsPerPeer = 8
    /// The most dials in progress.
    public var maximumPendingDials = 256
    /// The most requests (stream opens, pings, perf, echo) waiting for a dial or running.
    public var maximumPendingRequests = 1024
    /// How long identify, ping, echo and perf streams may stay silent before they fail.
    public var protocolTimeout: Duration = .seconds(30)
    /// Whether the swarm serves `/perf/1.0.0`.
    public var servesPerf = true
    /// Whether the swarm serves `/traverse/echo/1.0.0`.
    public var servesEcho = true
    /// The largest download a perf client may ask this node for.
    public var maximumPerfDownloadBytes: UInt64 = 10 << 30
    /// Bytes the echo server holds while the client does not read its echo.
    public var echoBufferBytes = 1 << 20
    /// The name servers for `/dnsaddr` TXT queries (the driver reads `/etc/resolv.conf`).
    public var resolver = ResolverConfiguration()
    /// Limits of resolving one `/dns*` or `/dnsaddr` address.
    public var resolution = MultiaddrResolutionLimits()
    /// Limits of the peer store.
    public var peerStore = PeerStoreLimits()
    /// The most distinct observed addresses kept.
    public var maximumObservedAddresses = 16
    /// The first sequence number of the signed peer records this node sends; the driver
    /// passes the wall-clock time in milliseconds so numbers grow across restarts.
    public var peerRecordSequenceBase: UInt64 = 0
    /// The wall-clock time, in UNIX seconds, at the instant the swarm was created (the
    /// driver passes the real time): relay reservations expire in wall-clock time.
    public var unixTimeAtStart: UInt64 = 0
    /// Circuit Relay v2: roles (a client that accepts relayed connections by default; add
    /// `.hop` to relay for others), the relay's limits and the client's settings.
    public var relay = RelayConfiguration()
    /// AutoRelay: reservations kept on the best healthy relays (off by default).
    public var autoRelay = AutoRelayConfiguration()
    /// DCUtR: hole punching relayed connections into direct ones.
    public var holePunch = HolePunchSwarmConfiguration()
    /// Whether outgoing TCP connections are bound to a listening port (`SO_REUSEPORT`), so a
    /// NAT maps them to the port the node advertises, as hole punching needs. A dial whose
    /// bind fails is retried from an ephemeral port.
    public var reusesListenPortForDials = true
    /// The NATS fallback tier (`nil`: none): the server that carries pipes when direct and
    /// relayed dials fail, and its limits.
    public var nats: NATSTierConfiguration?
    /// AutoNAT (serving dial backs, probing this node's reachability) and how observed
    /// addresses are judged.
    public var autoNAT = AutoNATSwarmConfiguration()
    /// The most peers with a metrics record (`Swarm.metrics(for:now:)`); when full, the
    /// least recently active peer without a connection is forgotten.
    public var maximumPeerMetrics = 1024

    /// The defaults.
    public init() {}
}
