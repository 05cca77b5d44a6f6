/// A direction of a relayed circuit.
public enum CircuitDirection: Hashable, Sendable {
    /// From the initiator (hop stream) to the target (stop stream).
    case sourceToTarget
    /// From the target back to the initiator.
    case targetToSource
}

/// Why a circuit must close.
public enum CircuitCloseReason: Hashable, Sendable {
    /// A direction carried `Limit.data` bytes.
    case dataLimitReached(CircuitDirection)
    /// The circuit was open for `Limit.duration`.
    case durationLimitReached
}

/// The accounting of one spliced circuit, for the swarm that copies bytes between the hop
/// and the stop stream: bytes per direction and elapsed time against the circuit's limit,
/// and the per-circuit bandwidth.
///
/// Before forwarding, ask `forwardable(_:now:)` how many bytes may go (the data left in that
/// direction, within the bandwidth available now); after forwarding, `record` them. Once
/// `closeReason` is set the owner resets both streams (the spec: "the relay should reset the
/// stream to the source and the stream to the destination"). `nextDeadline` is the duration
/// limit; `handleTimeout(now:)` sets `durationLimitReached` at it.
public struct CircuitSplice: Hashable, Sendable {
    /// The limit applied (`nil`: none).
    public let limit: CircuitLimit?
    /// When the circuit opened.
    public let openedAt: Instant
    /// Bytes forwarded from source to target.
    public private(set) var sourceToTargetBytes: UInt64 = 0
    /// Bytes forwarded from target to source.
    public private(set) var targetToSourceBytes: UInt64 = 0
    /// Why the circuit must close, once it must.
    public private(set) var closeReason: CircuitCloseReason?

    private var bandwidth: TokenBucket?

    /// Accounting from `now` under `limit`, with at most `bandwidth` bytes per second over
    /// both directions (`nil`: unshaped).
    public init(limit: CircuitLimit?, bandwidth: Int? = nil, now: Instant) {
        self.limit = limit
        self.openedAt = now
        self.bandwidth = bandwidth.map { TokenBucket(perSecond: $0, now: now) }
    }

    /// The bytes still allowed in `direction` (`nil`: no data limit).
    public func remainingData(_ direction: CircuitDirection) -> UInt64? {
        guard let data = limit?.data else { return nil }
        let used = direction == .sourceToTarget ? sourceToTargetBytes : targetToSourceBytes
        return data > used ? data - used : 0
    }

    /// The bytes the per-circuit bandwidth lets go at `now`, none taken (`Int.max` when
    /// unshaped, 0 once closing).
    public mutating func availableBandwidth(now: Instant) -> Int {
        guard closeReason == nil else { return 0 }
        guard var bucket = bandwidth else { return .max }
        let available = bucket.available(now: now)
        bandwidth = bucket
        return available
    }

    /// How many of `available` bytes may be forwarded in `direction` now (0 once closing).
    /// It takes them from the bandwidth bucket: forward exactly that many, then `record`.
    public mutating func forwardable(_ available: Int, direction: CircuitDirection, now: Instant) -> Int {
        guard closeReason == nil, available > 0 else { return 0 }
        var count = available
        if let remaining = remainingData(direction) { count = Int(min(UInt64(count), remaining)) }
        if var bucket = bandwidth {
            count = bucket.takeUpTo(count, now: now)
            bandwidth = bucket
        }
        return count
    }

    /// When `count` bytes of bandwidth (at least one, at most the burst) will be available
    /// (`nil` when unshaped, closing, or the bandwidth is zero).
    public mutating func bandwidthAvailable(_ count: Int = 1, now: Instant) -> Instant? {
        guard closeReason == nil, var bucket = bandwidth else { return nil }
        let instant = bucket.whenAvailable(max(min(count, bucket.capacity), 1), now: now)
        bandwidth = bucket
        return instant
    }

    /// Counts `count` bytes forwarded in `direction`; the data limit closes the circuit once
    /// a direction reaches it (as go-libp2p's relay does).
    public mutating func record(_ count: Int, direction: CircuitDirection, now: Instant) {
        guard count > 0 else { return }
        let added = UInt64(count)
        switch direction {
        case .sourceToTarget:
            sourceToTargetBytes = sourceToTargetBytes.addingReportingOverflow(added).overflow ? .max : sourceToTargetBytes + added
        case .targetToSource:
            targetToSourceBytes = targetToSourceBytes.addingReportingOverflow(added).overflow ? .max : targetToSourceBytes + added
        }
        if closeReason == nil, let remaining = remainingData(direction), remaining == 0 {
            closeReason = .dataLimitReached(direction)
        }
        handleTimeout(now: now)
    }

    /// When the duration limit ends the circuit (`nil`: no limit, or already closing).
    public var nextDeadline: Instant? {
        guard closeReason == nil, let duration = limit?.duration else { return nil }
        return openedAt + duration
    }

    /// Sets `durationLimitReached` once the duration limit has passed.
    public mutating func handleTimeout(now: Instant) {
        guard let deadline = nextDeadline, now >= deadline else { return }
        closeReason = .durationLimitReached
    }
}
