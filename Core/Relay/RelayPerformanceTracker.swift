/// How one relay has been doing, as a client sees it: round-trip time (an exponential
/// moving average, α 0.3), successes and failures that fade with a half-life (an old failure
/// does not exclude a relay for ever), and consecutive failures for health.
public struct RelayPerformance: Sendable, Hashable {
    /// The smoothed round-trip time, once measured.
    public private(set) var latency: Duration?
    /// Successes and failures, each weighted by how long ago it was (halved every
    /// `failureHalfLife`).
    public private(set) var successWeight = 0.0
    public private(set) var failureWeight = 0.0
    /// Failures since the last success.
    public private(set) var consecutiveFailures = 0
    /// When the weights were last brought up to date.
    private var updatedAt: Instant?

    /// The smoothing factor of `latency`.
    public static let latencySmoothing = 0.3

    /// A relay not heard from yet.
    public init() {}

    /// A success (a reservation granted, a health check answered), with the round trip
    /// it measured.
    public mutating func recordSuccess(latency sample: Duration?, now: Instant, halfLife: Duration) {
        decay(to: now, halfLife: halfLife)
        successWeight += 1
        consecutiveFailures = 0
        if let sample {
            latency = latency.map { $0 * (1 - Self.latencySmoothing) + sample * Self.latencySmoothing } ?? sample
        }
    }

    /// A failure (unreachable, refused, connection lost, a health check unanswered).
    public mutating func recordFailure(now: Instant, halfLife: Duration) {
        decay(to: now, halfLife: halfLife)
        failureWeight += 1
        consecutiveFailures += 1
    }

    /// The share of (faded) outcomes that were successes; 1 for a relay not tried yet.
    public func successRate(at now: Instant, halfLife: Duration) -> Double {
        var copy = self
        copy.decay(to: now, halfLife: halfLife)
        let total = copy.successWeight + copy.failureWeight
        return total > 0 ? copy.successWeight / total : 1
    }

    /// Higher is better: the success rate, discounted by latency (100 ms halves it) and by
    /// the circuits the relay already carries for this node.
    public func score(at now: Instant, halfLife: Duration, activeCircuits: Int) -> Double {
        let milliseconds = latency.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 } ?? 50
        return successRate(at: now, halfLife: halfLife) / (1 + milliseconds / 100) / (1 + Double(activeCircuits) / 16)
    }

    private mutating func decay(to now: Instant, halfLife: Duration) {
        defer { updatedAt = now }
        guard let updatedAt, now > updatedAt else { return }
        let elapsed = now - updatedAt
        let halves = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            / max(Double(halfLife.components.seconds) + Double(halfLife.components.attoseconds) / 1e18, 1e-9)
        let factor = pow2(-halves)
        successWeight *= factor
        failureWeight *= factor
    }
}

/// 2^x without Foundation.
private func pow2(_ x: Double) -> Double {
    guard x > -64 else { return 0 }
    let whole = x.rounded(.down)
    let fraction = x - whole
    // 2^fraction for fraction in [0, 1) by its series through e^(fraction ln 2).
    let y = fraction * 0.6931471805599453
    var term = 1.0, sum = 1.0
    for n in 1...12 {
        term *= y / Double(n)
        sum += term
    }
    return Double(sign: .plus, exponent: Int(whole), significand: 1) * sum
}

/// The health of a relay this node knows, as `Swarm.relayHealthStatus()` reports it.
public struct RelayHealth: Sendable, Hashable {
    /// The relay.
    public var relay: PeerID
    /// Whether this node holds a reservation on it now.
    public var isReserved: Bool
    /// Fewer consecutive failures than the configured threshold.
    public var isHealthy: Bool
    /// The smoothed round-trip time.
    public var latency: Duration?
    /// The faded success rate.
    public var successRate: Double
    /// Failures since the last success.
    public var consecutiveFailures: Int
    /// This node's live relayed connections through it.
    public var activeCircuits: Int
    /// Where the candidate came from.
    public var isStatic: Bool
}
