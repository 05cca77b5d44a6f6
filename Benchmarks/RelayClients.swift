#if os(Linux)
import TraverseCore

/// The relay suite's client peers: `Swarm`s in one `EpollSwarmDriver` on this thread, each
/// with a fresh Ed25519 identity and a loopback source address it shares with
/// `clientsPerAddress - 1` others (127.20.0.0/16, so a relay's per-IP limits see many
/// addresses). `run` takes clients through one step (dial, reserve, echo…) with bounded
/// concurrency, deciding from each client's events when it is done.
final class RelayClients {
    let driver: EpollSwarmDriver
    let clientsPerAddress: Int
    private var generator = SecureRandomNumberGenerator()
    /// Connections of any client that closed, with their reasons (held connections should
    /// not close).
    private(set) var closures: [String] = []

    /// How a client's step ended, decided from its events (`nil` from `outcome`: not yet).
    enum StepOutcome {
        case succeeded
        case failed(String)
    }

    /// What a step did.
    struct StepReport {
        /// Clients started.
        var started = 0
        /// Why clients failed (empty when all succeeded).
        var failures: [String] = []
        /// From the step's start to the last client's end.
        var elapsed: Duration = .zero
        /// The end times of the clients, from the step's start, in order.
        var endTimes: [Duration] = []

        /// Clients per second over the whole step.
        var rate: Double { Double(started) / elapsed.seconds }

        /// Clients per second over the first `count` ends, and over the last `count`.
        func rates(ofFirstAndLast count: Int) -> (first: Double, last: Double)? {
            guard count > 0, endTimes.count > count else { return nil }
            let first = Double(count) / endTimes[count - 1].seconds
            let last = Double(count) / (endTimes[endTimes.count - 1] - endTimes[endTimes.count - 1 - count]).seconds
            return (first, last)
        }
    }

    init(clientsPerAddress: Int) throws {
        driver = try EpollSwarmDriver()
        self.clientsPerAddress = clientsPerAddress
        recordClosures()
    }

    /// Adds a client with the default configuration; returns its index.
    @discardableResult
    func add() throws -> Int {
        let index = driver.swarms.count
        let group = index / clientsPerAddress
        guard group < 250 * 250 else { throw BenchmarkFailure("too many relay clients") }
        let source = IPv4Address(127, 20, UInt8(group / 250), UInt8(1 + group % 250))
        return try driver.addSwarm(
            identityKey: PrivateKey.generateEd25519(using: &generator), configuration: SwarmConfiguration(), source: source)
    }

    /// The peer ID of client `index`.
    func peer(_ index: Int) -> PeerID { driver.swarms[index].localPeer }

    /// The next of `indices` each call, then `nil`: a `next` for `run`.
    static func sequence(_ indices: [Int]) -> () -> Int? {
        var iterator = indices.makeIterator()
        return { iterator.next() }
    }

    /// Runs the sockets for `duration` (handshakes and identify settle).
    func idle(for duration: Duration) throws {
        _ = try driver.run(timeout: duration) { false }
    }

    /// Takes clients through a step: `next()` names the next client to start (`nil`: no
    /// more), `start` commands it (returning a failure if it cannot start), and `outcome`
    /// reads its events; at most `concurrency` clients are unfinished at once. Returns once
    /// every started client has finished; throws after `timeout`.
    func run(
        _ name: String, concurrency: Int, timeout: Duration,
        next: @escaping () throws -> Int?,
        start: @escaping (_ index: Int, _ swarm: inout Swarm, _ now: Instant) -> String?,
        outcome: @escaping (SwarmEvent) -> StepOutcome?
    ) throws -> StepReport {
        let begin = driver.now()
        var report = StepReport()
        var unfinished = Set<Int>()
        var exhausted = false
        var thrown: (any Error)?
        func finish(_ index: Int, _ failure: String?) {
            unfinished.remove(index)
            report.endTimes.append(driver.now() - begin)
            if let failure { report.failures.append(failure) }
        }
        func fill() {
            while !exhausted && thrown == nil && unfinished.count < concurrency {
                let index: Int?
                do {
                    index = try next()
                } catch {
                    thrown = error
                    return
                }
                guard let index else {
                    exhausted = true
                    return
                }
                unfinished.insert(index)
                report.started += 1
                driver.command(index) { swarm, now in
                    if let failure = start(index, &swarm, now) { finish(index, failure) }
                }
            }
        }
        driver.onEvent = { [unowned self] _, index, event in
            self.noteClosure(event)
            guard unfinished.contains(index), let result = outcome(event) else { return }
            if case .failed(let why) = result { finish(index, why) } else { finish(index, nil) }
            fill()
        }
        defer { recordClosures() }
        fill()
        let finished = try driver.run(timeout: timeout) { thrown != nil || (exhausted && unfinished.isEmpty) }
        if let thrown { throw thrown }
        guard finished else {
            throw BenchmarkFailure(
                "\(name): \(unfinished.count) of \(report.started) clients unfinished after \(timeout)"
                    + (report.failures.isEmpty ? "" : "; failures: \(report.failures.prefix(3))"))
        }
        report.elapsed = driver.now() - begin
        return report
    }

    /// Between steps, events only matter when a connection closes.
    private func recordClosures() {
        driver.onEvent = { [unowned self] _, _, event in self.noteClosure(event) }
    }

    private func noteClosure(_ event: SwarmEvent) {
        guard case .connectionClosed(let summary, let reason) = event else { return }
        closures.append("\(summary.remoteAddress)\(summary.isRelayed ? " (relayed)" : ""): \(reason)")
    }
}

extension RelayClients {
    /// Each client `next` names reserves on `relay`.
    func reserve(
        _ name: String, on relay: Multiaddr, concurrency: Int, timeout: Duration, next: @escaping () throws -> Int?
    ) throws -> StepReport {
        try run(
            name, concurrency: concurrency, timeout: timeout, next: next,
            start: { _, swarm, now in
                do {
                    try swarm.reserve(on: relay, now: now)
                    return nil
                } catch {
                    return "reserve: \(error)"
                }
            },
            outcome: StepOutcome.ofReservation)
    }

    /// Each client `next` names dials `address(client)` (reusing a connection to the peer).
    func dial(
        _ name: String, concurrency: Int, timeout: Duration, next: @escaping () throws -> Int?,
        address: @escaping (Int) -> Multiaddr
    ) throws -> StepReport {
        try run(
            name, concurrency: concurrency, timeout: timeout, next: next,
            start: { index, swarm, now in
                _ = swarm.dial(address(index), now: now)
                return nil
            },
            outcome: StepOutcome.ofDial)
    }

    /// Each client `next` names echoes `byteCount` random bytes with `peer(client)` over
    /// `/traverse/echo/1.0.0`; it succeeds only if every byte came back identical.
    func echo(
        _ name: String, byteCount: UInt64, concurrency: Int, timeout: Duration, next: @escaping () throws -> Int?,
        peer: @escaping (Int) -> PeerID
    ) throws -> StepReport {
        try run(
            name, concurrency: concurrency, timeout: timeout, next: next,
            start: { index, swarm, now in
                _ = swarm.echo(peer(index), byteCount: byteCount, now: now)
                return nil
            },
            outcome: StepOutcome.ofEcho)
    }
}

extension RelayClients.StepReport {
    /// Throws unless every client succeeded.
    func requireSuccess(_ what: String) throws {
        guard failures.isEmpty else {
            throw BenchmarkFailure("\(what): \(failures.count) of \(started) failed: \(failures.prefix(3))")
        }
    }
}

extension RelayClients.StepOutcome {
    /// A dial's outcome.
    static func ofDial(_ event: SwarmEvent) -> Self? {
        switch event {
        case .dialSucceeded: .succeeded
        case .dialFailed(_, let failure): .failed("dial failed: \(failure)")
        default: nil
        }
    }

    /// A reservation's outcome (a failure counts even when the swarm will try again).
    static func ofReservation(_ event: SwarmEvent) -> Self? {
        switch event {
        case .reservationAccepted: .succeeded
        case .reservationFailed(_, let failure, _): .failed("reservation failed: \(failure)")
        default: nil
        }
    }

    /// An echo's outcome: `echoed` only when every byte came back identical.
    static func ofEcho(_ event: SwarmEvent) -> Self? {
        guard case .requestCompleted(_, let outcome) = event else { return nil }
        if case .echoed = outcome { return .succeeded }
        return .failed("echo: \(outcome)")
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
#endif
