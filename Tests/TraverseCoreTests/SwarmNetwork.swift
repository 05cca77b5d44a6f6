import Testing
@testable import TraverseCore

/// Several swarms on an in-memory network with virtual time: it performs their actions
/// (listeners, connects, closes, byte delivery in order) the way a driver would, with no
/// latency. Sockets are pairs of connection IDs on two swarms.
struct SwarmNetwork {
    struct Node {
        var swarm: Swarm
        let host: IPv4Address
        var events: [SwarmEvent] = []
        var paused: Set<ConnectionID> = []
    }

    struct Endpoint: Hashable {
        let node: Int
        let connection: ConnectionID
    }

    var nodes: [Node] = []
    var now = Instant(nanoseconds: 1_000_000_000)
    /// Listening sockets: address → (node, listener).
    var listeners: [SocketAddress: (node: Int, listener: ListenerID)] = [:]
    /// Each open socket and the one at its other end.
    var links: [Endpoint: Endpoint] = [:]
    /// Connects that get no answer (a black-holed address): they time out.
    var blackHoles: Set<SocketAddress> = []
    /// Connects to a black hole, held (unanswered) until `releaseHeldConnects`.
    var heldConnects: [(node: Int, connection: ConnectionID, action: SwarmAction)] = []
    /// Nodes behind a symmetric NAT: every connection they open is seen from a new port.
    var symmetricNATs: Set<Int> = []
    /// Host names the network's resolver knows.
    var hostNames: [String: IPv4Address] = [:]
    /// TXT records its DNS server answers with (others get NXDOMAIN).
    var txtRecords: [String: [String]] = [:]
    /// Bytes in flight per socket, delivered in order.
    var inFlight: [Endpoint: [UInt8]] = [:]
    /// A NATS server in memory at `natsAddress` (`nil`: nothing listens there).
    var natsServer: MockNATSServer?
    let natsAddress = SocketAddress.ipv4(IPv4Address(10, 0, 0, 250), port: 4222)
    /// Sockets connected to the NATS server, with the server's client index.
    var natsClients: [Endpoint: Int] = [:]
    private var nextPort: UInt16 = 40000
    /// Set when `advance` found a deadline that handling never moves (recorded as an issue).
    private(set) var timerLivelock = false

    /// Adds a node with an Ed25519 key from `seed` at 10.0.0.<index+1>.
    @discardableResult
    mutating func addNode(seed: UInt8, configuration: SwarmConfiguration = .init()) throws -> Int {
        let key = try PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32))
        let swarm = try Swarm(
            identityKey: key, configuration: configuration, now: now,
            using: SeededRandomNumberGenerator(seed: UInt64(seed)))
        nodes.append(Node(swarm: swarm, host: IPv4Address(10, 0, 0, UInt8(nodes.count + 1))))
        return nodes.count - 1
    }

    func peer(_ node: Int) -> PeerID { nodes[node].swarm.localPeer }

    /// Runs until nothing moves (no bytes, no actions), without advancing time.
    mutating func settle(maximumRounds: Int = 1_000_000) {
        for _ in 0..<maximumRounds {
            if !step() { return }
        }
        Issue.record("the network did not settle")
    }

    /// Advances virtual time to `deadline` or the earliest deadline, whichever is first,
    /// settling at each deadline on the way.
    mutating func advance(by duration: Duration) {
        let end = now + duration
        settle()
        var stalled = 0
        while true {
            let next = nodes.compactMap(\.swarm.nextDeadline).min()
            guard let next, next <= end else { break }
            // A deadline that handling does not move is a timer that would fire forever.
            stalled = next <= now ? stalled + 1 : 0
            guard stalled < 10_000 else {
                Issue.record("a deadline at \(next) keeps coming back without time passing")
                timerLivelock = true
                break
            }
            now = max(now, next)
            for index in nodes.indices { nodes[index].swarm.handleTimeout(now: now) }
            settle()
        }
        now = end
        for index in nodes.indices { nodes[index].swarm.handleTimeout(now: now) }
        settle()
    }

    /// Runs until `condition` holds, advancing time in small steps; fails after `limit`.
    mutating func run(until limit: Duration = .seconds(60), _ condition: (SwarmNetwork) -> Bool) {
        let end = now + limit
        settle()
        while !condition(self) {
            guard now < end else {
                Issue.record("condition not reached within \(limit)")
                return
            }
            advance(by: .milliseconds(100))
        }
    }

    /// Answers the connects held by black holes (the black holes stay for new ones).
    mutating func releaseHeldConnects() {
        let held = heldConnects
        heldConnects = []
        let holes = blackHoles
        blackHoles = []
        for connect in held { perform(connect.action, on: connect.node) }
        blackHoles = holes
    }

    /// One round: transmit, actions, delivery. Returns whether anything happened.
    private mutating func step() -> Bool {
        var moved = false
        var buffer: [UInt8] = []
        for index in nodes.indices {
            while true {
                buffer.removeAll(keepingCapacity: true)
                guard let id = nodes[index].swarm.pollTransmit(into: &buffer) else { break }
                let source = Endpoint(node: index, connection: id)
                if let client = natsClients[source] {
                    natsServer?.receive(buffer, from: client)
                } else if let destination = links[source] {
                    inFlight[destination, default: []].append(contentsOf: buffer)
                }
                moved = true
            }
            while let action = nodes[index].swarm.pollAction() {
                perform(action, on: index)
                moved = true
            }
            while let event = nodes[index].swarm.pollEvent() {
                nodes[index].events.append(event)
                moved = true
            }
        }
        for (endpoint, client) in natsClients.sorted(by: { $0.value < $1.value }) {
            guard !nodes[endpoint.node].paused.contains(endpoint.connection),
                  let output = natsServer?.takeOutput(client), !output.isEmpty
            else { continue }
            nodes[endpoint.node].swarm.received(endpoint.connection, output.span, now: now)
            moved = true
        }
        for (endpoint, bytes) in inFlight where !bytes.isEmpty {
            guard !nodes[endpoint.node].paused.contains(endpoint.connection) else { continue }
            inFlight[endpoint] = []
            nodes[endpoint.node].swarm.received(endpoint.connection, bytes.span, now: now)
            moved = true
        }
        return moved
    }

    private mutating func perform(_ action: SwarmAction, on index: Int) {
        switch action {
        case .listen(let id, let address):
            var bound = address
            if address.port == 0 {
                bound = address.with(port: nextPort)
                nextPort += 1
            }
            if case .ipv4(let ip, _) = bound, ip.value == 0 {
                bound = .ipv4(nodes[index].host, port: bound.port)
            }
            if listeners[bound] != nil {
                nodes[index].swarm.listenerFailed(id, .addressInUse, now: now)
            } else {
                listeners[bound] = (index, id)
                nodes[index].swarm.listenerStarted(id, boundAddress: bound, interfaces: [], now: now)
            }
        case .closeListener(let id):
            listeners = listeners.filter { !($0.value.node == index && $0.value.listener == id) }
        case .connect(let id, let remote, let source):
            if blackHoles.contains(remote) {
                heldConnects.append((index, id, action))
                return
            }
            if remote == natsAddress {
                guard natsServer != nil else {
                    nodes[index].swarm.connectFailed(id, .connectionRefused, now: now)
                    return
                }
                natsClients[Endpoint(node: index, connection: id)] = natsServer!.accept()
                nodes[index].swarm.connected(id, local: .ipv4(nodes[index].host, port: nextPort), now: now)
                nextPort += 1
                return
            }
            guard let (target, listener) = listeners[remote] else {
                nodes[index].swarm.connectFailed(id, .connectionRefused, now: now)
                return
            }
            // From the listening port when the swarm asks (port reuse), else an ephemeral one.
            let local: SocketAddress
            if let source, source.port != 0 {
                local = .ipv4(nodes[index].host, port: source.port)
            } else {
                local = .ipv4(nodes[index].host, port: nextPort)
                nextPort += 1
            }
            var seenFrom = local
            if symmetricNATs.contains(index) {
                seenFrom = .ipv4(nodes[index].host, port: nextPort)
                nextPort += 1
            }
            guard let accepted = nodes[target].swarm.accepted(listener: listener, remote: seenFrom, local: remote, now: now) else {
                nodes[index].swarm.connectFailed(id, .connectionReset, now: now)
                return
            }
            links[Endpoint(node: index, connection: id)] = Endpoint(node: target, connection: accepted)
            links[Endpoint(node: target, connection: accepted)] = Endpoint(node: index, connection: id)
            nodes[index].swarm.connected(id, local: local, now: now)
        case .close(let id):
            heldConnects.removeAll { $0.node == index && $0.connection == id }
            let source = Endpoint(node: index, connection: id)
            if let client = natsClients.removeValue(forKey: source) {
                natsServer?.clients[client].subscriptions = [:]
            }
            if let destination = links.removeValue(forKey: source) {
                links[destination] = nil
                // Deliver what is in flight, then the end of the stream.
                if let bytes = inFlight.removeValue(forKey: destination), !bytes.isEmpty {
                    nodes[destination.node].swarm.received(destination.connection, bytes.span, now: now)
                }
                nodes[destination.node].swarm.transportClosed(destination.connection, nil, now: now)
            }
            inFlight[source] = nil
        case .pauseReading(let id):
            nodes[index].paused.insert(id)
        case .resumeReading(let id):
            nodes[index].paused.remove(id)
        case .lookUpHost(let id, let name, _):
            if let host = hostNames[name] {
                nodes[index].swarm.hostLookupCompleted(id, .success([.ipv4(host, port: 0)]), now: now)
            } else {
                nodes[index].swarm.hostLookupCompleted(id, .failure(.nameNotFound), now: now)
            }
        case .sendDatagram(let id, _, let payload):
            guard var response = try? DNSResponseBuilder(answering: payload) else {
                nodes[index].swarm.datagramFailed(id, .unreachable, now: now)
                return
            }
            if let question = response.question, let records = txtRecords[question.name] {
                response.addTXT(records)
            } else {
                response.responseCode = 3
            }
            nodes[index].swarm.datagramReceived(id, response.bytes.span, now: now)
        }
    }

    /// The NATS server goes away: its sockets are reset and new connects are refused.
    mutating func stopNATSServer() {
        let clients = natsClients
        natsClients = [:]
        natsServer = nil
        for endpoint in clients.keys.sorted(by: { $0.node < $1.node }) {
            nodes[endpoint.node].swarm.transportClosed(endpoint.connection, .connectionReset, now: now)
        }
        settle()
    }

    /// The events of `node` so far, cleared.
    mutating func takeEvents(_ node: Int) -> [SwarmEvent] {
        defer { nodes[node].events.removeAll() }
        return nodes[node].events
    }

    /// The full listen address (with `/p2p`) of `node`'s first listener.
    func listenAddress(_ node: Int) -> Multiaddr? {
        for event in nodes[node].events {
            if case .listening(_, let addresses) = event { return addresses.first }
        }
        return nil
    }
}
