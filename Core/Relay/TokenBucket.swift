/// A token bucket on injected time: up to `capacity` tokens, refilled with `refillAmount`
/// tokens every `interval` (one token every `interval / refillAmount`). No clock is read;
/// every call takes `now`, which must not go backwards (an earlier `now` refills nothing).
///
/// All arithmetic saturates, so no `now` or request size can trap.
public struct TokenBucket: Hashable, Sendable {
    /// The most tokens the bucket holds (its burst).
    public let capacity: Int
    /// Nanoseconds per token (at least 1).
    public let nanosecondsPerToken: UInt64

    private var tokens: Int
    private var lastRefill: Instant

    /// A full bucket of `capacity` tokens refilled by `refillAmount` every `interval`.
    /// Non-positive values make a bucket that never refills (`refillAmount`) or holds
    /// nothing (`capacity`).
    public init(capacity: Int, refillAmount: Int, every interval: Duration, now: Instant) {
        self.capacity = max(0, capacity)
        let total = UInt64(max(1, interval.nanosecondsClamped))
        if refillAmount > 0 {
            nanosecondsPerToken = max(1, total / UInt64(refillAmount))
        } else {
            nanosecondsPerToken = .max
        }
        tokens = self.capacity
        lastRefill = now
    }

    /// A bucket of `rate` tokens per second with a burst of `rate`.
    public init(perSecond rate: Int, now: Instant) {
        self.init(capacity: rate, refillAmount: rate, every: .seconds(1), now: now)
    }

    /// The tokens available at `now`.
    public mutating func available(now: Instant) -> Int {
        refill(now: now)
        return tokens
    }

    /// Takes `count` tokens if all are available at `now`; returns whether it did.
    public mutating func take(_ count: Int = 1, now: Instant) -> Bool {
        refill(now: now)
        guard count >= 0, count <= tokens else { return false }
        tokens -= count
        return true
    }

    /// Takes as many of `count` tokens as are available; returns how many.
    public mutating func takeUpTo(_ count: Int, now: Instant) -> Int {
        refill(now: now)
        let taken = min(max(0, count), tokens)
        tokens -= taken
        return taken
    }

    /// Whether the bucket is full at `now` (equivalent to a fresh bucket).
    public mutating func isFull(now: Instant) -> Bool {
        refill(now: now)
        return tokens >= capacity
    }

    /// When `count` tokens will be available (`now` if they are), or `nil` if never
    /// (`count` above the capacity, or a bucket that does not refill).
    public mutating func whenAvailable(_ count: Int = 1, now: Instant) -> Instant? {
        refill(now: now)
        if count <= tokens { return now }
        guard count <= capacity, nanosecondsPerToken != .max else { return nil }
        let missing = UInt64(count - tokens)
        let (wait, overflow) = missing.multipliedReportingOverflow(by: nanosecondsPerToken)
        if overflow { return nil }
        let (elapsed, _) = now.nanoseconds.subtractingReportingOverflow(lastRefill.nanoseconds)
        let already = now >= lastRefill ? elapsed : 0
        return now + .nanoseconds(Int64(clamping: wait > already ? wait - already : 0))
    }

    private mutating func refill(now: Instant) {
        guard now > lastRefill else { return }
        if tokens >= capacity {
            lastRefill = now
            return
        }
        let elapsed = now.nanoseconds - lastRefill.nanoseconds
        let earned = elapsed / nanosecondsPerToken
        guard earned > 0 else { return }
        let room = UInt64(capacity - tokens)
        if earned >= room {
            tokens = capacity
            lastRefill = now
        } else {
            tokens += Int(earned)
            lastRefill = Instant(nanoseconds: lastRefill.nanoseconds + earned * nanosecondsPerToken)
        }
    }
}
