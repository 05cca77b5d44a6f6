import DequeModule

/// The sans-IO libp2p host: it owns every connection machine, the streams the node serves
/// itself (identify, identify push, ping, perf, echo), the peer store, dials and listeners,
/// and hands everything else to the application.
///
/// It has the machine contract's shape, widened to many sockets:
/// - the driver reports socket events with `listenerStarted`, `accepted`, `connected`,
///   `connectFailed`, `received`, `transportClosed`, `transportBlocked`/`transportUnblocked`,
///   and name lookups with `hostLookupCompleted`, `datagramReceived`, `datagramFailed`;
/// - the application commands with `listen`, `dial`, `openStream`, `ping`, `perf`, `echo`,
///   stream `read`/`write`/`closeWrite`/`reset`, `closeConnection` and `shutdown`;
/// - after each input the driver drains `pollTransmit` (bytes for a connection's socket),
///   then `pollAction` (sockets to open and close, lookups), arms a timer for
///   `nextDeadline` and calls `handleTimeout` when it fires; the application drains
///   `pollEvent`.
///
/// All policy lives here (what to dial, when to give up, which limits apply), so the
/// deterministic simulator and the libuv driver run the same decisions.
public struct Swarm {
    /// This node's peer ID.
    public let localPeer: PeerID
    /// Settings and limits.
    public let configuration: SwarmConfiguration
    /// What the swarm knows of other peers.
    public internal(set) var peerStore: PeerStore

    let identityKey: PrivateKey
    /// `configuration.connection`, shared by every connection.
    let connectionConfiguration: SharedConnectionConfiguration
    let noiseIdentity: NoiseIdentity
    var generator: any RandomNumberGenerator

    var connections: [ConnectionID: ConnectionSlot] = [:]
    /// Established connections by peer, oldest first.
    var connectionsByPeer: [PeerID: [ConnectionID]] = [:]
    var listeners: [ListenerID: ListenerState] = [:]
    var dials: [DialID: DialState] = [:]
    /// Application dials waiting on a shared dial, by the shared dial's identifier.
    var dialsByPeer: [PeerID: DialID] = [:]
    var requests: [RequestID: PendingRequest] = [:]
    /// Protocols the application handles, in the order they were added.
    var applicationProtocols: [String] = [] {
        didSet { supportedProtocols = Self.supportedProtocols(configuration, application: applicationProtocols) }
    }
    /// The protocols inbound streams may select, built-in and the application's: one array
    /// that every connection shares.
    private(set) var supportedProtocols: [String]
    /// Addresses other peers reported seeing us at, with the peers that reported each (up to
    /// `maximumObserversPerAddress` of them).
    public internal(set) var observedAddresses: [Multiaddr: Set<PeerID>] = [:]

    /// Name resolutions of dials, and the driver lookups they wait on.
    var resolutions: [UInt64: ResolutionSlot] = [:]
    var lookups: [LookupID: (resolution: UInt64, request: ResolutionRequestID)] = [:]

    var actions: Deque<SwarmAction> = []
    var events: Deque<SwarmEvent> = []
    /// Connections that may have bytes to send, in the order they got them.
    var transmitQueue: Deque<ConnectionID> = []
    var transmitQueued: Set<ConnectionID> = []
    var lastIdentifier: UInt64 = 0
    var recordSequence: UInt64
    var cachedSignedRecord: SignedPeerRecord?
    /// The time of the latest input, for work set off by `pollTransmit`, which takes none.
    var latestInput: Instant
    var isShutDown = false
    /// Scratch buffer for reads from streams into protocol machines.
    var readScratch: [UInt8] = []
    /// Circuit Relay v2: the hop role's resources and circuits, the client's reservations.
    var relay = SwarmRelayState()
    /// AutoRelay: relay candidates, their records, the next health check.
    var autoRelay = SwarmAutoRelayState()
    /// DCUtR: hole punches in progress and the relayed connections they replaced.
    var holePunch = SwarmHolePunchState()
    /// The NATS tier: the server connection and the pipes' connections.
    var nats = SwarmNATSState()
    /// AutoNAT in both roles, identify's observed addresses, and the reachability verdict.
    var reachability: SwarmReachabilityState
    /// Per-peer metrics and the node's counters by tier.
    var peerMetrics = SwarmMetricsState()
    /// The instant the swarm was created, when the wall clock read `unixTimeAtStart`.
    let startedAt: Instant

    /// A swarm for `identityKey`.
    ///
    /// - Parameters:
    ///   - generator: randomness for Noise keys and ping payloads; pass
    ///     `SecureRandomNumberGenerator` outside tests and simulations.
    public init(
        identityKey: PrivateKey, configuration: SwarmConfiguration = .init(), now: Instant,
        using generator: some RandomNumberGenerator
    ) throws(KeyError) {
        var generator = generator
        self.identityKey = identityKey
        self.localPeer = identityKey.peerID
        self.configuration = configuration
        self.connectionConfiguration = SharedConnectionConfiguration(configuration.connection)
        self.noiseIdentity = try NoiseIdentity(identityKey: identityKey, using: &generator)
        self.generator = generator
        self.peerStore = PeerStore(limits: configuration.peerStore)
        self.recordSequence = configuration.peerRecordSequenceBase
        self.latestInput = now
        self.startedAt = now
        self.supportedProtocols = Self.supportedProtocols(configuration, application: [])
        self.reachability = SwarmReachabilityState(configuration: configuration.autoNAT, now: now)
        self.cachedSignedRecord = try SignedPeerRecord(
            sealing: PeerRecord(peerID: localPeer, seq: recordSequence, addresses: []), with: identityKey)
        if configuration.relay.enablesHop {
            relay.resources = RelayResources(configuration: configuration.relay.hop, now: now)
        }
        startAutoRelay(now: now)
        connectToNATSServer(now: now)
    }

    // MARK: - Draining

    /// The next action for the driver, or `nil`. Drain `pollTransmit` first.
    public mutating func pollAction() -> SwarmAction? {
        actions.popFirst()
    }

    /// The next event for the application, or `nil`.
    public mutating func pollEvent() -> SwarmEvent? {
        events.popFirst()
    }

    /// Appends bytes for one connection's socket to `buffer` and names the connection, or
    /// returns `nil` when no connection has bytes to send. Call until `nil`, writing each
    /// chunk to its socket, before draining `pollAction`.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> ConnectionID? {
        while true {
            runRelayWork()
            guard let id = transmitQueue.popFirst() else {
                if relay.work.isEmpty { return nil }
                continue
            }
            transmitQueued.remove(id)
            if id == nats.socket {
                if transmitNATS(into: &buffer) { return id }
                continue
            }
            if connections[id]?.circuit != nil {
                // A relayed connection's bytes go into its relay stream, not to a socket.
                pumpCircuit(id)
                continue
            }
            if connections[id]?.natsCarrier != nil {
                // A NATS connection's bytes go into its pipe.
                pumpNATSPipe(id)
                continue
            }
            guard var slot = connections.removeValue(forKey: id) else { continue }
            if slot.transportBlocked && !slot.isClosing {
                connections[id] = slot
                continue
            }
            let start = buffer.count
            var requeue = false
            while slot.connection != nil {
                while slot.connection!.pollTransmit(into: &buffer) > 0 {}
                if slot.isClosing { break }
                // Draining may have made streams writable (the muxer's send queue emptied),
                // and their new bytes go out in the same chunk.
                guard processConnectionEvents(&slot, id: id, now: latestInput) else { break }
                if buffer.count - start >= Self.transmitChunkLimit {
                    requeue = true
                    break
                }
            }
            if slot.isClosing {
                // The last bytes (a GoAway) are out: the socket can go.
                actions.append(.close(id))
                if buffer.count > start { return id }
                continue
            }
            slot.refreshDeadline()
            connections[id] = slot
            if requeue { enqueueTransmit(id) }
            if buffer.count > start { return id }
        }
    }

    /// The most bytes `pollTransmit` hands out for one connection in one call (more may
    /// follow in the next call).
    static let transmitChunkLimit = 1 << 20

    /// The earliest time `handleTimeout` must be called, or `nil`.
    public var nextDeadline: Instant? {
        var earliest: Instant?
        for slot in connections.values { earliest = earliest.earliest(slot.deadline) }
        for dial in dials.values {
            earliest = earliest.earliest(dial.deadline)
            earliest = earliest.earliest(dial.nextAttemptAt)
        }
        earliest = earliest.earliest(resolutionDeadline)
        earliest = earliest.earliest(holePunch.nextDeadline)
        if configuration.autoRelay.isEnabled { earliest = earliest.earliest(autoRelay.nextCheck) }
        earliest = earliest.earliest(nats.nextDeadline)
        earliest = earliest.earliest(reachability.nextDeadline)
        return earliest.earliest(relayDeadline)
    }

    /// Runs everything whose deadline has come: connect and dial timeouts, the next dial
    /// attempt, connection keepalives and handshakes, protocol stream timeouts.
    public mutating func handleTimeout(now: Instant) {
        latestInput = max(latestInput, now)
        let due = connections.compactMap { id, slot in slot.deadline.map { $0 <= now ? id : nil } ?? nil }
        for id in due.sorted() {
            guard var slot = connections.removeValue(forKey: id) else { continue }
            if case .connecting(let deadline) = slot.phase, deadline <= now {
                connections[id] = slot
                connectFailed(id, .timedOut, now: now)
                continue
            }
            slot.connection?.handleTimeout(now: now)
            for streamID in slot.streams.keys {
                // Only protocol streams have timers; the others (application streams, relay
                // carriers and splices) stay in place.
                guard case .protocolStream? = slot.streams[streamID],
                      case .protocolStream(var stream)? = slot.streams.removeValue(forKey: streamID)
                else { continue }
                if let deadline = stream.nextDeadline, deadline <= now { stream.handleTimeout(now: now) }
                slot.streams[streamID] = .protocolStream(stream)
                pumpProtocolStream(&slot, connectionID: id, streamID: streamID, now: now)
            }
            processConnectionEvents(&slot, id: id, now: now)
            settle(slot, id: id)
        }
        handleResolutionTimeouts(now: now)
        handleRelayTimeouts(now: now)
        handleHolePunchTimeouts(now: now)
        handleAutoRelayTimeouts(now: now)
        handleNATSTimeouts(now: now)
        handleReachabilityTimeouts(now: now)
        for id in dials.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let dial = dials[id] else { continue }
            if dial.deadline <= now {
                failDial(id, .timedOut, now: now)
            } else if let next = dial.nextAttemptAt, next <= now {
                startNextAttempt(id, now: now)
            }
        }
    }

    // MARK: - Bookkeeping

    mutating func makeIdentifier() -> UInt64 {
        lastIdentifier += 1
        return lastIdentifier
    }

    mutating func enqueueTransmit(_ id: ConnectionID) {
        if transmitQueued.insert(id).inserted { transmitQueue.append(id) }
    }

    /// Puts a slot taken out of `connections` back, with its deadline refreshed and its
    /// socket queued for transmit.
    mutating func settle(_ slot: ConnectionSlot, id: ConnectionID) {
        var slot = slot
        slot.refreshDeadline()
        connections[id] = slot
        if slot.connection != nil { enqueueTransmit(id) }
    }

    /// Whether a peer has an established connection, for the peer store's eviction. Asked
    /// only when the store must evict: building a set of every connected peer on each
    /// update cost O(connections) per connection and identify.
    var isConnectedPeer: (PeerID) -> Bool {
        let connectionsByPeer = connectionsByPeer
        return { connectionsByPeer[$0] != nil }
    }

    /// The established connections to `peer`, oldest first.
    public func connections(to peer: PeerID) -> [ConnectionSummary] {
        (connectionsByPeer[peer] ?? []).compactMap { connections[$0]?.summary }
    }

    /// Every established connection.
    public var establishedConnections: [ConnectionSummary] {
        connections.values.compactMap(\.summary).sorted { $0.id < $1.id }
    }

    /// The number of sockets the swarm holds (connecting, upgrading, established, closing).
    public var connectionCount: Int { connections.count }

    /// Whether `shutdown` was called and every socket is closed.
    public var isIdle: Bool { isShutDown && connections.isEmpty && dials.isEmpty && nats.socket == nil }

    /// Whether the NATS tier's server connection is up (connected and subscribed).
    public var isNATSConnected: Bool { nats.isReady }
}

/// A listener and the addresses it listens on.
struct ListenerState {
    let requested: Multiaddr
    var addresses: [Multiaddr] = []
}
