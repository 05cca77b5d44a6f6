import DequeModule

/// Why a relay refuses a reservation or a circuit, and the status it answers with.
public enum RelayRefusal: Error, Hashable, Sendable {
    /// The peer is on the deny list or off the allow list.
    case peerNotPermitted(PeerID)
    /// The request came over a relayed connection (the relay never relays over a relay).
    case relayedConnection
    /// Peers at this IP address hold `maximumReservationsPerIP` reservations.
    case reservationsPerIPExceeded
    /// The relay holds `maximumReservationsTotal` reservations.
    case reservationsTotalExceeded
    /// This IP address asked for reservations faster than `reservationRatePerIP`.
    case reservationRateExceeded
    /// The target of a CONNECT holds no reservation (or it expired).
    case noReservation
    /// Circuits from this IP address are at `maximumCircuitsPerIP`.
    case circuitsPerIPExceeded
    /// Circuits from or to this peer are at `maximumCircuitsPerPeer`.
    case circuitsPerPeerExceeded(PeerID)
    /// The relay has `maximumCircuitsTotal` circuits open.
    case circuitsTotalExceeded
    /// This IP address asked for circuits faster than `circuitRatePerIP`.
    case circuitRateExceeded
    /// Too many distinct IP addresses are being rate-limited at once.
    case tooManyAddresses
    /// A CONNECT to the source itself.
    case connectToSelf
    /// The target of a CONNECT holds a reservation but no connection to the relay.
    case targetNotConnected

    /// The status the relay answers with: the spec's for each case. Reservations over a
    /// limit get `RESERVATION_REFUSED`, circuits over a limit `RESOURCE_LIMIT_EXCEEDED`.
    public var status: RelayStatus {
        switch self {
        case .peerNotPermitted, .relayedConnection: .permissionDenied
        case .reservationsPerIPExceeded, .reservationsTotalExceeded, .reservationRateExceeded: .reservationRefused
        case .noReservation: .noReservation
        case .circuitsPerIPExceeded, .circuitsPerPeerExceeded, .circuitsTotalExceeded, .circuitRateExceeded,
            .tooManyAddresses:
            .resourceLimitExceeded
        case .connectToSelf: .permissionDenied
        case .targetNotConnected: .connectionFailed
        }
    }

    /// A short name of the reason, for metric labels and logs (`reservations_per_ip`).
    public var label: String {
        switch self {
        case .peerNotPermitted: "peer_not_permitted"
        case .relayedConnection: "relayed_connection"
        case .reservationsPerIPExceeded: "reservations_per_ip"
        case .reservationsTotalExceeded: "reservations_total"
        case .reservationRateExceeded: "reservation_rate"
        case .noReservation: "no_reservation"
        case .circuitsPerIPExceeded: "circuits_per_ip"
        case .circuitsPerPeerExceeded: "circuits_per_peer"
        case .circuitsTotalExceeded: "circuits_total"
        case .circuitRateExceeded: "circuit_rate"
        case .tooManyAddresses: "too_many_addresses"
        case .connectToSelf: "connect_to_self"
        case .targetNotConnected: "target_not_connected"
        }
    }
}

/// A reservation the relay holds for a peer.
public struct RelayReservationRecord: Hashable, Sendable {
    /// The peer holding it.
    public var peer: PeerID
    /// The IP address the peer reserved from, if known.
    public var address: IPAddress?
    /// When it expires on the driver's clock.
    public var expiresAt: Instant
}

/// Identifies a circuit in `RelayResources`; never reused.
public struct RelayCircuitID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The circuit's number.
    public let value: UInt64
    /// The circuit numbered `value`.
    public init(_ value: UInt64) { self.value = value }
    public static func < (lhs: RelayCircuitID, rhs: RelayCircuitID) -> Bool { lhs.value < rhs.value }
    public var description: String { "circuit \(value)" }
}

/// What `RelayResources` reports.
public enum RelayResourcesEvent: Hashable, Sendable {
    /// A reservation reached its expiry without a refresh and was removed.
    case reservationExpired(PeerID)
}

/// The relay's bookkeeping, a pure value the swarm owns: reservations by peer (with their
/// IP address and expiry), open circuits (counted per source IP address, per peer and in
/// total), the per-IP rate buckets and the total bandwidth bucket.
///
/// Every admission check says exactly why it refuses (`RelayRefusal`, whose `status` is the
/// answer on the wire). Every admitted circuit gets an ID, and `releaseCircuit` always
/// gives its counts back, whatever happened to it.
///
/// Time is injected: reservations expire at `nextDeadline`, when the owner calls
/// `handleTimeout(now:)` and drains `pollEvent()`.
public struct RelayResources: Sendable {
    private struct Circuit: Hashable, Sendable {
        var source: PeerID
        var target: PeerID
        var address: IPAddress?
    }

    /// The policy.
    public let configuration: RelayHopConfiguration

    private var reservationsByPeer: [PeerID: RelayReservationRecord] = [:]
    /// Every reservation's expiry in order, oldest first, so the deadline and the sweep do
    /// not walk all reservations. Entries of reservations since refreshed or removed stay
    /// until their time (checked against `reservationsByPeer` then) or a compaction.
    private var expiryOrder: Deque<(peer: PeerID, expiresAt: Instant)> = []
    private var reservationsPerIP: [IPAddress: Int] = [:]
    private var circuits: [RelayCircuitID: Circuit] = [:]
    private var circuitsPerIP: [IPAddress: Int] = [:]
    private var circuitsPerPeer: [PeerID: Int] = [:]
    private var reservationBuckets: [IPAddress: TokenBucket] = [:]
    private var circuitBuckets: [IPAddress: TokenBucket] = [:]
    private var bandwidth: TokenBucket
    private var nextCircuitID: UInt64 = 0
    private var events: [RelayResourcesEvent] = []

    /// Empty bookkeeping under `configuration`, starting at `now`.
    public init(configuration: RelayHopConfiguration = .init(), now: Instant) {
        self.configuration = configuration
        bandwidth = TokenBucket(perSecond: configuration.maximumBandwidthTotal, now: now)
    }

    // MARK: Reservations

    /// The number of reservations held.
    public var reservationCount: Int { reservationsByPeer.count }
    /// The number of circuits open.
    public var circuitCount: Int { circuits.count }

    /// The reservation of `peer`, if it holds one that has not expired at `now`.
    public func reservation(of peer: PeerID, now: Instant) -> RelayReservationRecord? {
        guard let record = reservationsByPeer[peer], record.expiresAt > now else { return nil }
        return record
    }

    /// Reservations held from `address`.
    public func reservationCount(at address: IPAddress) -> Int { reservationsPerIP[address.unmapped] ?? 0 }
    /// Circuits open from `address`.
    public func circuitCount(at address: IPAddress) -> Int { circuitsPerIP[address.unmapped] ?? 0 }
    /// Circuits open from or to `peer`.
    public func circuitCount(of peer: PeerID) -> Int { circuitsPerPeer[peer] ?? 0 }

    /// Admits a reservation (or its refresh) for `peer` connected from `address`, valid for
    /// the configured TTL from `now`. A refresh replaces the peer's reservation and is not
    /// counted again against the limits, but it is against the rate.
    ///
    /// - Parameter relayed: whether the request came over a relayed connection.
    /// - Returns: the reservation, or why it is refused (nothing changes then).
    public mutating func reserve(
        peer: PeerID, address: IPAddress?, relayed: Bool, now: Instant
    ) -> Result<RelayReservationRecord, RelayRefusal> {
        if relayed { return .failure(.relayedConnection) }
        guard configuration.permits(peer) else { return .failure(.peerNotPermitted(peer)) }
        let address = address?.unmapped
        let existing = reservation(of: peer, now: now)
        let sameAddress = existing != nil && existing?.address == address
        if !sameAddress {
            if existing == nil, reservationsByPeer.count - expiredUnsweptCount(now: now) >= configuration.maximumReservationsTotal {
                return .failure(.reservationsTotalExceeded)
            }
            if let address, (reservationsPerIP[address] ?? 0) >= configuration.maximumReservationsPerIP {
                return .failure(.reservationsPerIPExceeded)
            }
        }
        if let address {
            switch takeToken(from: \.reservationBuckets, at: address, rate: configuration.reservationRatePerIP, now: now) {
            case .taken: break
            case .empty: return .failure(.reservationRateExceeded)
            case .tooManyAddresses: return .failure(.tooManyAddresses)
            }
        }
        removeReservation(of: peer)
        let record = RelayReservationRecord(
            peer: peer, address: address, expiresAt: now + configuration.reservationTTL)
        reservationsByPeer[peer] = record
        enqueueExpiry(of: record)
        if let address { reservationsPerIP[address, default: 0] += 1 }
        return .success(record)
    }

    /// Removes the reservation of `peer` (it disconnected); returns whether it had one.
    @discardableResult
    public mutating func removeReservation(of peer: PeerID) -> Bool {
        guard let record = reservationsByPeer.removeValue(forKey: peer) else { return false }
        if let address = record.address { decrement(&reservationsPerIP, address) }
        return true
    }

    // MARK: Circuits

    /// Admits a circuit from `source` (connected from `address`) to `target`.
    ///
    /// Checks, in order: relayed source connection and a connect to itself
    /// (`PERMISSION_DENIED`), the allow/deny lists for both ends (`PERMISSION_DENIED`), the
    /// target's reservation (`NO_RESERVATION`), the total, per-IP and per-peer circuit
    /// counts and the per-IP rate (`RESOURCE_LIMIT_EXCEEDED`).
    ///
    /// - Returns: the circuit's ID, to give to `releaseCircuit` when it ends however it
    ///   ends (STOP refused, limits reached, either side closed), or why it is refused.
    public mutating func openCircuit(
        source: PeerID, address: IPAddress?, relayed: Bool, target: PeerID, now: Instant
    ) -> Result<RelayCircuitID, RelayRefusal> {
        if relayed { return .failure(.relayedConnection) }
        if source == target { return .failure(.connectToSelf) }
        guard configuration.permits(source) else { return .failure(.peerNotPermitted(source)) }
        guard configuration.permits(target) else { return .failure(.peerNotPermitted(target)) }
        guard reservation(of: target, now: now) != nil else { return .failure(.noReservation) }
        guard circuits.count < configuration.maximumCircuitsTotal else { return .failure(.circuitsTotalExceeded) }
        let address = address?.unmapped
        if let address, (circuitsPerIP[address] ?? 0) >= configuration.maximumCircuitsPerIP {
            return .failure(.circuitsPerIPExceeded)
        }
        for peer in [source, target] where (circuitsPerPeer[peer] ?? 0) >= configuration.maximumCircuitsPerPeer {
            return .failure(.circuitsPerPeerExceeded(peer))
        }
        if let address {
            switch takeToken(from: \.circuitBuckets, at: address, rate: configuration.circuitRatePerIP, now: now) {
            case .taken: break
            case .empty: return .failure(.circuitRateExceeded)
            case .tooManyAddresses: return .failure(.tooManyAddresses)
            }
        }
        let id = RelayCircuitID(nextCircuitID)
        nextCircuitID += 1
        circuits[id] = Circuit(source: source, target: target, address: address)
        if let address { circuitsPerIP[address, default: 0] += 1 }
        circuitsPerPeer[source, default: 0] += 1
        circuitsPerPeer[target, default: 0] += 1
        return .success(id)
    }

    /// Gives back the counts of circuit `id`; returns whether it was open (a second
    /// release of the same ID does nothing).
    @discardableResult
    public mutating func releaseCircuit(_ id: RelayCircuitID) -> Bool {
        guard let circuit = circuits.removeValue(forKey: id) else { return false }
        if let address = circuit.address { decrement(&circuitsPerIP, address) }
        decrement(&circuitsPerPeer, circuit.source)
        decrement(&circuitsPerPeer, circuit.target)
        return true
    }

    /// Takes up to `count` bytes of the relay's total bandwidth at `now`; returns how many
    /// the caller may forward now.
    public mutating func takeBandwidth(_ count: Int, now: Instant) -> Int {
        bandwidth.takeUpTo(count, now: now)
    }

    /// The bytes of total bandwidth available at `now` (none are taken).
    public mutating func availableBandwidth(now: Instant) -> Int {
        bandwidth.available(now: now)
    }

    /// When `count` bytes of total bandwidth (at least one, at most the burst) will be
    /// available; `nil` when the bandwidth is zero.
    public mutating func bandwidthAvailable(_ count: Int, now: Instant) -> Instant? {
        bandwidth.whenAvailable(max(min(count, bandwidth.capacity), 1), now: now)
    }

    // MARK: Time

    /// The earliest reservation expiry (possibly of one since refreshed or removed: its
    /// `handleTimeout` then only drops the stale entry).
    public var nextDeadline: Instant? {
        expiryOrder.first?.expiresAt
    }

    /// Removes the reservations that expired by `now` (each reported as
    /// `reservationExpired`) and forgets rate buckets that are full again.
    public mutating func handleTimeout(now: Instant) {
        var expired: [PeerID] = []
        while let entry = expiryOrder.first, entry.expiresAt <= now {
            expiryOrder.removeFirst()
            if reservationsByPeer[entry.peer]?.expiresAt == entry.expiresAt { expired.append(entry.peer) }
        }
        for peer in expired.sorted() {
            removeReservation(of: peer)
            events.append(.reservationExpired(peer))
        }
        pruneBuckets(now: now)
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> RelayResourcesEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    // MARK: Private

    private enum TokenOutcome { case taken, empty, tooManyAddresses }

    private mutating func takeToken(
        from buckets: WritableKeyPath<RelayResources, [IPAddress: TokenBucket]>, at address: IPAddress,
        rate: Int, now: Instant
    ) -> TokenOutcome {
        if self[keyPath: buckets][address] == nil {
            if self[keyPath: buckets].count >= configuration.maximumTrackedAddresses { pruneBuckets(now: now) }
            guard self[keyPath: buckets].count < configuration.maximumTrackedAddresses else { return .tooManyAddresses }
            self[keyPath: buckets][address] = TokenBucket(
                capacity: rate, refillAmount: rate, every: configuration.rateInterval, now: now)
        }
        guard var bucket = self[keyPath: buckets][address] else { return .empty }
        let taken = bucket.take(now: now)
        self[keyPath: buckets][address] = bucket
        return taken ? .taken : .empty
    }

    private mutating func pruneBuckets(now: Instant) {
        for key in Array(reservationBuckets.keys) {
            if var bucket = reservationBuckets[key], bucket.isFull(now: now) { reservationBuckets[key] = nil }
        }
        for key in Array(circuitBuckets.keys) {
            if var bucket = circuitBuckets[key], bucket.isFull(now: now) { circuitBuckets[key] = nil }
        }
    }

    /// Reservations past their expiry that `handleTimeout` has not swept yet: the current
    /// entries at the front of `expiryOrder`.
    private func expiredUnsweptCount(now: Instant) -> Int {
        var count = 0
        for entry in expiryOrder {
            guard entry.expiresAt <= now else { break }
            if reservationsByPeer[entry.peer]?.expiresAt == entry.expiresAt { count += 1 }
        }
        return count
    }

    /// Files `record`'s expiry in order (time only moves forward and the TTL is fixed, so
    /// that is at the back), and compacts the queue when stale entries outnumber the
    /// reservations, so refreshes cannot grow it without bound.
    private mutating func enqueueExpiry(of record: RelayReservationRecord) {
        var index = expiryOrder.endIndex
        while index > expiryOrder.startIndex, expiryOrder[index - 1].expiresAt > record.expiresAt { index -= 1 }
        expiryOrder.insert((record.peer, record.expiresAt), at: index)
        if expiryOrder.count > 2 * reservationsByPeer.count + 64 {
            expiryOrder = Deque(
                reservationsByPeer.values.sorted { ($0.expiresAt, $0.peer) < ($1.expiresAt, $1.peer) }
                    .map { (peer: $0.peer, expiresAt: $0.expiresAt) })
        }
    }

    private func decrement<Key: Hashable>(_ counts: inout [Key: Int], _ key: Key) {
        guard let count = counts[key] else { return }
        counts[key] = count > 1 ? count - 1 : nil
    }
}
