/// What a node does in circuit relay v2, as a set (py-libp2p's `RelayRole` flags, same bits).
public struct RelayRoles: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    /// Creates roles from their bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Serves the hop protocol: relays circuits for others (a relay daemon).
    public static let hop = RelayRoles(rawValue: 1)
    /// Serves the stop protocol: accepts circuits relayed to this node.
    public static let stop = RelayRoles(rawValue: 2)
    /// Reserves on relays and dials through them.
    public static let client = RelayRoles(rawValue: 4)

    /// The default: a client that accepts relayed connections, not a relay.
    public static let `default`: RelayRoles = [.stop, .client]
}

/// The limits a relay applies: per circuit (duration, data per direction) and in total
/// (circuits open, reservations held). py-libp2p's `RelayLimits`.
///
/// Defaults: 1 h and 1 GiB per circuit (py-libp2p's `RelayConfig.max_circuit_duration`
/// and `max_circuit_bytes`), because in Traverse the relay is a fallback tier that carries
/// application traffic when hole punching fails; go-libp2p's defaults (2 min, 128 KiB) only
/// suit relays that exist for hole punching. The per-circuit and total bandwidth of
/// `RelayHopConfiguration` bound what that costs the relay.
public struct RelayLimits: Hashable, Sendable {
    /// The longest a circuit stays open (sent as `Limit.duration`, whole seconds); `nil`
    /// for no limit.
    public var duration: Duration?
    /// The most bytes per direction of a circuit (sent as `Limit.data`); `nil` for no limit.
    public var data: UInt64?
    /// Circuits open at once through this relay, in total.
    public var maximumCircuitConnections: Int
    /// Reservations held at once, in total.
    public var maximumReservations: Int

    /// Limits with the defaults: 1 h, 1 GiB, 64 circuits, 32 reservations.
    public init(
        duration: Duration? = .seconds(3600), data: UInt64? = 1 << 30,
        maximumCircuitConnections: Int = 64, maximumReservations: Int = 32
    ) {
        self.duration = duration
        self.data = data
        self.maximumCircuitConnections = maximumCircuitConnections
        self.maximumReservations = maximumReservations
    }

    /// The wire `Limit` of these limits, or `nil` when neither applies. Durations are sent in
    /// whole seconds (rounded up, at most `UInt32.max`).
    public var circuitLimit: CircuitLimit? {
        guard duration != nil || data != nil else { return nil }
        var seconds: UInt32 = 0
        if let duration, duration > .zero {
            let nanoseconds = duration.nanosecondsClamped
            let whole = nanoseconds / 1_000_000_000 + (nanoseconds % 1_000_000_000 == 0 ? 0 : 1)
            seconds = UInt32(clamping: whole)
        }
        return CircuitLimit(durationSeconds: seconds, dataBytes: data ?? 0)
    }
}

/// The relay (hop) side's policy: py-libp2p's `HopConfig` plus the reservation TTL and
/// peer filtering.
///
/// Rates are token buckets per source IP address: `reservationRatePerIP` reservations and
/// `circuitRatePerIP` circuits per `rateInterval` (one minute), with bursts up to the same
/// numbers. Bandwidth is bytes per second, per circuit and over all circuits.
public struct RelayHopConfiguration: Hashable, Sendable {
    /// Per-circuit limits and the totals of circuits and reservations.
    public var limits: RelayLimits
    /// Reservations held by peers at one IP address.
    public var maximumReservationsPerIP: Int
    /// Circuits open from one IP address.
    public var maximumCircuitsPerIP: Int
    /// Circuits open from or to one peer (go-libp2p's `MaxCircuits`).
    public var maximumCircuitsPerPeer: Int
    /// Reservation requests accepted per IP address per `rateInterval`.
    public var reservationRatePerIP: Int
    /// Circuit requests accepted per IP address per `rateInterval`.
    public var circuitRatePerIP: Int
    /// The period of the rates.
    public var rateInterval: Duration
    /// Bytes per second one circuit may move (both directions together); 0 for no limit.
    public var maximumBandwidthPerCircuit: Int
    /// Bytes per second all circuits together may move; 0 for no limit.
    public var maximumBandwidthTotal: Int
    /// How long a reservation lasts; a refresh starts it again (go-libp2p and py-libp2p: 1 h).
    public var reservationTTL: Duration
    /// When not `nil`, only these peers may reserve or connect (and be connected to).
    public var allowedPeers: Set<PeerID>?
    /// Peers refused with `PERMISSION_DENIED`.
    public var deniedPeers: Set<PeerID>
    /// IP addresses whose rate buckets are remembered; past it, full buckets are forgotten
    /// and, if all are in use, new addresses are refused.
    public var maximumTrackedAddresses: Int

    /// A configuration with the defaults of py-libp2p's `HopConfig` (8 reservations and 16
    /// circuits per IP, rates 4 and 8 per minute, 1 MiB/s per circuit, 10 MiB/s in total),
    /// 16 circuits per peer and a TTL of 1 h.
    public init(
        limits: RelayLimits = RelayLimits(),
        maximumReservationsPerIP: Int = 8, maximumCircuitsPerIP: Int = 16,
        maximumCircuitsPerPeer: Int = 16,
        reservationRatePerIP: Int = 4, circuitRatePerIP: Int = 8, rateInterval: Duration = .seconds(60),
        maximumBandwidthPerCircuit: Int = 1 << 20, maximumBandwidthTotal: Int = 10 << 20,
        reservationTTL: Duration = .seconds(3600),
        allowedPeers: Set<PeerID>? = nil, deniedPeers: Set<PeerID> = [],
        maximumTrackedAddresses: Int = 4096
    ) {
        self.limits = limits
        self.maximumReservationsPerIP = maximumReservationsPerIP
        self.maximumCircuitsPerIP = maximumCircuitsPerIP
        self.maximumCircuitsPerPeer = maximumCircuitsPerPeer
        self.reservationRatePerIP = reservationRatePerIP
        self.circuitRatePerIP = circuitRatePerIP
        self.rateInterval = rateInterval
        self.maximumBandwidthPerCircuit = maximumBandwidthPerCircuit
        self.maximumBandwidthTotal = maximumBandwidthTotal
        self.reservationTTL = reservationTTL
        self.allowedPeers = allowedPeers
        self.deniedPeers = deniedPeers
        self.maximumTrackedAddresses = maximumTrackedAddresses
    }

    /// Total circuits (`limits.maximumCircuitConnections`, 64 by default).
    public var maximumCircuitsTotal: Int { limits.maximumCircuitConnections }
    /// Total reservations (`limits.maximumReservations`, 32 by default).
    public var maximumReservationsTotal: Int { limits.maximumReservations }

    /// Whether the allow and deny lists let `peer` use the relay.
    public func permits(_ peer: PeerID) -> Bool {
        if deniedPeers.contains(peer) { return false }
        if let allowedPeers { return allowedPeers.contains(peer) }
        return true
    }
}

/// The client side's policy: py-libp2p's `ClientConfig`.
public struct RelayClientConfiguration: Hashable, Sendable {
    /// The fraction of a reservation's lifetime after which it is refreshed (0.8).
    public var reservationRefreshThreshold: Double
    /// Relays this node holds reservations on at once (2).
    public var maximumConcurrentReservations: Int
    /// Whether to find relays and reserve automatically when not reachable.
    public var enableAutoRelay: Bool
    /// How long automatic relay selection may take (30 s).
    public var autoRelayTimeout: Duration
    /// Attempts of automatic relay selection before giving up (3).
    public var maximumAutoRelayAttempts: Int
    /// The lowest relay score considered (0.5).
    public var minimumRelayScore: Double
    /// The highest round-trip time of a usable relay (1 s).
    public var maximumRelayLatency: Duration
    /// Whether a reservation reply without a voucher is refused (it should carry one).
    public var requireVoucher: Bool

    /// A configuration with py-libp2p's defaults.
    public init(
        reservationRefreshThreshold: Double = 0.8, maximumConcurrentReservations: Int = 2,
        enableAutoRelay: Bool = true, autoRelayTimeout: Duration = .seconds(30),
        maximumAutoRelayAttempts: Int = 3, minimumRelayScore: Double = 0.5,
        maximumRelayLatency: Duration = .seconds(1), requireVoucher: Bool = true
    ) {
        self.reservationRefreshThreshold = reservationRefreshThreshold
        self.maximumConcurrentReservations = maximumConcurrentReservations
        self.enableAutoRelay = enableAutoRelay
        self.autoRelayTimeout = autoRelayTimeout
        self.maximumAutoRelayAttempts = maximumAutoRelayAttempts
        self.minimumRelayScore = minimumRelayScore
        self.maximumRelayLatency = maximumRelayLatency
        self.requireVoucher = requireVoucher
    }
}

/// Timeouts of the relay protocols: py-libp2p's `TimeoutConfig`.
public struct RelayTimeouts: Hashable, Sendable {
    /// Opening a stream to find relays (10 s).
    public var discoveryStream: Duration
    /// Asking a peer for its protocols (5 s).
    public var peerProtocol: Duration
    /// Reading a hop or stop message (15 s): the machines' timeout.
    public var protocolRead: Duration
    /// Writing a hop or stop message (15 s).
    public var protocolWrite: Duration
    /// Closing a relay stream (10 s).
    public var protocolClose: Duration
    /// Reading a DCUtR message (30 s).
    public var dcutrRead: Duration
    /// Writing a DCUtR message (30 s).
    public var dcutrWrite: Duration
    /// Dialing a relay (10 s).
    public var dial: Duration

    /// Timeouts with py-libp2p's defaults.
    public init(
        discoveryStream: Duration = .seconds(10), peerProtocol: Duration = .seconds(5),
        protocolRead: Duration = .seconds(15), protocolWrite: Duration = .seconds(15),
        protocolClose: Duration = .seconds(10), dcutrRead: Duration = .seconds(30),
        dcutrWrite: Duration = .seconds(30), dial: Duration = .seconds(10)
    ) {
        self.discoveryStream = discoveryStream
        self.peerProtocol = peerProtocol
        self.protocolRead = protocolRead
        self.protocolWrite = protocolWrite
        self.protocolClose = protocolClose
        self.dcutrRead = dcutrRead
        self.dcutrWrite = dcutrWrite
        self.dial = dial
    }
}

/// Everything about circuit relay v2 for one node: py-libp2p's `RelayConfig`.
public struct RelayConfiguration: Hashable, Sendable {
    /// What the node does (`[.stop, .client]` by default).
    public var roles: RelayRoles
    /// The relay's policy, used with `.hop`.
    public var hop: RelayHopConfiguration
    /// The client's policy, used with `.client`.
    public var client: RelayClientConfiguration
    /// Protocol timeouts.
    public var timeouts: RelayTimeouts
    /// Relays to reserve on first.
    public var bootstrapRelays: [Multiaddr]
    /// Relays a client tries to keep connected (3).
    public var minimumRelays: Int
    /// The most relays a client remembers (20).
    public var maximumRelays: Int
    /// How often a client looks for relays (5 min).
    public var discoveryInterval: Duration

    /// A configuration with py-libp2p's defaults.
    public init(
        roles: RelayRoles = .default, hop: RelayHopConfiguration = .init(),
        client: RelayClientConfiguration = .init(), timeouts: RelayTimeouts = .init(),
        bootstrapRelays: [Multiaddr] = [], minimumRelays: Int = 3, maximumRelays: Int = 20,
        discoveryInterval: Duration = .seconds(300)
    ) {
        self.roles = roles
        self.hop = hop
        self.client = client
        self.timeouts = timeouts
        self.bootstrapRelays = bootstrapRelays
        self.minimumRelays = minimumRelays
        self.maximumRelays = maximumRelays
        self.discoveryInterval = discoveryInterval
    }

    /// Whether the node relays for others.
    public var enablesHop: Bool { roles.contains(.hop) }
    /// Whether the node accepts relayed connections.
    public var enablesStop: Bool { roles.contains(.stop) }
    /// Whether the node reserves on relays and dials through them.
    public var enablesClient: Bool { roles.contains(.client) }
}
