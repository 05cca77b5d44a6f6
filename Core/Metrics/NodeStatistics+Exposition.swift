extension NodeStatistics {
    /// The node's metrics in the Prometheus text format: connections open and established
    /// by tier, requests by tier and outcome, dials, hole punches, and the reachability
    /// status (one gauge per state, the current one at 1).
    public var prometheusText: String {
        var exposition = PrometheusExposition()
        let tiers = ConnectionTier.allCases
        func tierLabel(_ tier: ConnectionTier) -> [MetricLabel] { [MetricLabel(name: "tier", value: tier.rawValue)] }
        // Every name and label below is a valid constant, so nothing here can throw.
        if var family = try? MetricFamily(
            name: "traverse_connections_open", help: "Established connections now, by tier.", kind: .gauge) {
            for tier in tiers { try? family.append(.integer(connectionsOpen[tier] ?? 0), labels: tierLabel(tier)) }
            try? exposition.append(family)
        }
        if var family = try? MetricFamily(
            name: "traverse_connections_established_total", help: "Connections established, by tier.", kind: .counter) {
            for tier in tiers { try? family.append(.unsigned(connectionsEstablished[tier] ?? 0), labels: tierLabel(tier)) }
            try? exposition.append(family)
        }
        if var family = try? MetricFamily(
            name: "traverse_requests_total",
            help: "Requests to peers (ping, perf, echo, stream opens) that ended, by the tier they ran on and outcome.",
            kind: .counter) {
            for tier in tiers {
                let counts = requestsByTier[tier] ?? RequestCounts()
                try? family.append(.unsigned(counts.succeeded), labels: tierLabel(tier) + [MetricLabel(name: "outcome", value: "succeeded")])
                try? family.append(.unsigned(counts.failed), labels: tierLabel(tier) + [MetricLabel(name: "outcome", value: "failed")])
            }
            try? exposition.append(family)
        }
        try? exposition.append(MetricFamily(
            name: "traverse_requests_unconnected_failed_total", help: "Requests that failed before they had a connection.",
            kind: .counter, value: .unsigned(requestsFailedUnconnected)))
        if var family = try? MetricFamily(name: "traverse_dials_total", help: "Dials to peers, by outcome.", kind: .counter) {
            try? family.append(.unsigned(dialsSucceeded), labels: [MetricLabel(name: "outcome", value: "succeeded")])
            try? family.append(.unsigned(dialsFailed), labels: [MetricLabel(name: "outcome", value: "failed")])
            try? exposition.append(family)
        }
        if var family = try? MetricFamily(
            name: "traverse_hole_punches_total", help: "DCUtR upgrades of relayed connections, by outcome.", kind: .counter) {
            try? family.append(.unsigned(holePunchesSucceeded), labels: [MetricLabel(name: "outcome", value: "succeeded")])
            try? family.append(.unsigned(holePunchesFailed), labels: [MetricLabel(name: "outcome", value: "failed")])
            try? exposition.append(family)
        }
        if let status {
            if var family = try? MetricFamily(
                name: "traverse_reachability", help: "This node's reachability (AutoNAT): 1 for the current state.", kind: .gauge) {
                for state in [Reachability.unknown, .public, .private] {
                    try? family.append(.integer(status.reachability == state ? 1 : 0), labels: [MetricLabel(name: "state", value: state.description)])
                }
                try? exposition.append(family)
            }
            if var family = try? MetricFamily(
                name: "traverse_nat_type", help: "The NAT this node's observers show: 1 for the current type.", kind: .gauge) {
                for type in [NATType.unknown, .public, .private, .symmetric] {
                    try? family.append(.integer(status.natType == type ? 1 : 0), labels: [MetricLabel(name: "type", value: type.description)])
                }
                try? exposition.append(family)
            }
            try? exposition.append(MetricFamily(
                name: "traverse_relay_required", help: "Whether inbound connections need a relay (1) or not (0).", kind: .gauge,
                value: .integer(status.relayRequired ? 1 : 0)))
        }
        try? exposition.append(MetricFamily(
            name: "traverse_tracked_peers", help: "Peers with a metrics record.", kind: .gauge, value: .integer(trackedPeers)))
        return exposition.text
    }
}
