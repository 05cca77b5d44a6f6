extension RelayStatistics {
    /// The relay's metrics in the Prometheus text format: reservations and circuits active,
    /// bytes relayed, refusals by reason, circuits opened and closed by reason, connections
    /// (and this node's own relayed ones).
    public var prometheusText: String {
        var exposition = PrometheusExposition()
        // Every name and label below is a valid constant, so nothing here can throw.
        try? exposition.append(MetricFamily(
            name: "traverse_relay_reservations_active", help: "Reservations held on this relay.", kind: .gauge,
            value: .integer(reservations)))
        try? exposition.append(MetricFamily(
            name: "traverse_relay_circuits_active", help: "Circuits being relayed.", kind: .gauge,
            value: .integer(circuits)))
        try? exposition.append(MetricFamily(
            name: "traverse_relay_bytes_relayed_total", help: "Bytes relayed, both directions.", kind: .counter,
            value: .unsigned(bytesRelayed)))
        try? exposition.append(MetricFamily(
            name: "traverse_relay_reservations_granted_total", help: "Reservations granted, refreshes included.",
            kind: .counter, value: .unsigned(reservationsGranted)))
        try? exposition.append(MetricFamily(
            name: "traverse_relay_circuits_opened_total", help: "Circuits opened.", kind: .counter,
            value: .unsigned(circuitsOpened)))
        if var family = try? MetricFamily(
            name: "traverse_relay_refusals_total", help: "Refused reservations and circuits, by reason.", kind: .counter) {
            for (reason, count) in refusals.sorted(by: { $0.key < $1.key }) {
                try? family.append(.unsigned(count), labels: [MetricLabel(name: "reason", value: reason)])
            }
            try? exposition.append(family)
        }
        if var family = try? MetricFamily(
            name: "traverse_relay_circuits_closed_total", help: "Circuits ended, by how they ended.", kind: .counter) {
            for (reason, count) in circuitsClosed.sorted(by: { $0.key < $1.key }) {
                try? family.append(.unsigned(count), labels: [MetricLabel(name: "reason", value: reason)])
            }
            try? exposition.append(family)
        }
        try? exposition.append(MetricFamily(
            name: "traverse_connections", help: "Connections in every phase, relayed ones included.", kind: .gauge,
            value: .integer(connections)))
        try? exposition.append(MetricFamily(
            name: "traverse_relayed_connections", help: "Established connections of this node that go through a relay.",
            kind: .gauge, value: .integer(relayedConnections)))
        return exposition.text
    }
}
