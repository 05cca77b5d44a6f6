/// AutoRelay: while this node is private or not known to be reachable (AutoNAT),
/// reservations kept on the best healthy relays among the configured and the
/// discovered ones, moved when a relay fails (its connection is lost, a reservation fails,
/// or it leaves health checks unanswered), with a relay's record of successes and failures
/// fading over time so one old failure does not exclude it for ever.
extension Swarm {
    /// Adds the configured relays (at start).
    mutating func startAutoRelay(now: Instant) {
        guard configuration.autoRelay.isEnabled else { return }
        for address in configuration.autoRelay.relays {
            guard let peer = address.peerID, !address.isCircuit, peer != localPeer else { continue }
            autoRelay.add(peer, addresses: [address], isStatic: true, limit: configuration.autoRelay.maximumCandidates)
        }
        autoRelay.nextCheck = now
    }

    /// Identify told of a peer that relays (hop) and has direct addresses: a candidate.
    mutating func discoverRelay(_ peer: PeerID, info: IdentifyInfo) {
        guard configuration.autoRelay.isEnabled, configuration.autoRelay.discoversRelays,
              info.protocols.contains(RelayProtocolID.hop), peer != localPeer
        else { return }
        let addresses = info.listenAddresses.filter { !$0.isCircuit && SocketAddress(tcp: $0) != nil }
            .compactMap { try? $0.withoutTrailingPeerID.encapsulate(.p2p(peer)) }
        guard !addresses.isEmpty else { return }
        autoRelay.add(peer, addresses: addresses, isStatic: false, limit: configuration.autoRelay.maximumCandidates)
        autoRelay.nextCheck = min(autoRelay.nextCheck ?? latestInput, latestInput)
    }

    /// The health of every relay AutoRelay knows.
    public func relayHealthStatus(now: Instant) -> [RelayHealth] {
        let settings = configuration.autoRelay
        return autoRelay.order.compactMap { peer in
            guard let candidate = autoRelay.candidates[peer] else { return nil }
            return RelayHealth(
                relay: peer, isReserved: relay.reservations[peer]?.info != nil,
                isHealthy: candidate.performance.consecutiveFailures < settings.unhealthyAfterFailures,
                latency: candidate.performance.latency,
                successRate: candidate.performance.successRate(at: now, halfLife: settings.failureHalfLife),
                consecutiveFailures: candidate.performance.consecutiveFailures,
                activeCircuits: relayedConnectionCount(through: peer), isStatic: candidate.isStatic)
        }
    }

    // MARK: Upkeep

    /// Health checks and reservation upkeep, every `healthCheckInterval`.
    mutating func handleAutoRelayTimeouts(now: Instant) {
        guard configuration.autoRelay.isEnabled, let next = autoRelay.nextCheck, next <= now else { return }
        autoRelay.nextCheck = now + configuration.autoRelay.healthCheckInterval
        checkRelayHealth(now: now)
        maintainReservations(now: now)
    }

    /// A Yamux ping on each reserved relay's connection; one still unanswered from the
    /// last check is a failure.
    private mutating func checkRelayHealth(now: Instant) {
        for peer in autoRelay.order {
            guard let candidate = autoRelay.candidates[peer], case .reserved(_, let connectionID)? = relay.reservations[peer]?.phase
            else { continue }
            if candidate.healthCheckSentAt != nil {
                autoRelay.candidates[peer]?.healthCheckSentAt = nil
                relayFailed(peer, now: now)
                if relay.reservations[peer] == nil { continue }
            }
            guard var slot = connections.removeValue(forKey: connectionID) else { continue }
            if (try? slot.connection?.ping(now: now)) != nil {
                autoRelay.candidates[peer]?.healthCheckSentAt = now
            }
            settle(slot, id: connectionID)
        }
    }

    /// Reserves on the best available candidates until `reservations` relays are held or
    /// being asked.
    mutating func maintainReservations(now: Instant) {
        guard configuration.autoRelay.isEnabled, configuration.relay.enablesClient, !isShutDown else { return }
        let settings = configuration.autoRelay
        if !settings.keepsReservationsWhenPublic && reachability.status.reachability == .public {
            // Reachable directly: the relays are not needed (nor are circuit addresses).
            for peer in relay.reservations.keys.sorted() { cancelReservation(on: peer, now: now) }
            return
        }
        let wanted = min(settings.reservations, configuration.relay.client.maximumConcurrentReservations)
        var held = relay.reservations.count
        guard held < wanted else { return }
        let available = autoRelay.order.filter { peer in
            guard let candidate = autoRelay.candidates[peer], relay.reservations[peer] == nil else { return false }
            return candidate.retryAfter.map { $0 <= now } ?? true
        }
        let ranked = available.enumerated().sorted { lhs, rhs in
            let left = score(of: lhs.element, now: now), right = score(of: rhs.element, now: now)
            return left != right ? left > right : lhs.offset < rhs.offset
        }.map(\.element)
        for peer in ranked where held < wanted {
            guard let address = autoRelay.candidates[peer]?.addresses.first, (try? reserve(on: address, now: now)) != nil else { continue }
            held += 1
        }
    }

    private func score(of peer: PeerID, now: Instant) -> Double {
        guard let candidate = autoRelay.candidates[peer] else { return 0 }
        let settings = configuration.autoRelay
        if candidate.performance.consecutiveFailures >= settings.unhealthyAfterFailures { return -1 }
        return candidate.performance.score(
            at: now, halfLife: settings.failureHalfLife, activeCircuits: relayedConnectionCount(through: peer))
    }

    // MARK: Outcomes

    /// A reservation was granted.
    mutating func autoRelayReservationGranted(_ peer: PeerID, now: Instant) {
        guard var candidate = autoRelay.candidates[peer] else { return }
        candidate.performance.recordSuccess(latency: nil, now: now, halfLife: configuration.autoRelay.failureHalfLife)
        candidate.retryAfter = nil
        autoRelay.candidates[peer] = candidate
    }

    /// A reservation failed or was lost: the relay's record takes the failure, the
    /// reservation is dropped and another relay is asked at once.
    mutating func autoRelayReservationFailed(_ peer: PeerID, now: Instant) {
        guard configuration.autoRelay.isEnabled, autoRelay.candidates[peer] != nil else { return }
        relayFailed(peer, now: now)
    }

    /// A health check came back (the relay connection's round trip).
    mutating func autoRelayRoundTrip(_ peer: PeerID, _ time: Duration, now: Instant) {
        guard var candidate = autoRelay.candidates[peer], candidate.healthCheckSentAt != nil else { return }
        candidate.healthCheckSentAt = nil
        candidate.performance.recordSuccess(latency: time, now: now, halfLife: configuration.autoRelay.failureHalfLife)
        autoRelay.candidates[peer] = candidate
    }

    private mutating func relayFailed(_ peer: PeerID, now: Instant) {
        guard var candidate = autoRelay.candidates[peer] else { return }
        candidate.performance.recordFailure(now: now, halfLife: configuration.autoRelay.failureHalfLife)
        let exponent = min(max(candidate.performance.consecutiveFailures - 1, 0), 6)
        candidate.retryAfter = now + min(Duration.seconds(1 << exponent), .seconds(60))
        candidate.healthCheckSentAt = nil
        autoRelay.candidates[peer] = candidate
        // The reservation moves: dropped here (its circuit addresses withdrawn), made on
        // another relay from the work queue (this may run while a slot is out).
        if relay.reservations[peer] != nil { cancelReservation(on: peer, now: now) }
        relay.work.append(.maintainReservations)
    }
}
