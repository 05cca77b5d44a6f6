/// How many hole-punch attempts a relayed connection gets, and how long each may dial.
public struct HolePunchAttemptPolicy: Hashable, Sendable {
    /// Attempts in all, each with its own CONNECT/SYNC exchange: 3, the spec's "retry
    /// twice" (clamped to 1…10).
    public var maximumAttempts = 3
    /// How long the dials of one attempt may take to give a direct connection. TCP
    /// retransmits a lost SYN after 1 s and again after 3 s more; a punch that works takes
    /// well under a second.
    public var dialTimeout: Duration = .seconds(5)
    /// Whether the last attempt (of two or more) swaps the upgrade roles, for peers with
    /// go-libp2p before v0.41, which chose them the other way round (current go-libp2p
    /// falls back the same way). Both sides count attempts, so both swap together.
    public var swapsRolesOnLastAttempt = true

    /// The defaults.
    public init() {}

    var attemptLimit: Int { min(10, max(1, maximumAttempts)) }
}

/// One attempt, as `HolePunchAttempts.start` hands it out: what to build the
/// `HolePunchInitiator` or `HolePunchResponder` with.
public struct HolePunchAttempt: Hashable, Sendable {
    /// 1 for the first attempt.
    public var number: Int
    /// The upgrade role of this attempt's direct connection.
    public var connectionRole: ConnectionRole
    /// Whether this attempt uses the roles of go-libp2p before v0.41.
    public var usesSwappedRoles: Bool
    /// When it started.
    public var startedAt: Instant
}

/// How one attempt ended.
public enum HolePunchAttemptFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The DCUtR exchange failed.
    case exchange(HolePunchError)
    /// The peer does not speak `/libp2p/dcutr` (multistream-select said `na`).
    case protocolNotSupported
    /// The DCUtR stream could not be opened, or was reset.
    case streamFailed
    /// Every dial of the attempt failed.
    case dialsFailed
    /// No direct connection within `HolePunchAttemptPolicy.dialTimeout`.
    case dialTimedOut
    /// The relayed connection closed, so there is no way to coordinate another attempt.
    case relayedConnectionClosed
    /// This node is behind a symmetric NAT (observers see a new port for every
    /// connection): a simultaneous open cannot meet, so no attempt is made.
    case symmetricNAT

    /// Whether another attempt cannot do better. Only the punch itself (its dials), and an
    /// exchange that was too slow, are worth repeating (with a fresh RTT measurement, as the
    /// spec's FAQ says); a peer without the protocol, without addresses or breaking it, will
    /// not change its mind (go-libp2p also stops on exchange errors).
    public var isFinal: Bool {
        switch self {
        case .dialsFailed, .dialTimedOut, .exchange(.timeout): false
        case .exchange, .protocolNotSupported, .streamFailed, .relayedConnectionClosed, .symmetricNAT: true
        }
    }

    public var description: String {
        switch self {
        case .exchange(let error): error.description
        case .protocolNotSupported: "the peer does not support /libp2p/dcutr"
        case .streamFailed: "the DCUtR stream failed"
        case .dialsFailed: "every hole-punch dial failed"
        case .symmetricNAT: "this node is behind a symmetric NAT; hole punching skipped"
        case .dialTimedOut: "no direct connection before the dial timeout"
        case .relayedConnectionClosed: "the relayed connection closed"
        }
    }
}

/// The record of one attempt.
public struct HolePunchAttemptRecord: Hashable, Sendable {
    /// The attempt as it started.
    public var attempt: HolePunchAttempt
    /// When it ended.
    public var endedAt: Instant
    /// `nil` when it gave the direct connection.
    public var failure: HolePunchAttemptFailure?
}

/// The direct connection came.
public struct HolePunchSuccess: Hashable, Sendable {
    /// The attempt that gave it (0 when it came before any attempt started, e.g. the peer
    /// dialed this node directly).
    public var attempt: Int
    /// From the relayed connection to the direct one.
    public var timeToDirect: Duration
}

/// The upgrade failed for good: the peers stay on the relayed connection.
public struct HolePunchFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Attempts made.
    public var attempts: Int
    /// Why the last one failed.
    public var lastFailure: HolePunchAttemptFailure
    /// From the relayed connection to giving up.
    public var elapsed: Duration

    public var description: String {
        "hole punch failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(lastFailure)"
    }
}

/// What comes after a failed attempt.
public enum HolePunchDecision: Hashable, Sendable {
    /// Try again: the initiator opens a new `/libp2p/dcutr` stream and calls `start`; the
    /// responder accepts the peer's next stream.
    case tryAgain(nextAttempt: Int)
    /// Give up; keep the relayed connection.
    case gaveUp(HolePunchFailure)
}

/// Misuse of `HolePunchAttempts`: the call does not fit its phase. Nothing changes.
public enum HolePunchAttemptsUsageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `start` while an attempt is running.
    case attemptInProgress
    /// `dialStarted` or `failed` with no attempt running.
    case noAttemptInProgress
    /// The upgrade already succeeded or gave up (a responder refuses the peer's further
    /// streams with this).
    case finished

    public var description: String {
        switch self {
        case .attemptInProgress: "a hole-punch attempt is already running"
        case .noAttemptInProgress: "no hole-punch attempt is running"
        case .finished: "the hole punch already ended"
        }
    }
}

/// The hole-punch attempts on one relayed connection to one peer: a pure value the swarm
/// keeps per peer and drives with what happens.
///
/// ```
/// start(now)              → HolePunchAttempt (number, connectionRole): build the machine
/// dialStarted(now)        the machine said `dial`: the dial timer runs (nextDeadline)
/// succeeded(now)          a direct connection is up → HolePunchSuccess (time to direct)
/// failed(reason, now)     → tryAgain(next) or gaveUp(HolePunchFailure)
/// handleTimeout(now)      at nextDeadline: failed(.dialTimedOut)
/// ```
///
/// Attempts use the spec's upgrade roles (`HolePunchRole.connectionRole()`), except the last
/// of several, which swaps them for go-libp2p before v0.41. At most
/// `HolePunchAttemptPolicy.maximumAttempts` are made; the responder side counts the peer's
/// streams the same way, so both sides swap on the same attempt and a peer cannot make this
/// node dial more than that many times per relayed connection.
public struct HolePunchAttempts: Sendable {
    private enum Phase: Sendable {
        case idle
        case exchanging(HolePunchAttempt)
        case dialing(HolePunchAttempt, deadline: Instant)
        case succeeded(HolePunchSuccess)
        case gaveUp(HolePunchFailure)
    }

    /// This node's side of DCUtR.
    public let role: HolePunchRole
    /// When the relayed connection came up (the start of the time to direct).
    public let relayedConnectionAt: Instant
    /// The policy.
    public let policy: HolePunchAttemptPolicy
    /// The attempts that ended, oldest first (at most `maximumAttempts`).
    public private(set) var history: [HolePunchAttemptRecord] = []
    private var phase: Phase = .idle
    private var started = 0

    /// No attempt yet, for a relayed connection that came up at `relayedConnectionAt`.
    public init(role: HolePunchRole, relayedConnectionAt: Instant, policy: HolePunchAttemptPolicy = .init()) {
        self.role = role
        self.relayedConnectionAt = relayedConnectionAt
        self.policy = policy
    }

    /// Attempts started so far.
    public var attemptsMade: Int { started }

    /// The running attempt, if any.
    public var currentAttempt: HolePunchAttempt? {
        switch phase {
        case .exchanging(let attempt), .dialing(let attempt, _): attempt
        case .idle, .succeeded, .gaveUp: nil
        }
    }

    /// The success, once a direct connection came.
    public var success: HolePunchSuccess? {
        if case .succeeded(let success) = phase { success } else { nil }
    }

    /// The final failure, once given up.
    public var failure: HolePunchFailure? {
        if case .gaveUp(let failure) = phase { failure } else { nil }
    }

    /// Whether the upgrade succeeded or gave up.
    public var isFinished: Bool { success != nil || failure != nil }

    /// The upgrade role of attempt `number` (1-based).
    public func connectionRole(forAttempt number: Int) -> ConnectionRole {
        role.connectionRole(legacy: usesSwappedRoles(forAttempt: number))
    }

    private func usesSwappedRoles(forAttempt number: Int) -> Bool {
        policy.swapsRolesOnLastAttempt && policy.attemptLimit > 1 && number == policy.attemptLimit
    }

    /// Starts the next attempt.
    ///
    /// - Throws: `attemptInProgress`; `finished` after success, after giving up, or when
    ///   every attempt was made.
    public mutating func start(now: Instant) throws(HolePunchAttemptsUsageError) -> HolePunchAttempt {
        switch phase {
        case .exchanging, .dialing: throw .attemptInProgress
        case .succeeded, .gaveUp: throw .finished
        case .idle: break
        }
        guard started < policy.attemptLimit else { throw .finished }
        started += 1
        let attempt = HolePunchAttempt(
            number: started, connectionRole: connectionRole(forAttempt: started),
            usesSwappedRoles: usesSwappedRoles(forAttempt: started), startedAt: now)
        phase = .exchanging(attempt)
        return attempt
    }

    /// The machine said `dial` and the dials went out: the attempt now has until
    /// `now + dialTimeout` to give a direct connection.
    ///
    /// - Throws: `noAttemptInProgress` unless an attempt is exchanging (or already dialing,
    ///   which restarts nothing).
    public mutating func dialStarted(now: Instant) throws(HolePunchAttemptsUsageError) {
        switch phase {
        case .exchanging(let attempt): phase = .dialing(attempt, deadline: now + policy.dialTimeout)
        case .dialing: return
        case .idle: throw .noAttemptInProgress
        case .succeeded, .gaveUp: throw .finished
        }
    }

    /// A direct connection to the peer is up (from this attempt's dials, an inbound one,
    /// or any other way): the upgrade is done. Returns `nil` when it had already ended.
    @discardableResult
    public mutating func succeeded(now: Instant) -> HolePunchSuccess? {
        let number: Int
        switch phase {
        case .succeeded, .gaveUp: return nil
        case .idle: number = 0
        case .exchanging(let attempt), .dialing(let attempt, _):
            number = attempt.number
            history.append(HolePunchAttemptRecord(attempt: attempt, endedAt: now, failure: nil))
        }
        let success = HolePunchSuccess(attempt: number, timeToDirect: now - relayedConnectionAt)
        phase = .succeeded(success)
        return success
    }

    /// The running attempt failed with `reason`: try again while attempts remain and the
    /// reason is not final.
    ///
    /// - Throws: `noAttemptInProgress` with no attempt running, `finished` after the end.
    public mutating func failed(_ reason: HolePunchAttemptFailure, now: Instant) throws(HolePunchAttemptsUsageError) -> HolePunchDecision {
        let attempt: HolePunchAttempt
        switch phase {
        case .exchanging(let running), .dialing(let running, _): attempt = running
        case .idle: throw .noAttemptInProgress
        case .succeeded, .gaveUp: throw .finished
        }
        history.append(HolePunchAttemptRecord(attempt: attempt, endedAt: now, failure: reason))
        if reason.isFinal || started >= policy.attemptLimit {
            let failure = HolePunchFailure(attempts: started, lastFailure: reason, elapsed: now - relayedConnectionAt)
            phase = .gaveUp(failure)
            return .gaveUp(failure)
        }
        phase = .idle
        return .tryAgain(nextAttempt: started + 1)
    }

    /// The relayed connection closed: gives up (with the running attempt, if any, as the
    /// last); `nil` when the upgrade had already ended.
    public mutating func relayedConnectionClosed(now: Instant) -> HolePunchFailure? {
        switch phase {
        case .succeeded, .gaveUp:
            return nil
        case .exchanging(let attempt), .dialing(let attempt, _):
            history.append(HolePunchAttemptRecord(attempt: attempt, endedAt: now, failure: .relayedConnectionClosed))
        case .idle:
            break
        }
        let failure = HolePunchFailure(
            attempts: started, lastFailure: .relayedConnectionClosed, elapsed: now - relayedConnectionAt)
        phase = .gaveUp(failure)
        return failure
    }

    /// The end of the running attempt's dial time, if it is dialing.
    public var nextDeadline: Instant? {
        if case .dialing(_, let deadline) = phase { deadline } else { nil }
    }

    /// At the dial deadline: the attempt failed with `dialTimedOut`; returns the decision,
    /// or `nil` when nothing was due.
    public mutating func handleTimeout(now: Instant) -> HolePunchDecision? {
        guard case .dialing(_, let deadline) = phase, now >= deadline else { return nil }
        return try? failed(.dialTimedOut, now: now)
    }
}
