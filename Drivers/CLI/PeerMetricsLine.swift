import Foundation
import TraverseCore

/// The closing line of `traverse ping`: what the node measured with the peer.
struct PeerMetricsLine {
    let metrics: PeerMetrics

    init(_ metrics: PeerMetrics) { self.metrics = metrics }

    func emit(to out: Output) {
        let average = metrics.averageRoundTrip.map(Self.milliseconds)
        let rate = metrics.successRate.map { $0 * 100 }
        let tiers = metrics.openTiers.map(\.description)
        var text = "metrics for \(metrics.peer): tier \(metrics.tier?.description ?? "none")"
        text += " (open: \(tiers.isEmpty ? "none" : tiers.joined(separator: ", ")))"
        if let average { text += String(format: ", latency %.3f ms (EMA)", average) }
        text += ", \(metrics.requests.total) requests, \(metrics.requests.failed) failed"
        if let rate { text += String(format: ", success rate %.1f %%", rate) }
        text += ", hole punches \(metrics.holePunchesSucceeded) ok / \(metrics.holePunchesFailed) failed"
        var byTier: [String: [String: UInt64]] = [:]
        for (tier, counts) in metrics.requestsByTier {
            byTier[tier.description] = ["succeeded": counts.succeeded, "failed": counts.failed]
        }
        var fields: [String: any Sendable] = [
            "event": "metrics", "peer_id": metrics.peer.description, "tier": metrics.tier?.description ?? "none",
            "open_tiers": tiers, "requests": Int(clamping: metrics.requests.total),
            "requests_failed": Int(clamping: metrics.requests.failed), "requests_by_tier": byTier,
            "dials_succeeded": Int(clamping: metrics.dialsSucceeded), "dials_failed": Int(clamping: metrics.dialsFailed),
            "hole_punches_succeeded": Int(clamping: metrics.holePunchesSucceeded),
            "hole_punches_failed": Int(clamping: metrics.holePunchesFailed),
        ]
        if let average { fields["rtt_average_ms"] = average }
        if let latest = metrics.latestRoundTrip { fields["rtt_latest_ms"] = Self.milliseconds(latest) }
        if let rate { fields["success_rate"] = rate / 100 }
        out.emit(text, fields: fields)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
