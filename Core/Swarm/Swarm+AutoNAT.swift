/// AutoNAT v1 (`specs/autonat/autonat-v1.md`) and this node's reachability.
///
/// - Server: a peer on a direct connection asks to be dialed back; the swarm admits the
///   request (never over a relayed or NATS connection; global and per-peer rate limits),
///   dials the addresses at the connection's own IP one after another on new sockets from
///   an ephemeral port, requires the peer's ID in the handshake, closes the dial-back
///   connection as soon as it authenticates, and answers.
/// - Client: identify's observed addresses go into an `ObservedAddressBook` (confirmation
///   by distinct observer groups, NAT type); peers that serve AutoNAT over a direct
///   connection are asked, one at a time and preferring peers not asked lately, to dial
///   back this node's public candidates; the results make a `ReachabilityStatus`.
/// - Any change of the resulting `NodeStatus` is a `reachabilityChanged` event.
extension Swarm {
    // MARK: Status

    /// What this node knows about its own reachability at `now`: AutoNAT's verdict, the
    /// NAT type its observers imply, its public addresses, whether it needs a relay.
    public func status(now: Instant) -> NodeStatus {
        NodeStatus(
            reachability: reachability.status, observedAddresses: reachability.observedAddresses,
            listenAddresses: listenAddresses, publicScopes: configuration.autoNAT.publicScopes, now: now)
    }

    /// Reports the status when it differs from the one reported last.
    mutating func reportReachabilityIfChanged(now: Instant) {
        let current = status(now: now)
        guard current != reachability.reportedStatus else { return }
        // Nothing known yet is not news.
        if reachability.reportedStatus == nil && current == Self.emptyStatus { return }
        let reachabilityChanged = current.reachability != reachability.reportedStatus?.reachability
        reachability.reportedStatus = current
        events.append(.reachabilityChanged(current))
        if reachabilityChanged && configuration.autoRelay.isEnabled {
            // Reservations follow the verdict at once, not at the next health check.
            autoRelay.nextCheck = now
        }
    }

    private static let emptyStatus = NodeStatus(
        reachability: .unknown, confidence: 0, natType: .unknown, publicAddresses: [], relayRequired: false)

    // MARK: Observed addresses

    /// Identify (not push) came back on a connection: its observed address is recorded
    /// (direct connections only: a relay or a NATS pipe says nothing about our NAT), and a
    /// peer that serves AutoNAT there makes a probe possible.
    mutating func identifiedForReachability(_ slot: ConnectionSlot, peer: PeerID, info: IdentifyInfo, now: Instant) {
        guard slot.circuit == nil, slot.natsCarrier == nil else { return }
        if let observed = info.observedAddress, let local = slot.localSocket, let observerIP = slot.remoteIP {
            let outcome = reachability.observedAddresses.record(
                observed: observed, local: local, observer: peer, observerIP: observerIP, now: now)
            if case .recorded(let newlyConfirmed) = outcome {
                // A new public candidate is worth asking about soon.
                if newlyConfirmed && reachability.probes.isEmpty { reachability.nextProbeAt = now }
                reportReachabilityIfChanged(now: now)
            }
        }
        guard configuration.autoNAT.probesReachability, info.protocols.contains(StreamProtocolID.autoNAT) else { return }
        if reachability.probes.isEmpty {
            if reachability.nextProbeAt == nil {
                reachability.nextProbeAt = reachability.status.nextProbe(after: reachability.lastProbeAt, now: now)
            }
        } else if reachability.status.reachability == .unknown,
                  reachability.probes.count < configuration.autoNAT.concurrentProbesWhileUnknown,
                  !reachability.probes.values.contains(peer) {
            // A round is running and a verdict needs more peers: ask this one too, now.
            reachability.nextProbeAt = now
        }
    }

    /// A listener closed: what its port was observed as is forgotten, and AutoNAT's verdict
    /// (about addresses that changed) starts over.
    mutating func reachabilityListenAddressesChanged(closed: [SocketAddress], now: Instant) {
        for local in closed { reachability.observedAddresses.forget(local: local) }
        reachability.status.reset(now: now)
        reportReachabilityIfChanged(now: now)
    }

    // MARK: Client

    /// The addresses a server is asked to dial back: public listen addresses, confirmed
    /// observed addresses, then the other observed ones by support (a NAT's mapping of the
    /// listening port is only known from observers), within the public scopes.
    func autoNATCandidateAddresses(now: Instant) -> [Multiaddr] {
        let scopes = configuration.autoNAT.publicScopes
        var seen = Set<Multiaddr>()
        let observed = observedAddresses.sorted { $0.value.count > $1.value.count }.map(\.key)
        let candidates = listenAddresses.filter { !$0.isCircuit }
            + reachability.observedAddresses.confirmedAddresses(now: now) + observed
        return candidates.map(\.withoutTrailingPeerID).filter { address in
            guard SocketAddress(tcp: address) != nil, let scope = address.ipScope, scopes.contains(scope) else { return false }
            return seen.insert(address).inserted
        }
    }

    /// Up to `count` peers to ask: peers with a direct connection that serve AutoNAT and
    /// are not being asked now, those not asked lately first. One pass over the connected
    /// peers, stopping as soon as enough fresh ones are found (a relay has thousands).
    private func autoNATServerPeers(_ count: Int) -> [(peer: PeerID, connection: ConnectionID)] {
        var fresh: [(peer: PeerID, connection: ConnectionID)] = [], asked: [(peer: PeerID, connection: ConnectionID)] = []
        for (peer, ids) in connectionsByPeer {
            guard !reachability.probes.values.contains(peer),
                  peerStore[peer]?.protocols.contains(StreamProtocolID.autoNAT) == true,
                  let id = ids.first(where: { connections[$0].map { $0.circuit == nil && $0.natsCarrier == nil && !$0.remoteGoingAway } ?? false })
            else { continue }
            if !reachability.askedPeers.contains(peer) {
                fresh.append((peer, id))
                if fresh.count >= count { break }
            } else if asked.count < count {
                asked.append((peer, id))
            }
        }
        return Array((fresh + asked).prefix(count))
    }

    /// Starts the AutoNAT requests that are due: as many at once as a verdict needs while
    /// the reachability is unknown (`concurrentProbesWhileUnknown`; a round is topped up as
    /// servers appear), one at a time after.
    private mutating func startAutoNATProbe(now: Instant) {
        reachability.nextProbeAt = nil
        let limit = reachability.status.reachability == .unknown ? max(1, configuration.autoNAT.concurrentProbesWhileUnknown) : 1
        guard configuration.autoNAT.probesReachability, reachability.probes.count < limit else { return }
        guard !autoNATCandidateAddresses(now: now).isEmpty else {
            // Nothing a server could dial: look again after the retry interval (a newly
            // confirmed address brings the probe forward), not at every identify.
            reachability.nextProbeAt = reachability.status.nextProbe(after: now, now: now)
            return
        }
        for (peer, id) in autoNATServerPeers(limit - reachability.probes.count) {
            guard var slot = connections.removeValue(forKey: id) else { continue }
            reachability.probes[id] = peer
            reachability.lastProbeAt = now
            reachability.askedPeers.removeAll { $0 == peer }
            reachability.askedPeers.append(peer)
            if reachability.askedPeers.count > SwarmReachabilityState.askedPeersRemembered {
                reachability.askedPeers.removeFirst()
            }
            if openBuiltinStream(&slot, id: id, purpose: .autoNAT, now: now) == nil {
                reachability.probes[id] = nil
            }
            settle(slot, id: id)
        }
        if reachability.probes.isEmpty && reachability.lastProbeAt == now {
            // Every stream was refused: try again after the retry interval.
            reachability.nextProbeAt = reachability.status.nextProbe(after: now, now: now)
        }
    }

    /// The client machine for a negotiated AutoNAT stream, or `nil` (the stream is reset)
    /// when there is nothing to ask about any more.
    mutating func autoNATClientMachine(peer: PeerID?, connection: ConnectionID, now: Instant) -> ProtocolStream.Machine? {
        guard reachability.probes[connection] != nil,
              let client = try? AutoNATClient(
                local: localPeer, addresses: autoNATCandidateAddresses(now: now), now: now,
                configuration: configuration.autoNAT.client)
        else {
            autoNATProbeEnded(connection: connection, now: now)
            return nil
        }
        return .autoNATClient(client)
    }

    /// The probe on `connection` ended without a result; once no probe is left, the next
    /// round comes after the retry interval.
    mutating func autoNATProbeEnded(connection: ConnectionID, now: Instant) {
        guard reachability.probes.removeValue(forKey: connection) != nil else { return }
        if reachability.probes.isEmpty {
            reachability.nextProbeAt = reachability.status.nextProbe(after: reachability.lastProbeAt, now: now)
        }
    }

    /// A client's one result.
    mutating func applyAutoNATClient(_ event: AutoNATClientEvent, peer: PeerID?, connection: ConnectionID, now: Instant) {
        guard let peer, reachability.probes.removeValue(forKey: connection) != nil else { return }
        reachability.status.record(event, from: peer, now: now)
        if reachability.probes.isEmpty {
            reachability.nextProbeAt = reachability.status.nextProbe(after: reachability.lastProbeAt, now: now)
        }
        events.append(.autoNATResult(peer: peer, event))
        reportReachabilityIfChanged(now: now)
    }

    // MARK: Server

    /// The server machine for a peer's AutoNAT stream, or `nil` (the stream is reset): the
    /// spec forbids serving over a relayed connection, and a NATS pipe has no IP either.
    func autoNATServerMachine(_ slot: ConnectionSlot, now: Instant) -> ProtocolStream.Machine? {
        let relayed = slot.circuit != nil || slot.natsCarrier != nil
        guard reachability.admission.admitsStream(onRelayedConnection: relayed) == nil,
              let peer = slot.peer, let observedIP = slot.remoteIP
        else { return nil }
        return .autoNATServer(AutoNATServer(
            peer: peer, observedIP: observedIP, now: now, configuration: configuration.autoNAT.server))
    }

    /// Acts on a server machine's event; returns whether the stream must be reset.
    mutating func applyAutoNATServer(
        _ event: AutoNATServerEvent, of stream: inout ProtocolStream, slot: ConnectionSlot,
        connectionID: ConnectionID, streamID: StreamID, now: Instant
    ) -> Bool {
        switch event {
        case .dialBackRequested(let addresses):
            guard let peer = slot.peer, case .autoNATServer(var server) = stream.machine else { return true }
            let dialable = addresses.filter { SocketAddress(tcp: $0) != nil }
            let refusal = reachability.admission.admitDialBack(
                for: peer, relayed: slot.circuit != nil || slot.natsCarrier != nil, now: now)
            if refusal != nil || connections.count >= configuration.maximumConnections || dialable.isEmpty {
                stream.machine = .moved
                if dialable.isEmpty {
                    try? server.dialBackFailed(reason: "no address could be dialed", now: now)
                } else {
                    try? server.refuse(.dialRefused, text: refusal?.description ?? "connection limit reached", now: now)
                }
                stream.machine = .autoNATServer(server)
                return false
            }
            startAutoNATDialBack(
                AutoNATDialBack(
                    requestConnection: connectionID, requestStream: streamID, peer: peer,
                    address: dialable[0], remaining: Array(dialable.dropFirst())),
                now: now)
            return false
        case .answered, .rejected:
            stream.finished = true
            cancelAutoNATDialBacks(connection: connectionID, stream: streamID)
            return false
        case .failed:
            stream.finished = true
            cancelAutoNATDialBacks(connection: connectionID, stream: streamID)
            return true
        }
    }

    /// Opens the socket of a dial back's current address (from an ephemeral port: the
    /// listening port would let a NAT's existing mapping answer for the peer).
    private mutating func startAutoNATDialBack(_ dialBack: AutoNATDialBack, now: Instant) {
        // Every address was checked to be `/ip4|ip6/…/tcp/…` when the request came.
        guard let remote = SocketAddress(tcp: dialBack.address) else { return }
        let id = ConnectionID(rawValue: makeIdentifier())
        var slot = ConnectionSlot(
            phase: .connecting(deadline: now + configuration.autoNAT.dialBackTimeout), connection: nil,
            direction: .outbound, remoteSocket: remote, localSocket: nil, dial: nil,
            dialedAddress: dialBack.address, listener: nil)
        slot.refreshDeadline()
        connections[id] = slot
        reachability.dialBacks[id] = dialBack
        actions.append(.connect(id, to: remote, from: nil))
    }

    /// The peer that must answer a dial-back socket, for its security handshake.
    func autoNATDialBackPeer(_ id: ConnectionID) -> PeerID? {
        reachability.dialBacks[id]?.peer
    }

    /// A connection authenticated its peer. Returns whether it was a dial back (then it is
    /// closed by the caller and never becomes an established connection): the request is
    /// answered OK when the right peer answered, else the next address is tried.
    mutating func autoNATDialBackAuthenticated(_ id: ConnectionID, peer: PeerID, now: Instant) -> Bool {
        guard let dialBack = reachability.dialBacks.removeValue(forKey: id) else { return false }
        if peer == dialBack.peer {
            answerAutoNATRequest(dialBack, reached: dialBack.address, reason: nil, now: now)
        } else {
            continueAutoNATDialBack(dialBack, reason: "a different peer answered", now: now)
        }
        return true
    }

    /// A dial-back socket failed to connect or to upgrade: the next address, or the answer.
    mutating func autoNATDialBackFailed(_ id: ConnectionID, reason: String, now: Instant) {
        guard let dialBack = reachability.dialBacks.removeValue(forKey: id) else { return }
        continueAutoNATDialBack(dialBack, reason: reason, now: now)
    }

    private mutating func continueAutoNATDialBack(_ dialBack: AutoNATDialBack, reason: String, now: Instant) {
        guard !dialBack.remaining.isEmpty else {
            answerAutoNATRequest(dialBack, reached: nil, reason: reason, now: now)
            return
        }
        var next = dialBack
        next.address = next.remaining.removeFirst()
        startAutoNATDialBack(next, now: now)
    }

    /// Hands a dial back's outcome to its server machine, which answers the peer.
    private mutating func answerAutoNATRequest(_ dialBack: AutoNATDialBack, reached: Multiaddr?, reason: String?, now: Instant) {
        let id = dialBack.requestConnection
        guard var slot = connections.removeValue(forKey: id) else { return }
        if case .protocolStream(var stream)? = slot.streams[dialBack.requestStream],
           case .autoNATServer(var server) = stream.machine {
            stream.machine = .moved
            if let reached {
                try? server.dialBackSucceeded(reached, now: now)
            } else {
                try? server.dialBackFailed(reason: reason, now: now)
            }
            stream.machine = .autoNATServer(server)
            slot.streams[dialBack.requestStream] = .protocolStream(stream)
            pumpProtocolStream(&slot, connectionID: id, streamID: dialBack.requestStream, now: now)
        }
        settle(slot, id: id)
    }

    /// The request's stream ended or was answered: its dial back, if still running, stops.
    private mutating func cancelAutoNATDialBacks(connection: ConnectionID, stream: StreamID) {
        let running = reachability.dialBacks.filter { $0.value.requestConnection == connection && $0.value.requestStream == stream }
        for id in running.keys.sorted() {
            reachability.dialBacks[id] = nil
            guard var slot = connections.removeValue(forKey: id) else { continue }
            if case .connecting = slot.phase {
                actions.append(.close(id))
                continue
            }
            slot.connection?.close(now: latestInput)
            processConnectionEvents(&slot, id: id, now: latestInput)
            settle(slot, id: id)
        }
    }

    /// An AutoNAT stream went away (ended, reset, or its connection closed).
    mutating func autoNATStreamEnded(_ protocolStream: ProtocolStream, connection: ConnectionID, stream: StreamID, now: Instant) {
        switch protocolStream.machine {
        case .autoNATClient:
            autoNATProbeEnded(connection: connection, now: now)
        case .autoNATServer:
            cancelAutoNATDialBacks(connection: connection, stream: stream)
        default:
            break
        }
    }

    // MARK: Time

    /// Expires observations and stale verdicts, and starts a probe when one is due. The
    /// status is recomputed only when something expired: this runs at every timer of the
    /// swarm (keepalives included).
    mutating func handleReachabilityTimeouts(now: Instant) {
        var expired = false
        if let expiry = reachability.observedAddresses.nextDeadline, expiry <= now {
            reachability.observedAddresses.removeExpired(now: now)
            expired = true
        }
        if let expiry = reachability.status.nextDeadline, expiry <= now {
            reachability.status.expire(now: now)
            expired = true
        }
        if let due = reachability.nextProbeAt, due <= now { startAutoNATProbe(now: now) }
        if expired { reportReachabilityIfChanged(now: now) }
    }
}
