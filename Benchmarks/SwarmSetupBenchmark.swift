import Dispatch
import TraverseCore

/// Two swarms on one thread, joined by an in-memory network that performs their actions
/// at once: the floor of a connection setup with no kernel, sockets or threads.
private struct InMemorySwarmPair {
    var swarms: [Swarm]
    var now = Instant(nanoseconds: 1_000_000_000)
    let listenAddress: SocketAddress
    var listener: ListenerID?
    /// Each open socket and the one at its other end, by swarm index.
    var links: [Int: [ConnectionID: ConnectionID]] = [0: [:], 1: [:]]
    var events: [[SwarmEvent]] = [[], []]
    private var buffer: [UInt8] = []
    private var nextPort: UInt16 = 40000

    init(dialer: Swarm, listener: Swarm) throws {
        swarms = [dialer, listener]
        listenAddress = .ipv4(IPv4Address(10, 0, 0, 2), port: 4001)
        _ = try swarms[1].listen(on: Multiaddr("/ip4/10.0.0.2/tcp/4001"), now: now)
        settle()
    }

    /// Performs actions and delivers bytes until nothing moves.
    mutating func settle() {
        var moved = true
        while moved {
            moved = false
            for index in 0..<2 {
                while let id = swarms[index].pollTransmit(into: &buffer) {
                    moved = true
                    if let other = links[index]?[id] {
                        let bytes = buffer
                        swarms[1 - index].received(other, bytes.span, now: now)
                    }
                    buffer.removeAll(keepingCapacity: true)
                }
                while let action = swarms[index].pollAction() {
                    moved = true
                    perform(action, on: index)
                }
                while let event = swarms[index].pollEvent() {
                    moved = true
                    events[index].append(event)
                }
            }
        }
    }

    private mutating func perform(_ action: SwarmAction, on index: Int) {
        switch action {
        case .listen(let id, let address):
            listener = id
            swarms[index].listenerStarted(id, boundAddress: address, interfaces: [], now: now)
        case .connect(let id, _, _):
            nextPort &+= 1
            let local = SocketAddress.ipv4(IPv4Address(10, 0, 0, 1), port: nextPort)
            guard let listener, let accepted = swarms[1 - index].accepted(
                listener: listener, remote: local, local: listenAddress, now: now)
            else { return swarms[index].connectFailed(id, .connectionRefused, now: now) }
            links[index]?[id] = accepted
            links[1 - index]?[accepted] = id
            swarms[index].connected(id, local: local, now: now)
        case .close(let id):
            if let other = links[index]?.removeValue(forKey: id) {
                links[1 - index]?[other] = nil
                swarms[1 - index].transportClosed(other, nil, now: now)
            }
        default:
            break
        }
    }
}

/// Sequential setups between two swarms in memory (one thread, no sockets): dial, Noise,
/// Yamux, identify both ways, a ping, disconnect. What the core costs per setup, both sides
/// together; `connection-setups-traverse` adds the kernel, two processes and the `Node` API.
func swarmSetupsInMemory(seconds: Double) throws -> BenchmarkResult {
    var random = BenchmarkRandom(seed: 11)
    let dialer = try Swarm(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 1, count: 32)), now: .zero, using: random)
    random = BenchmarkRandom(seed: 12)
    let listener = try Swarm(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 2, count: 32)), now: .zero, using: random)
    var pair = try InMemorySwarmPair(dialer: dialer, listener: listener)
    let target = try Multiaddr("/ip4/10.0.0.2/tcp/4001")
    var failure: String?
    let rate = measureRate(seconds: seconds) {
        _ = pair.swarms[0].dial(target, reusingConnection: false, now: pair.now)
        pair.settle()
        guard let peer = pair.events[0].lazy.compactMap({ event -> PeerID? in
            if case .dialSucceeded(_, let peer, _) = event { peer } else { nil }
        }).first else {
            failure = "no connection: \(pair.events[0].suffix(3))"
            return 0
        }
        let ping = pair.swarms[0].ping(peer, now: pair.now)
        pair.settle()
        let pinged = pair.events[0].contains { if case .requestCompleted(ping, _) = $0 { true } else { false } }
        if !pinged { failure = "ping did not complete" }
        pair.swarms[0].disconnect(peer, now: pair.now)
        pair.settle()
        pair.events = [[], []]
        return pinged ? 1 : 0
    }
    if let failure { throw BenchmarkFailure("in-memory setups: \(failure)") }
    return BenchmarkResult(
        name: "swarm-setups-in-memory", value: rate, unit: "setups/s",
        note: "two swarms on one thread, no sockets; dial, Noise XX, Yamux, identify both ways, ping, disconnect")
}
