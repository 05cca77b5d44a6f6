import DequeModule

/// Limits of the peer store: everything in it comes from peers.
public struct PeerStoreLimits: Hashable, Sendable {
    /// The most peers kept, not counting peers with a connection (those are bounded by the
    /// connection limits and always kept); past it, the least recently updated peer without
    /// a connection goes first.
    public var maximumPeers = 4096
    /// The most addresses kept per peer.
    public var maximumAddressesPerPeer = 32
    /// The most protocols kept per peer.
    public var maximumProtocolsPerPeer = 128

    /// The defaults.
    public init() {}
}

/// What the swarm knows about one peer.
public struct PeerInfo: Equatable, Sendable {
    /// The peer.
    public let id: PeerID
    /// Its identity key, once a connection or identify showed it.
    public internal(set) var publicKey: PublicKey?
    /// Addresses to dial it at, newest first: from its signed peer record when it sent a
    /// valid one, else from identify's listen addresses, and the addresses it was dialed at.
    public internal(set) var addresses: [Multiaddr] = []
    /// The protocols it announced.
    public internal(set) var protocols: [String] = []
    /// Its identify `agentVersion`.
    public internal(set) var agentVersion: String?
    /// Its identify `protocolVersion`.
    public internal(set) var protocolVersion: String?
    /// The sequence number of the newest signed peer record taken from it.
    public internal(set) var signedRecordSequence: UInt64?
    /// The latest round-trip time measured on a connection to it.
    public internal(set) var roundTripTime: Duration?
    /// When this entry last changed.
    public internal(set) var updatedAt: Instant
}

/// The swarm's bounded record of peers: addresses, protocols, agent, keys and RTTs.
public struct PeerStore: Sendable {
    /// Its limits.
    public let limits: PeerStoreLimits
    private var entries: [PeerID: PeerInfo] = [:]
    /// Peers in the order of their updates, oldest first, for eviction. An update appends
    /// the peer again; the older record is stale (its time no longer matches) and skipped.
    private var evictionOrder: Deque<(peer: PeerID, updatedAt: Instant)> = []
    /// The most records one eviction looks at, so a store full of connected peers costs a
    /// bounded amount per update.
    static let maximumEvictionExamined = 64
    /// One stored copy of each protocol name and agent string peers announced, shared by
    /// their entries: thousands of peers of one kind announce the same few strings.
    private var sharedStrings: Set<String> = []
    /// The most distinct strings shared; later ones are stored per entry.
    static let maximumSharedStrings = 1024

    /// An empty store.
    public init(limits: PeerStoreLimits = .init()) {
        self.limits = limits
    }

    /// The entry of `peer`, if any.
    public subscript(peer: PeerID) -> PeerInfo? { entries[peer] }

    /// The number of peers kept.
    public var count: Int { entries.count }

    /// Every peer kept.
    public var peers: Dictionary<PeerID, PeerInfo>.Keys { entries.keys }

    /// Adds addresses a peer can be dialed at (newest first, duplicates moved to the front).
    mutating func addAddresses(_ addresses: [Multiaddr], for peer: PeerID, now: Instant, keeping isConnected: (PeerID) -> Bool) {
        let limit = limits.maximumAddressesPerPeer
        update(peer, now: now, keeping: isConnected) { info in
            info.addresses = Self.merged(addresses, before: info.addresses, limit: limit)
        }
    }

    /// Records the identity key a connection authenticated.
    mutating func setPublicKey(_ key: PublicKey, for peer: PeerID, now: Instant, keeping isConnected: (PeerID) -> Bool) {
        update(peer, now: now, keeping: isConnected) { $0.publicKey = key }
    }

    /// Records a round-trip time.
    mutating func setRoundTripTime(_ time: Duration, for peer: PeerID, now: Instant) {
        guard entries[peer] != nil else { return }
        entries[peer]?.roundTripTime = time
    }

    /// Takes what identify (or a push) said. A signed peer record replaces the addresses
    /// when its sequence number is newer than the last one taken; without one, the listen
    /// addresses are added. A push carries only what changed, so absent fields keep their
    /// values.
    mutating func apply(_ info: IdentifyInfo, from peer: PeerID, now: Instant, keeping isConnected: (PeerID) -> Bool) {
        let protocolLimit = limits.maximumProtocolsPerPeer
        let addressLimit = limits.maximumAddressesPerPeer
        let protocols = info.protocols.prefix(protocolLimit).map { shared($0) }
        let agent = info.agentVersion.map { shared($0) }
        let version = info.protocolVersion.map { shared($0) }
        update(peer, now: now, keeping: isConnected) { entry in
            if let key = info.publicKey, key.peerID == peer { entry.publicKey = key }
            if !protocols.isEmpty { entry.protocols = protocols }
            if let agent { entry.agentVersion = agent }
            if let version { entry.protocolVersion = version }
            if let record = info.signedPeerRecord?.record, record.peerID == peer {
                if entry.signedRecordSequence.map({ record.seq > $0 }) ?? true {
                    entry.signedRecordSequence = record.seq
                    entry.addresses = Self.merged(record.addresses, before: [], limit: addressLimit)
                }
            } else if !info.listenAddresses.isEmpty {
                entry.addresses = Self.merged(info.listenAddresses, before: entry.addresses, limit: addressLimit)
            }
        }
    }

    /// The stored copy of `string`, kept from now on if there is room.
    private mutating func shared(_ string: String) -> String {
        if let index = sharedStrings.firstIndex(of: string) { return sharedStrings[index] }
        if sharedStrings.count < Self.maximumSharedStrings { sharedStrings.insert(string) }
        return string
    }

    private mutating func update(
        _ peer: PeerID, now: Instant, keeping isConnected: (PeerID) -> Bool, _ change: (inout PeerInfo) -> Void
    ) {
        var entry = entries[peer] ?? PeerInfo(id: peer, updatedAt: now)
        change(&entry)
        entry.updatedAt = now
        let isNew = entries.updateValue(entry, forKey: peer) == nil
        evictionOrder.append((peer, now))
        if isNew && entries.count > limits.maximumPeers { evict(keeping: isConnected) }
        if evictionOrder.count > 2 * entries.count + Self.maximumEvictionExamined { rebuildEvictionOrder() }
    }

    /// Drops the least recently updated peers without a connection until the store is
    /// within its limit, looking at a bounded number of records.
    private mutating func evict(keeping isConnected: (PeerID) -> Bool) {
        var examined = 0
        while entries.count > limits.maximumPeers, examined < Self.maximumEvictionExamined,
              let oldest = evictionOrder.popFirst() {
            examined += 1
            guard let entry = entries[oldest.peer], entry.updatedAt == oldest.updatedAt else { continue }
            if isConnected(oldest.peer) {
                // Kept; it goes to the back, to be looked at again after the others.
                evictionOrder.append(oldest)
            } else {
                entries[oldest.peer] = nil
            }
        }
    }

    /// Drops the stale records of `evictionOrder`.
    private mutating func rebuildEvictionOrder() {
        evictionOrder = Deque(entries.values.sorted { $0.updatedAt < $1.updatedAt }.map { ($0.id, $0.updatedAt) })
    }

    private static func merged(_ newer: [Multiaddr], before older: [Multiaddr], limit: Int) -> [Multiaddr] {
        var seen = Set<Multiaddr>()
        var result: [Multiaddr] = []
        for address in newer + older where result.count < limit {
            let bare = address.withoutTrailingPeerID
            if seen.insert(bare).inserted { result.append(bare) }
        }
        return result
    }
}
