/// DCUtR: a relayed connection upgraded to a direct one by a coordinated TCP simultaneous
/// open (`specs/relay/DCUtR.md`).
///
/// The side that accepted the relayed connection (B) is the initiator: once identify shows
/// the peer speaks `/libp2p/dcutr`, it opens the stream, measures the round trip with
/// CONNECT, sends SYNC and dials RTT/2 later; the other side (A) dials as soon as SYNC
/// arrives. Both dial every selected address of the other from their listening port, and
/// upgrade what connects in the attempt's role (the initiator is the security server;
/// the last attempt swaps the roles for go-libp2p before v0.41). The first connection that
/// authenticates the peer wins; the other dials are cancelled, and the relayed connection
/// is closed after a grace (`relayedConnectionGrace`, 2 s), once it has no streams left.
extension Swarm {
    // MARK: Starting

    /// Identify came back on a connection: an inbound relayed one is hole-punched when the
    /// peer speaks DCUtR and no direct connection exists yet.
    mutating func considerHolePunch(_ slot: ConnectionSlot, id: ConnectionID, info: IdentifyInfo, now: Instant) {
        guard configuration.holePunch.isEnabled, slot.isRelayed, slot.direction == .inbound,
              let peer = slot.peer, info.protocols.contains(StreamProtocolID.dcutr),
              holePunch.sessions[peer] == nil, usableConnection(to: peer, direct: true) == nil
        else { return }
        if isBehindSymmetricNAT(now: now) {
            reportHolePunchFailed(peer, HolePunchFailure(attempts: 0, lastFailure: .symmetricNAT, elapsed: .zero), now: now)
            return
        }
        holePunch.sessions[peer] = HolePunchSession(
            relayed: id,
            attempts: HolePunchAttempts(
                role: .initiator, relayedConnectionAt: holePunch.relayedSince[id] ?? now, policy: configuration.holePunch.attempts))
        // The connection is being pumped (its machine is out of the slot): the stream is
        // opened from the work queue.
        relay.work.append(.startHolePunch(peer))
    }

    /// Opens the DCUtR stream of the next attempt (initiator).
    private mutating func startInitiatorAttempt(_ slot: inout ConnectionSlot, id: ConnectionID, peer: PeerID, now: Instant) {
        guard var session = holePunch.sessions[peer], session.relayed == id else { return }
        guard (try? session.attempts.start(now: now)) != nil else { return }
        holePunch.sessions[peer] = session
        if openBuiltinStream(&slot, id: id, purpose: .holePunch, now: now) == nil {
            holePunchAttemptFailed(peer, .streamFailed, now: now)
        }
    }

    /// The initiator's DCUtR stream was negotiated: its machine, for the current attempt.
    func holePunchInitiatorMachine(peer: PeerID?, now: Instant) -> ProtocolStream.Machine? {
        guard let peer, let attempt = holePunch.sessions[peer]?.attempts.currentAttempt else { return nil }
        return .holePunchInitiator(HolePunchInitiator(
            localAddresses: holePunchLocalAddresses, connectionRole: attempt.connectionRole, peer: peer, now: now,
            configuration: configuration.holePunch.exchange))
    }

    /// The peer opened a DCUtR stream (responder): served only on relayed connections, and
    /// only for as many attempts as the policy allows.
    mutating func holePunchResponderMachine(_ slot: ConnectionSlot, id: ConnectionID, now: Instant) -> ProtocolStream.Machine? {
        guard configuration.holePunch.isEnabled, slot.isRelayed, let peer = slot.peer, !isBehindSymmetricNAT(now: now) else {
            return nil
        }
        var session = holePunch.sessions[peer] ?? HolePunchSession(
            relayed: id,
            attempts: HolePunchAttempts(
                role: .responder, relayedConnectionAt: holePunch.relayedSince[id] ?? now, policy: configuration.holePunch.attempts))
        guard session.relayed == id, let attempt = try? session.attempts.start(now: now) else { return nil }
        holePunch.sessions[peer] = session
        return .holePunchResponder(HolePunchResponder(
            localAddresses: holePunchLocalAddresses, connectionRole: attempt.connectionRole, peer: peer, now: now,
            configuration: configuration.holePunch.exchange))
    }

    /// Whether hole punching is skipped because this node's NAT is symmetric.
    func isBehindSymmetricNAT(now: Instant) -> Bool {
        configuration.holePunch.skipsWhenSymmetricNAT && reachability.observedAddresses.natType(now: now) == .symmetric
    }

    /// What this node offers in CONNECT: its direct listen addresses and the addresses
    /// peers observed it at (a NAT's mapping of the listening port).
    var holePunchLocalAddresses: [Multiaddr] {
        var seen = Set<Multiaddr>()
        let candidates = observedAddresses.sorted { $0.value.count > $1.value.count }.map(\.key)
            + listenAddresses.filter { !$0.isCircuit }
        return candidates.map(\.withoutTrailingPeerID).filter { SocketAddress(tcp: $0) != nil && seen.insert($0).inserted }
    }

    // MARK: The exchange's outcome

    /// A DCUtR machine said dial now, or failed.
    mutating func applyHolePunch(_ event: HolePunchEvent, peer: PeerID?, now: Instant) {
        guard let peer, var session = holePunch.sessions[peer] else { return }
        switch event {
        case .failed(let error):
            holePunchAttemptFailed(peer, .exchange(error), now: now)
        case .dial(let dial):
            guard (try? session.attempts.dialStarted(now: now)) != nil else { return }
            session.connectionRole = dial.connectionRole
            for address in dial.addresses {
                guard let remote = SocketAddress(tcp: address), !session.dialAddresses.contains(remote) else { continue }
                let id = ConnectionID(rawValue: makeIdentifier())
                var slot = ConnectionSlot(
                    phase: .connecting(deadline: now + configuration.holePunch.attempts.dialTimeout), connection: nil,
                    direction: .outbound, remoteSocket: remote, localSocket: nil, dial: nil, dialedAddress: address,
                    listener: nil)
                slot.refreshDeadline()
                connections[id] = slot
                session.dials.insert(id)
                session.dialAddresses.insert(remote)
                holePunch.dialPeers[id] = peer
                connect(id, to: remote)
            }
            holePunch.sessions[peer] = session
            if session.dials.isEmpty { holePunchAttemptFailed(peer, .dialsFailed, now: now) }
        }
    }

    /// The DCUtR stream ended before its machine decided (reset, refused, or the
    /// connection went).
    mutating func holePunchStreamAbandoned(peer: PeerID?, refused: Bool, now: Instant) {
        guard let peer, holePunch.sessions[peer]?.attempts.currentAttempt != nil,
              holePunch.sessions[peer]?.dials.isEmpty == true
        else { return }
        holePunchAttemptFailed(peer, refused ? .protocolNotSupported : .streamFailed, now: now)
    }

    /// A DCUtR stream ended before its machine decided. An initiator that sent SYNC only
    /// waits for its timer (the responder may close the stream as soon as SYNC arrives):
    /// it goes on without the stream. Anything else is a failed exchange.
    mutating func holePunchStreamEnded(_ stream: ProtocolStream, peer: PeerID?, reset: Bool, now: Instant) {
        if !reset, let peer, case .holePunchInitiator(let machine) = stream.machine, machine.nextDeadline != nil,
           holePunch.sessions[peer] != nil {
            holePunch.sessions[peer]?.waitingInitiator = machine
            return
        }
        holePunchStreamAbandoned(peer: peer, refused: false, now: now)
    }

    // MARK: Dials

    /// The upgrade role of a hole-punch socket, or of an inbound socket from an address
    /// the current attempt dials (only one SYN of a simultaneous open may get through).
    mutating func holePunchRole(forAccepted remote: SocketAddress, id: ConnectionID) -> (role: ConnectionRole, peer: PeerID)? {
        for (peer, session) in holePunch.sessions where session.dialAddresses.contains(remote) {
            guard let role = session.connectionRole else { continue }
            holePunch.sessions[peer]?.dials.insert(id)
            holePunch.dialPeers[id] = peer
            return (role, peer)
        }
        return nil
    }

    /// The upgrade role of an outbound hole-punch socket.
    func holePunchRole(forDial id: ConnectionID) -> (role: ConnectionRole, peer: PeerID)? {
        guard let peer = holePunch.dialPeers[id], let role = holePunch.sessions[peer]?.connectionRole else { return nil }
        return (role, peer)
    }

    /// A hole-punch socket failed to connect or to upgrade.
    mutating func holePunchDialFailed(_ id: ConnectionID, now: Instant) {
        guard let peer = holePunch.dialPeers.removeValue(forKey: id), var session = holePunch.sessions[peer] else { return }
        session.dials.remove(id)
        if session.relayedClosed && session.dials.isEmpty {
            // Its relayed connection is gone and this was its last dial: the punch failed,
            // and nothing is left of it (a stale session would refuse the next relayed
            // connection's punch).
            holePunch.sessions[peer] = session
            endSessionWithoutRelayedConnection(peer, now: now)
            return
        }
        holePunch.sessions[peer] = session
        if session.dials.isEmpty && session.attempts.currentAttempt != nil && session.attempts.success == nil {
            holePunchAttemptFailed(peer, .dialsFailed, now: now)
        }
    }

    /// Whether a connection that authenticated `peer` may stay: a hole-punch socket must
    /// reach the peer its attempt is for.
    func holePunchAccepts(_ id: ConnectionID, peer authenticated: PeerID) -> Bool {
        holePunch.dialPeers[id].map { $0 == authenticated } ?? true
    }

    /// A connection authenticated its peer: a hole-punch socket, or any direct connection
    /// from a peer being punched to while an attempt runs (its SYN reached the listening
    /// port before this side dialed, as through a NAT that lets it in), is the punch's
    /// success.
    mutating func holePunchConnectionEstablished(_ id: ConnectionID, peer: PeerID, isDirect: Bool, now: Instant) {
        if holePunch.dialPeers.removeValue(forKey: id) == nil {
            guard isDirect, let session = holePunch.sessions[peer], session.attempts.currentAttempt != nil,
                  !session.attempts.isFinished
            else { return }
        }
        guard var session = holePunch.sessions[peer] else { return }
        session.dials.remove(id)
        guard let success = session.attempts.succeeded(now: now) else {
            holePunch.sessions[peer] = session
            return
        }
        let others = session.dials
        session.dials = []
        session.dialAddresses = []
        session.connectionRole = nil
        holePunch.sessions[peer] = session
        for other in others {
            holePunch.dialPeers[other] = nil
            closeConnection(other, now: now)
        }
        reportHolePunchSucceeded(peer, direct: id, relayed: session.relayed, success: success, now: now)
        if session.relayedClosed {
            // The peer's side won first and closed the relayed connection: the session ends here.
            holePunch.sessions[peer] = nil
            return
        }
        holePunch.retiringAt[session.relayed] = now + configuration.holePunch.relayedConnectionGrace
    }

    /// Closes a relayed connection a direct one replaced, once it has no streams.
    mutating func retireRelayedConnectionIfIdle(_ id: ConnectionID, now: Instant) {
        guard holePunch.retiring.contains(id), let slot = connections[id], slot.streams.isEmpty, !slot.isClosing else { return }
        holePunch.retiring.remove(id)
        closeConnection(id, now: now)
    }

    // MARK: Attempts

    /// One attempt failed: try again (the initiator opens a new stream at once; the
    /// responder waits for it) or give up.
    private mutating func holePunchAttemptFailed(_ peer: PeerID, _ failure: HolePunchAttemptFailure, now: Instant) {
        guard var session = holePunch.sessions[peer] else { return }
        guard let decision = try? session.attempts.failed(failure, now: now) else { return }
        endAttempt(session, peer: peer, decision: decision, now: now)
    }

    /// The attempt of `session` (its attempts already told) is over: its dials are
    /// cancelled and `decision` followed.
    private mutating func endAttempt(_ session: HolePunchSession, peer: PeerID, decision: HolePunchDecision, now: Instant) {
        var session = session
        let dials = session.dials
        session.dials = []
        session.dialAddresses = []
        session.connectionRole = nil
        holePunch.sessions[peer] = session
        for id in dials {
            holePunch.dialPeers[id] = nil
            closeConnection(id, now: now)
        }
        apply(decision, peer: peer, now: now)
    }

    private mutating func apply(_ decision: HolePunchDecision, peer: PeerID, now: Instant) {
        guard let session = holePunch.sessions[peer] else { return }
        if session.relayedClosed {
            // No relayed connection to coordinate another attempt on.
            if case .gaveUp(let failure) = decision {
                holePunch.sessions[peer] = nil
                reportHolePunchFailed(peer, failure, now: now)
            } else {
                endSessionWithoutRelayedConnection(peer, now: now)
            }
            return
        }
        switch decision {
        case .tryAgain:
            guard session.attempts.role == .initiator else { return }
            // The relayed connection may be the one being pumped (out of `connections`):
            // the attempt starts from the relay work queue.
            relay.work.append(.startHolePunch(peer))
        case .gaveUp(let failure):
            reportHolePunchFailed(peer, failure, now: now)
        }
    }

    /// Runs a queued initiator attempt on the relayed connection.
    mutating func runHolePunchAttempt(_ peer: PeerID, now: Instant) {
        guard let relayed = holePunch.sessions[peer]?.relayed, var slot = connections.removeValue(forKey: relayed) else { return }
        startInitiatorAttempt(&slot, id: relayed, peer: peer, now: now)
        settle(slot, id: relayed)
    }

    /// A relayed connection closed: its session ends (a running attempt fails for good).
    mutating func holePunchRelayedConnectionClosed(_ id: ConnectionID, peer: PeerID, now: Instant) {
        holePunch.retiring.remove(id)
        holePunch.retiringAt[id] = nil
        holePunch.relayedSince[id] = nil
        guard var session = holePunch.sessions[peer], session.relayed == id else { return }
        let running = session.attempts.currentAttempt != nil && !session.attempts.isFinished
        if running && !session.dials.isEmpty {
            // Dials in flight may still connect (the peer may have closed the relayed
            // connection because its side of the punch already won): the verdict waits
            // for them.
            session.relayedClosed = true
            holePunch.sessions[peer] = session
            return
        }
        holePunch.sessions[peer] = nil
        let failure = session.attempts.relayedConnectionClosed(now: now)
        if running, let failure { reportHolePunchFailed(peer, failure, now: now) }
    }

    /// A session whose relayed connection closed ends without a direct connection.
    private mutating func endSessionWithoutRelayedConnection(_ peer: PeerID, now: Instant) {
        guard var session = holePunch.sessions.removeValue(forKey: peer) else { return }
        for id in session.dials {
            holePunch.dialPeers[id] = nil
            closeConnection(id, now: now)
        }
        if let failure = session.attempts.relayedConnectionClosed(now: now) {
            reportHolePunchFailed(peer, failure, now: now)
        }
    }

    /// Dial timeouts of the attempts, and replaced relayed connections whose grace ended.
    mutating func handleHolePunchTimeouts(now: Instant) {
        for (id, at) in holePunch.retiringAt.sorted(by: { $0.key < $1.key }) where at <= now {
            holePunch.retiringAt[id] = nil
            holePunch.retiring.insert(id)
            retireRelayedConnectionIfIdle(id, now: now)
        }
        for (peer, session) in holePunch.sessions {
            if var machine = session.waitingInitiator, let deadline = machine.nextDeadline, deadline <= now {
                holePunch.sessions[peer]?.waitingInitiator = nil
                machine.handleTimeout(now: now)
                while let event = machine.pollEvent() { applyHolePunch(event, peer: peer, now: now) }
            }
        }
        for (peer, session) in holePunch.sessions {
            guard let deadline = session.attempts.nextDeadline, deadline <= now else { continue }
            var changed = session
            guard let decision = changed.attempts.handleTimeout(now: now) else { continue }
            endAttempt(changed, peer: peer, decision: decision, now: now)
        }
    }

    // MARK: Sockets from the listening port

    /// Asks the driver for a TCP connection, from a listening port when the configuration
    /// says so and a listener suits the address.
    mutating func connect(_ id: ConnectionID, to remote: SocketAddress) {
        let source = configuration.reusesListenPortForDials ? listeningSource(toward: remote) : nil
        if source != nil { holePunch.reusedPortDials[id] = remote }
        actions.append(.connect(id, to: remote, from: source))
    }

    /// A listener's socket address to bind an outgoing connection to: one of the same
    /// family whose host is unspecified, or the same kind of host (loopback with loopback).
    func listeningSource(toward remote: SocketAddress) -> SocketAddress? {
        for (_, listener) in listeners.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let requested = SocketAddress(tcp: listener.requested),
                  let port = listener.addresses.lazy.compactMap({ SocketAddress(tcp: $0)?.port }).first,
                  port != 0, requested.isIPv6 == remote.isIPv6
            else { continue }
            let host = requested.with(port: port)
            if host.scope == .unspecified || (host.scope == .loopback) == (remote.scope == .loopback) { return host }
        }
        return nil
    }

    /// A connect from a listening port failed to bind: tried again from an ephemeral port.
    /// Returns whether it was.
    mutating func retriedWithoutReusedPort(_ id: ConnectionID, _ failure: TransportFailure) -> Bool {
        guard let remote = holePunch.reusedPortDials.removeValue(forKey: id) else { return false }
        switch failure {
        case .addressInUse, .addressNotAvailable:
            actions.append(.connect(id, to: remote, from: nil))
            return true
        default:
            return false
        }
    }
}
