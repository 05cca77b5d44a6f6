/// Per-peer metrics and the node's counters by tier: updated where requests, dials,
/// connections and hole punches end, never per byte.
///
/// A peer gets a record when this node dials it, makes a request to it or hole-punches
/// with it; a peer that only connected to this node (a relay's thousands of clients) is
/// counted in the totals but gets no record, so serving many peers costs nothing here.
extension Swarm {
    /// What this node measured with `peer`, with the tiers of its open connections now;
    /// `nil` for a peer without a record (this node never dialed it, asked it anything or
    /// hole-punched with it, or it was evicted: the table keeps `maximumPeerMetrics` peers).
    public func metrics(for peer: PeerID, now: Instant) -> PeerMetrics? {
        guard var metrics = self.peerMetrics.peers[peer] else { return nil }
        let tiers = Set((connectionsByPeer[peer] ?? []).compactMap { connections[$0]?.summary?.tier })
        metrics.openTiers = ConnectionTier.allCases.filter(tiers.contains)
        metrics.tier = usableConnection(to: peer).flatMap { connections[$0]?.summary?.tier }
        return metrics
    }

    /// The node's counters now: connections by tier, requests by tier and outcome, dials,
    /// hole punches, and the reachability status.
    public func nodeStatistics(now: Instant) -> NodeStatistics {
        var statistics = peerMetrics.totals
        var open: [ConnectionTier: Int] = [:]
        for slot in connections.values {
            if let tier = slot.summary?.tier { open[tier, default: 0] += 1 }
        }
        statistics.connectionsOpen = open
        statistics.status = status(now: now)
        statistics.trackedPeers = peerMetrics.peers.count
        return statistics
    }

    // MARK: Recording

    private mutating func recordPeer(_ peer: PeerID, now: Instant, _ body: (inout PeerMetrics) -> Void) {
        guard peer != localPeer else { return }
        peerMetrics.withRecord(
            of: peer, now: now, limit: configuration.maximumPeerMetrics, isConnected: isConnectedPeer, body)
    }

    /// Updates the record of `peer` only if it has one.
    private mutating func updatePeer(_ peer: PeerID, now: Instant, _ body: (inout PeerMetrics) -> Void) {
        guard peerMetrics.peers[peer] != nil else { return }
        recordPeer(peer, now: now, body)
    }

    /// A connection with `peer` was established.
    mutating func metricsConnectionEstablished(_ peer: PeerID, tier: ConnectionTier, now: Instant) {
        peerMetrics.totals.connectionsEstablished[tier, default: 0] += 1
        updatePeer(peer, now: now) { $0.connectionsEstablished[tier, default: 0] += 1 }
    }

    /// A request to `peer` ended (`tier`: of the connection it ran on, if it had one).
    mutating func metricsRequestEnded(peer: PeerID?, tier: ConnectionTier?, succeeded: Bool, now: Instant) {
        if let tier {
            peerMetrics.totals.requestsByTier[tier, default: RequestCounts()].record(succeeded: succeeded)
        } else if !succeeded {
            peerMetrics.totals.requestsFailedUnconnected += 1
        }
        guard let peer else { return }
        recordPeer(peer, now: now) { $0.recordRequest(succeeded: succeeded, tier: tier) }
    }

    /// A round trip to `peer` was measured.
    mutating func metricsRoundTrip(_ peer: PeerID, _ time: Duration, now: Instant) {
        updatePeer(peer, now: now) { $0.recordRoundTrip(time) }
    }

    /// A dial to `peer` started: the peer gets a record (its connection, round trips and
    /// requests are counted from now on).
    mutating func metricsDialStarted(_ peer: PeerID, now: Instant) {
        recordPeer(peer, now: now) { _ in }
    }

    /// A dial to `peer` (if it named one) ended.
    mutating func metricsDialEnded(_ peer: PeerID?, succeeded: Bool, now: Instant) {
        if succeeded { peerMetrics.totals.dialsSucceeded += 1 } else { peerMetrics.totals.dialsFailed += 1 }
        guard let peer else { return }
        recordPeer(peer, now: now) { metrics in
            if succeeded { metrics.dialsSucceeded += 1 } else { metrics.dialsFailed += 1 }
        }
    }

    /// Reports a hole punch with `peer` that reached a direct connection.
    mutating func reportHolePunchSucceeded(
        _ peer: PeerID, direct: ConnectionID, relayed: ConnectionID, success: HolePunchSuccess, now: Instant
    ) {
        events.append(.holePunchSucceeded(
            peer: peer, direct: direct, relayed: relayed, attempt: success.attempt, timeToDirect: success.timeToDirect))
        peerMetrics.totals.holePunchesSucceeded += 1
        recordPeer(peer, now: now) { $0.holePunchesSucceeded += 1 }
    }

    /// Reports a hole punch with `peer` that gave up.
    mutating func reportHolePunchFailed(_ peer: PeerID, _ failure: HolePunchFailure, now: Instant) {
        events.append(.holePunchFailed(peer: peer, failure))
        peerMetrics.totals.holePunchesFailed += 1
        recordPeer(peer, now: now) { $0.holePunchesFailed += 1 }
    }
}
