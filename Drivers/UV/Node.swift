import CUV
import TraverseCore

/// A libp2p node on real sockets: a `Swarm` driven by a libuv event loop on its own
/// thread, with an async API.
///
/// ```swift
/// let node = try Node(identityKey: key)
/// let addresses = try await node.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0"))
/// let connection = try await node.dial(Multiaddr("/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…"))
/// let times = try await node.ping(connection.peer, count: 3)
/// await node.stop()
/// ```
///
/// Every method may be called from any task; the swarm itself only ever runs on the loop
/// thread. The node serves identify, identify push, ping, perf and echo by itself;
/// `setStreamHandler` adds application protocols.
public final class Node: Sendable {
    /// This node's peer ID.
    public let peerID: PeerID
    /// Connection, identify and listener events, as they happen (the newest 4096 are kept
    /// for a slow reader).
    public let events: AsyncStream<NodeEvent>
    private let loop: EventLoop
    private let submission: NodeSubmission
    private let runtime: NodeRuntime

    /// Starts a node (its event loop thread) for `identityKey`. It neither listens nor
    /// dials until asked.
    ///
    /// Unless the configuration names them, the name servers for `/dnsaddr` come from
    /// `/etc/resolv.conf`, and signed peer records are numbered from the wall-clock time
    /// in milliseconds (so a restarted node's records supersede its old ones).
    public init(identityKey: PrivateKey, configuration: SwarmConfiguration = .init()) throws(NodeError) {
        var configuration = configuration
        if configuration.resolver == ResolverConfiguration(),
           let text = try? FileOperations.readRegularFile("/etc/resolv.conf", maximumSize: 64 << 10, ownerOnly: false) {
            configuration.resolver = ResolverConfiguration(resolvConf: String(decoding: text, as: UTF8.self))
        }
        var time = uv_timeval64_t()
        if uv_gettimeofday(&time) == 0, time.tv_sec > 0 {
            if configuration.peerRecordSequenceBase == 0 {
                configuration.peerRecordSequenceBase = UInt64(time.tv_sec) * 1000 + UInt64(time.tv_usec / 1000)
            }
            if configuration.unixTimeAtStart == 0 { configuration.unixTimeAtStart = UInt64(time.tv_sec) }
        }
        let loop: EventLoop
        do {
            loop = try EventLoop()
        } catch {
            throw .startFailed(error.description)
        }
        let swarm: Swarm
        do {
            swarm = try Swarm(
                identityKey: identityKey, configuration: configuration, now: loop.now(),
                using: SecureRandomNumberGenerator())
        } catch {
            loop.shutdown()
            throw .startFailed("identity key: \(error)")
        }
        let (events, continuation) = AsyncStream.makeStream(of: NodeEvent.self, bufferingPolicy: .bufferingNewest(4096))
        self.peerID = identityKey.peerID
        self.events = events
        self.loop = loop
        self.submission = NodeSubmission(loop: loop)
        self.runtime = NodeRuntime(loop: loop, submission: submission, swarm: swarm, events: continuation)
        if configuration.nats != nil {
            // The swarm asked for its NATS server connection as it started.
            let runtime = self.runtime
            _ = submission.execute { runtime.drive() }
        }
    }

    deinit {
        submission.close()
        loop.shutdown()
    }

    /// Listens on a TCP address (`/ip4/A/tcp/P`, `/ip6/A/tcp/P`; port 0 picks one) and
    /// returns the full addresses (ending with `/p2p/<ID>`) it listens on.
    public func listen(on address: Multiaddr) async throws(NodeError) -> [Multiaddr] {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<[Multiaddr], any Error>) in
            do throws(SwarmUsageError) {
                let id = try runtime.swarm.listen(on: address, now: runtime.now)
                runtime.listenWaiters[id] = continuation
            } catch {
                continuation.resume(throwing: NodeError.usage(error))
            }
            runtime.drive()
        }
    }

    /// The addresses this node listens on, each ending with `/p2p/<ID>`.
    public func listenAddresses() async throws(NodeError) -> [Multiaddr] {
        let runtime = self.runtime
        let peer = peerID
        return try await submission.submit { (continuation: CheckedContinuation<[Multiaddr], any Error>) in
            continuation.resume(returning: runtime.swarm.listenAddresses.compactMap { try? $0.encapsulate(.p2p(peer)) })
        }
    }

    /// Dials an address (`…/tcp/P[/p2p/ID]`, DNS names included); with `/p2p/ID` the peer
    /// must prove that identity. An open connection to the peer is reused unless
    /// `reusingConnection` is false.
    public func dial(_ address: Multiaddr, reusingConnection: Bool = true) async throws(NodeError) -> ConnectionSummary {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<ConnectionSummary, any Error>) in
            let id = runtime.swarm.dial(address, reusingConnection: reusingConnection, now: runtime.now)
            runtime.dialWaiters[id] = continuation
            runtime.drive()
        }
    }

    /// Dials a peer at the addresses the node knows for it (from identify or earlier dials).
    public func dial(peer: PeerID) async throws(NodeError) -> ConnectionSummary {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<ConnectionSummary, any Error>) in
            let id = runtime.swarm.dial(peer: peer, now: runtime.now)
            runtime.dialWaiters[id] = continuation
            runtime.drive()
        }
    }

    /// Dials `peer` through the NATS tier only (`SwarmConfiguration.nats`), reusing an open
    /// NATS connection to it; the upgrade (Noise, Yamux) runs over a pipe through the server.
    public func dialOverNATS(_ peer: PeerID) async throws(NodeError) -> ConnectionSummary {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<ConnectionSummary, any Error>) in
            let id = runtime.swarm.dialOverNATS(peer: peer, now: runtime.now)
            runtime.dialWaiters[id] = continuation
            runtime.drive()
        }
    }

    /// Whether the connection to the NATS server is up (connected and subscribed).
    public func isNATSConnected() async throws(NodeError) -> Bool {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<Bool, any Error>) in
            continuation.resume(returning: runtime.swarm.isNATSConnected)
        }
    }

    /// Opens a stream to `peer` for the first of `protocols` it supports (dialing it if
    /// needed and its addresses are known).
    public func openStream(to peer: PeerID, protocols: [String]) async throws(NodeError) -> NodeStream {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<NodeStream, any Error>) in
            let id = runtime.swarm.openStream(to: peer, protocols: protocols, now: runtime.now)
            runtime.streamRequestWaiters[id] = continuation
            runtime.drive()
        }
    }

    /// Serves `protocol`: every stream a peer opens for it is handed to `handler` in a new
    /// task. Replaces an earlier handler for the same protocol.
    public func setStreamHandler(
        _ protocol: String, _ handler: @escaping @Sendable (NodeStream) async -> Void
    ) async throws(NodeError) {
        let runtime = self.runtime
        try await submission.submit { (continuation: CheckedContinuation<Void, any Error>) in
            runtime.streamHandlers[`protocol`] = handler
            runtime.swarm.addStreamHandler(`protocol`, now: runtime.now)
            continuation.resume()
            runtime.drive()
        }
    }

    /// Pings `peer` `count` times over `/ipfs/ping/1.0.0` and returns the round-trip times;
    /// `onRoundTrip` sees each one as it comes.
    public func ping(
        _ peer: PeerID, count: Int = 1, onRoundTrip: (@Sendable (Duration) -> Void)? = nil
    ) async throws(NodeError) -> [Duration] {
        let outcome = try await request { swarm, now in swarm.ping(peer, count: count, now: now) } onRoundTrip: { onRoundTrip?($0) }
        guard case .pinged(let times) = outcome else { throw .requestFailed(.protocolFailed("unexpected ping outcome")) }
        return times
    }

    /// Runs `/perf/1.0.0` against `peer`.
    public func perf(_ peer: PeerID, uploadBytes: UInt64, downloadBytes: UInt64) async throws(NodeError) -> PerfResult {
        let outcome = try await request { swarm, now in
            swarm.perf(peer, uploadBytes: uploadBytes, downloadBytes: downloadBytes, now: now)
        }
        guard case .perf(let result) = outcome else { throw .requestFailed(.protocolFailed("unexpected perf outcome")) }
        return result
    }

    /// Sends `byteCount` random bytes over `/traverse/echo/1.0.0`, checks they come back
    /// unchanged, and returns the time it took.
    public func echo(_ peer: PeerID, byteCount: UInt64) async throws(NodeError) -> Duration {
        let outcome = try await request { swarm, now in swarm.echo(peer, byteCount: byteCount, now: now) }
        guard case .echoed(_, let elapsed) = outcome else { throw .requestFailed(.protocolFailed("unexpected echo outcome")) }
        return elapsed
    }

    /// What identify told us about `peer`, waiting for its first identify if a connection
    /// is open but identify has not finished.
    public func identify(_ peer: PeerID) async throws(NodeError) -> IdentifyInfo {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<IdentifyInfo, any Error>) in
            if let info = runtime.identified[peer] {
                continuation.resume(returning: info)
            } else if runtime.swarm.connections(to: peer).isEmpty {
                continuation.resume(throwing: NodeError.requestFailed(.notConnected(peer)))
            } else {
                runtime.identifyWaiters[peer, default: []].append(continuation)
            }
        }
    }

    /// What the peer store holds for `peer`.
    public func peerInfo(_ peer: PeerID) async throws(NodeError) -> PeerInfo? {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<PeerInfo?, any Error>) in
            continuation.resume(returning: runtime.swarm.peerStore[peer])
        }
    }

    /// The established connections.
    public func connections() async throws(NodeError) -> [ConnectionSummary] {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<[ConnectionSummary], any Error>) in
            continuation.resume(returning: runtime.swarm.establishedConnections)
        }
    }

    /// Reserves on the relay at `relayAddress` (ending with `/p2p/RELAY`) and keeps the
    /// reservation: refreshed before it expires, made again when the connection is lost.
    /// Returns the relay's ID at once; `reservationAccepted` on `events` gives this node's
    /// circuit addresses (they also join `listenAddresses`), `reservationFailed` a failure.
    @discardableResult
    public func reserve(on relayAddress: Multiaddr) async throws(NodeError) -> PeerID {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<PeerID, any Error>) in
            do throws(SwarmUsageError) {
                continuation.resume(returning: try runtime.swarm.reserve(on: relayAddress, now: runtime.now))
            } catch {
                continuation.resume(throwing: NodeError.usage(error))
            }
            runtime.drive()
        }
    }

    /// The health of the relays AutoRelay knows (reserved or not, healthy, latency,
    /// success rate, consecutive failures, live circuits through each).
    public func relayHealthStatus() async throws(NodeError) -> [RelayHealth] {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<[RelayHealth], any Error>) in
            continuation.resume(returning: runtime.swarm.relayHealthStatus(now: runtime.now))
        }
    }

    /// What this node knows about its own reachability: AutoNAT's verdict and confidence,
    /// the NAT type its observers imply, its public addresses, whether it needs a relay.
    public func status() async throws(NodeError) -> NodeStatus {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<NodeStatus, any Error>) in
            continuation.resume(returning: runtime.swarm.status(now: runtime.now))
        }
    }

    /// The relay's figures now (reservations, circuits, bytes relayed, connections).
    public func relayStatistics() async throws(NodeError) -> RelayStatistics {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<RelayStatistics, any Error>) in
            continuation.resume(returning: runtime.swarm.relayStatistics)
        }
    }

    /// What this node measured with `peer` (tier, latency, requests and their outcomes,
    /// dials, hole punches), or `nil` when it has no record of the peer.
    public func metrics(for peer: PeerID) async throws(NodeError) -> PeerMetrics? {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<PeerMetrics?, any Error>) in
            continuation.resume(returning: runtime.swarm.metrics(for: peer, now: runtime.now))
        }
    }

    /// The node's counters by tier, and its reachability status.
    public func nodeStatistics() async throws(NodeError) -> NodeStatistics {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<NodeStatistics, any Error>) in
            continuation.resume(returning: runtime.swarm.nodeStatistics(now: runtime.now))
        }
    }

    /// Serves the node's metrics (`NodeStatistics.prometheusText`: connections and requests
    /// by tier, dials, hole punches, reachability) and the relay's
    /// (`RelayStatistics.prometheusText`) over HTTP at `GET /metrics` on `address` (port 0
    /// picks one) until the node stops. Returns the bound address.
    public func serveMetrics(on address: SocketAddress) async throws(NodeError) -> SocketAddress {
        let runtime = self.runtime
        let loop = self.loop
        return try await submission.submit { (continuation: CheckedContinuation<SocketAddress, any Error>) in
            do throws(SocketError) {
                let endpoint = try MetricsEndpoint.start(on: address, eventLoop: loop) {
                    runtime.swarm.relayStatistics.prometheusText + runtime.swarm.nodeStatistics(now: runtime.now).prometheusText
                }
                continuation.resume(returning: endpoint.localAddress)
            } catch {
                continuation.resume(throwing: NodeError.listenFailed(address.tcpMultiaddr, error.transportFailure))
            }
        }
    }

    /// Closes every connection to `peer`.
    public func disconnect(_ peer: PeerID) async throws(NodeError) {
        let runtime = self.runtime
        try await submission.submit { (continuation: CheckedContinuation<Void, any Error>) in
            runtime.swarm.disconnect(peer, now: runtime.now)
            continuation.resume()
            runtime.drive()
        }
    }

    /// Stops the node: every connection gets a GoAway and closes (waiting at most about a
    /// second for the last bytes), listeners close, waiting calls fail with `stopped`, and
    /// the loop thread ends. Idempotent.
    public func stop() async {
        let runtime = self.runtime
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = submission.execute { runtime.stop { continuation.resume() } }
            if !accepted { continuation.resume() }
        }
        submission.close()
        loop.shutdown()
    }

    private func request(
        _ start: @escaping @Sendable (inout Swarm, Instant) -> RequestID,
        onRoundTrip: (@Sendable (Duration) -> Void)? = nil
    ) async throws(NodeError) -> RequestOutcome {
        let runtime = self.runtime
        return try await submission.submit { (continuation: CheckedContinuation<RequestOutcome, any Error>) in
            let id = start(&runtime.swarm, runtime.now)
            runtime.outcomeWaiters[id] = NodeRuntime.OutcomeWaiter(continuation: continuation, onRoundTrip: onRoundTrip)
            runtime.drive()
        }
    }
}

