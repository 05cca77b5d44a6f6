/// Limits of the peer store: everything in it comes from peers.
public struct PeerStoreLimits: Hashable, Sendable {
    /// The most peers kept; the least recently updated peer without a connection goes first.
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
        update(peer, now: now, keeping: isConnected) { entry in
            if let key = info.publicKey, key.peerID == peer { entry.publicKey = key }
            if !info.protocols.isEmpty { entry.protocols = Array(info.protocols.prefix(protocolLimit)) }
            if let agent = info.agentVersion { entry.agentVersion = agent }
            if let version = info.protocolVersion { entry.protocolVersion = version }
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

    private mutating func update(
        _ peer: PeerID, now: Instant, keeping isConnected: (PeerID) -> Bool, _ change: (inout PeerInfo) -> Void
    ) {
        var entry: PeerInfo
        if let existing = entries[peer] {
            entry = existing
        } else {
            if entries.count >= limits.maximumPeers { evictOne(keeping: isConnected) }
            guard entries.count < limits.maximumPeers else { return }
            entry = PeerInfo(id: peer, updatedAt: now)
        }
        change(&entry)
        entry.updatedAt = now
        entries[peer] = entry
    }

    /// Drops the least recently updated peer that has no connection.
    private mutating func evictOne(keeping isConnected: (PeerID) -> Bool) {
        var oldest: PeerInfo?
        for info in entries.values where !isConnected(info.id) {
            if oldest.map({ info.updatedAt < $0.updatedAt }) ?? true { oldest = info }
        }
        if let oldest { entries[oldest.id] = nil }
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
