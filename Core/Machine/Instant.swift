/// A point on the driver's monotonic clock, in nanoseconds from an arbitrary origin.
///
/// The core never reads a clock: every input carries `now`, and every machine reports the
/// next `Instant` at which it wants `handleTimeout(now:)`. The libuv driver maps its loop
/// time onto this; the simulator advances it virtually.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` after the clock's origin.
    @inlinable public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The clock's origin.
    public static let zero = Instant(nanoseconds: 0)

    /// `self` plus `duration` (saturating at the ends of the clock; negative durations
    /// move backwards).
    @inlinable
    public static func + (instant: Instant, duration: Duration) -> Instant {
        let delta = duration.nanosecondsClamped
        if delta >= 0 {
            let (sum, overflow) = instant.nanoseconds.addingReportingOverflow(UInt64(delta))
            return Instant(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = delta.magnitude
        return Instant(nanoseconds: instant.nanoseconds >= magnitude ? instant.nanoseconds - magnitude : 0)
    }

    /// The time from `earlier` to `self` (negative if `earlier` is later).
    @inlinable
    public static func - (instant: Instant, earlier: Instant) -> Duration {
        if instant.nanoseconds >= earlier.nanoseconds {
            return .nanoseconds(Int64(clamping: instant.nanoseconds - earlier.nanoseconds))
        }
        return .nanoseconds(-Int64(clamping: earlier.nanoseconds - instant.nanoseconds))
    }

    @inlinable
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String {
        let milliseconds = Double(nanoseconds) / 1_000_000
        return "t+\(milliseconds)ms"
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to the range of `Int64`.
    @inlinable
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return total
    }
}

extension Optional where Wrapped == Instant {
    /// The earlier of two optional deadlines (`nil` means "none").
    @inlinable
    public func earliest(_ other: Instant?) -> Instant? {
        switch (self, other) {
        case (nil, let deadline), (let deadline, nil): deadline
        case (let lhs?, let rhs?): Swift.min(lhs, rhs)
        }
    }
}
