import ArgumentParser
import Foundation
import TraverseCore
import TraverseUV

/// `traverse listen`: runs a node that serves identify, ping, perf and echo.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Run a node: listen, serve identify, ping, perf and echo, and log connections until SIGINT/SIGTERM.")

    @Option(name: .long, help: "Identity key file (created if missing). Default: ~/.traverse/identity.key.")
    var key: String?

    @OptionGroup var serving: ServingOptions

    @Option(name: .long, help: "The most connections one peer may have.")
    var maxConnectionsPerPeer = SwarmConfiguration().maximumConnectionsPerPeer

    @Option(name: .long, help: "The most connections in all.")
    var maxConnections = SwarmConfiguration().maximumConnections

    @Option(name: .long, help: "A relay to reserve on (…/p2p/RELAY_ID; repeatable): reservations are kept on two of them, moved when one fails; each circuit address is printed once granted.")
    var relay: [String] = []

    @Option(name: .long, help: "A peer to connect to at start (…/p2p/ID; repeatable): peers observe this node's address (NAT type) and may serve AutoNAT.")
    var connect: [String] = []

    @OptionGroup var holePunch: HolePunchOptions
    @OptionGroup var natsTier: NATSOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let out = Output(json: output.json)
        try await reportingFailures(json: output.json) {
            let identity = try NodeCommandSupport.loadOrCreateKey(at: key ?? NodeCommandSupport.defaultKeyPath)
            let peers = try connect.map(NodeCommandSupport.multiaddr)
            guard maxConnectionsPerPeer > 0, maxConnections > 0 else { throw CommandFailure("limits must be positive") }
            var configuration = SwarmConfiguration()
            configuration.maximumConnectionsPerPeer = maxConnectionsPerPeer
            configuration.maximumConnections = maxConnections
            try holePunch.apply(to: &configuration)
            // AutoRelay keeps reservations on the best two of the relays named, and moves
            // one to another when its relay fails.
            let relays = try relay.map(NodeCommandSupport.multiaddr)
            for address in relays where address.peerID == nil || address.isCircuit {
                throw CommandFailure("--relay \(address): expected a relay address ending with /p2p/RELAY_ID")
            }
            configuration.autoRelay.isEnabled = !relays.isEmpty
            configuration.autoRelay.relays = relays
            configuration.autoRelay.discoversRelays = false
            try natsTier.apply(to: &configuration)
            NodeCommandSupport.raiseDescriptorLimit()
            let node = try Node(identityKey: identity, configuration: configuration)
            try await NodeCommandSupport.listen(node, on: serving.listen, out: out, json: output.json)
            let logger = Task { await NodeEventLog(out: out, quiet: serving.quiet).run(node.events) }
            let json = output.json
            let dialer = Task {
                for peer in peers {
                    do {
                        _ = try await node.dial(peer)
                    } catch {
                        ListenCommand.fail("cannot connect to \(peer): \(error)", json: json)
                    }
                }
            }
            await NodeCommandSupport.waitForTerminationSignal()
            dialer.cancel()
            await node.stop()
            logger.cancel()
        }
    }
}

/// `traverse ping`: pings a peer.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Dial a peer and ping it; exit status 0 only if every ping came back.")

    @Argument(help: "The peer's address, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo… (with --nats, /p2p/12D3Koo… alone reaches it through NATS)")
    var address: String

    @Option(name: .long, help: "How many pings.")
    var count = 1

    @Option(name: .long, help: "Seconds between pings.")
    var interval: Double = 1

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let out = Output(json: output.json)
        try await reportingFailures(json: output.json) {
            guard count > 0 else { throw CommandFailure("--count must be positive") }
            guard interval >= 0 else { throw CommandFailure("--interval must not be negative") }
            try await client.withConnectedNode(to: address) { node, connection in
                let peer = connection.peer
                for number in 1...count {
                    if number > 1 { try await Task.sleep(for: .seconds(interval)) }
                    // A ping goes over the best connection there is (the swarm prefers
                    // direct, then relayed, then NATS).
                    let tiers = try await node.connections().filter { $0.peer == peer }.map(\.tier)
                    let tier = [ConnectionTier.direct, .relay, .nats].first(where: tiers.contains)?.description ?? "none"
                    let times = try await node.ping(peer, count: 1)
                    let time = times.first ?? .zero
                    let milliseconds = Double(time.components.seconds) * 1000 + Double(time.components.attoseconds) / 1e15
                    out.emit(
                        "ping \(number): \(String(format: "%.3f", milliseconds)) ms from \(peer) (\(tier))",
                        fields: ["seq": number, "rtt_ms": milliseconds, "peer_id": peer.description, "tier": tier])
                }
                if let metrics = try await node.metrics(for: peer) { PeerMetricsLine(metrics).emit(to: out) }
            }
        }
    }
}

/// `traverse perf`: measures throughput with `/perf/1.0.0`.
struct PerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Dial a peer and run /perf/1.0.0; prints the result as the libp2p perf runner does (JSON).")

    @Argument(help: "The peer's address.")
    var address: String

    @Option(name: .long, help: "Bytes to upload.")
    var uploadBytes: UInt64 = 0

    @Option(name: .long, help: "Bytes to download.")
    var downloadBytes: UInt64 = 0

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await reportingFailures(json: true) {
            let start = ContinuousClock.now
            try await client.withConnectedNode(to: address) { node, connection in
                let result = try await node.perf(connection.peer, uploadBytes: uploadBytes, downloadBytes: downloadBytes)
                let elapsed = ContinuousClock.now - start
                Output(json: true).emit(
                    "", fields: [
                        "type": "final", "timeSeconds": elapsed.seconds,
                        "uploadBytes": result.uploadBytes, "downloadBytes": result.downloadBytes,
                        // Beyond the runner's fields: the phases without connection set-up.
                        "uploadSeconds": result.uploadDuration.seconds, "downloadSeconds": result.downloadDuration.seconds,
                    ])
            }
        }
    }
}

/// `traverse echo`: sends random bytes over `/traverse/echo/1.0.0` and checks them.
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Dial a peer, send random bytes over /traverse/echo/1.0.0 and check they come back identical.")

    @Argument(help: "The peer's address.")
    var address: String

    @Option(name: .long, help: "How many bytes.")
    var bytes: UInt64 = 1 << 20

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let out = Output(json: output.json)
        try await reportingFailures(json: output.json) {
            try await client.withConnectedNode(to: address) { node, connection in
                let elapsed = try await node.echo(connection.peer, byteCount: bytes)
                out.emit(
                    "echoed \(bytes) bytes in \(String(format: "%.3f", elapsed.seconds)) s",
                    fields: ["bytes": bytes, "seconds": elapsed.seconds, "identical": true])
            }
        }
    }
}

/// Options of the commands that dial a peer.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Identity key file (default: a new key for this run).")
    var key: String?

    @Option(name: .long, help: "Give up after this many seconds.")
    var timeout: Double = 30

    @Option(name: .long, help: "Also listen on this address (repeatable): dials then leave from its port, which hole punching needs.")
    var listen: [String] = []

    @OptionGroup var holePunch: HolePunchOptions
    @OptionGroup var natsTier: NATSOptions

    /// Starts a node, dials `address`, runs `body`, and stops the node, failing after
    /// `timeout` seconds.
    func withConnectedNode(
        to address: String, _ body: @escaping @Sendable (Node, ConnectionSummary) async throws -> Void
    ) async throws {
        let target = try NodeCommandSupport.multiaddr(address)
        guard timeout > 0 else { throw CommandFailure("--timeout must be positive") }
        let identity: PrivateKey
        if let key {
            identity = try IdentityKeyFile.load(from: key)
        } else {
            var generator = SecureRandomNumberGenerator()
            identity = PrivateKey.generateEd25519(using: &generator)
        }
        var configuration = SwarmConfiguration()
        try holePunch.apply(to: &configuration)
        try natsTier.apply(to: &configuration)
        if target.components.count == 1, target.peerID != nil, configuration.nats == nil {
            throw CommandFailure("\(address) names only a peer: give its address, or --nats to reach it through NATS")
        }
        let node = try Node(identityKey: identity, configuration: configuration)
        for text in listen { _ = try await node.listen(on: try NodeCommandSupport.multiaddr(text)) }
        let seconds = timeout
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let connection = try await node.dial(target)
                    try await body(node, connection)
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    throw CommandFailure("timed out after \(seconds.formatted()) s")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }
}

/// A counter shared with a callback.
final class Counter: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}

enum NodeCommandSupport {
    /// Listens on `requested` (default: port 4001 of every interface) and prints each
    /// full address on a line of its own. A default address that fails (an IPv6 wildcard
    /// on a host without IPv6) is only reported; an asked-for one fails the command.
    static func listen(_ node: Node, on requested: [String], out: Output, json: Bool) async throws {
        let addresses = requested.isEmpty ? ["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001"] : requested
        var listening = 0
        for text in addresses {
            let address = try multiaddr(text)
            do {
                for full in try await node.listen(on: address) {
                    out.emit(full.description, fields: ["event": "listening", "address": full.description])
                }
                listening += 1
            } catch {
                guard requested.isEmpty else { throw error }
                ListenCommand.fail("cannot listen on \(text): \(error)", json: json)
            }
        }
        guard listening > 0 else { throw CommandFailure("could not listen on any address") }
    }

    /// `~/.traverse/identity.key`.
    static var defaultKeyPath: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return home + "/.traverse/identity.key"
    }

    /// `~/.traverse/relay.key`: a relay next to a node on one host gets its own identity.
    static var defaultRelayKeyPath: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return home + "/.traverse/relay.key"
    }

    /// The key in `path`, or a new Ed25519 key saved there (with its directory).
    static func loadOrCreateKey(at path: String) throws -> PrivateKey {
        if FileManager.default.fileExists(atPath: path) { return try IdentityKeyFile.load(from: path) }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var generator = SecureRandomNumberGenerator()
        let key = PrivateKey.generateEd25519(using: &generator)
        try IdentityKeyFile.save(key, to: path)
        return key
    }

    static func multiaddr(_ text: String) throws -> Multiaddr {
        do {
            return try Multiaddr(text)
        } catch {
            throw CommandFailure("invalid multiaddr \(text): \(error)")
        }
    }

    /// Raises the soft limit on open files to the hard limit: every connection is one.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Returns once SIGINT or SIGTERM arrives.
    static func waitForTerminationSignal() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once(continuation)
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
                source.setEventHandler { once.fire() }
                source.resume()
                SignalSources.keep(source)
            }
        }
    }
}

/// Resumes a continuation the first time only.
final class Once: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

    func fire() {
        let taken = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { continuation = nil }
            return continuation
        }
        taken?.resume()
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let lock = NSLock()

    static func keep(_ source: any DispatchSourceSignal) {
        lock.withLock { sources.append(source) }
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
