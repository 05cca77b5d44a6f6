@testable import TraverseCore

enum NATSFixtures {
    static func peer(_ seed: UInt64) -> PeerID {
        var generator = SeededGenerator(seed: seed)
        return PrivateKey.generateEd25519(using: &generator).publicKey.peerID
    }

    static let alice = peer(101)
    static let bob = peer(102)
    static let carol = peer(103)
}

/// Routers joined in memory: every frame one publishes is delivered to the router whose
/// inbound subject it names, unless `intercept` says otherwise. Virtual time.
struct PipeLink {
    enum Delivery { case deliver, drop, duplicate }

    var routers: [NATSPipeRouter]
    var now = Instant.zero
    var maximumPayload = NATSServerInfo.defaultMaximumPayload
    /// Decides the fate of each frame (from router index, decoded frame).
    var intercept: (Int, NATSPipeFrame) -> Delivery = { _, _ in .deliver }
    /// Every event, per router.
    var events: [[NATSPipeRouterEvent]]
    /// Frames delivered, per destination router.
    var delivered: [[NATSPipeFrame]]

    init(_ peers: [PeerID], configuration: NATSPipeRouterConfiguration = .init()) {
        routers = peers.map { NATSPipeRouter(local: $0, configuration: configuration) }
        events = Array(repeating: [], count: peers.count)
        delivered = Array(repeating: [], count: peers.count)
    }

    /// Moves every published frame once; returns whether anything moved.
    mutating func step() -> Bool {
        var moved = false
        for index in routers.indices {
            var payload: [UInt8] = []
            while let subject = routers[index].pollPublish(into: &payload, maximumPayload: maximumPayload) {
                moved = true
                precondition(payload.count <= maximumPayload, "frame over max_payload")
                let frame = try! NATSPipeFrame(decoding: payload)
                let copies: Int = switch intercept(index, frame) {
                case .deliver: 1
                case .drop: 0
                case .duplicate: 2
                }
                if let target = routers.firstIndex(where: { $0.inboundSubject == subject }) {
                    for _ in 0..<copies {
                        delivered[target].append(frame)
                        routers[target].receive(payload, now: now)
                    }
                }
                payload.removeAll()
            }
        }
        drainEvents()
        return moved
    }

    mutating func drainEvents() {
        for index in routers.indices {
            while let event = routers[index].pollEvent() { events[index].append(event) }
        }
    }

    mutating func run() {
        var rounds = 0
        while step() {
            rounds += 1
            precondition(rounds < 100_000, "no quiescence")
        }
    }

    /// Advances the clock by `duration`, runs the timers, and moves frames.
    mutating func advance(by duration: Duration) {
        now = now + duration
        for index in routers.indices { routers[index].handleTimeout(now: now) }
        drainEvents()
        run()
    }

    /// Events of router `index` since the last call.
    mutating func takeEvents(_ index: Int) -> [NATSPipeRouterEvent] {
        defer { events[index].removeAll() }
        return events[index]
    }
}

/// A NATS server in memory, enough for pipe tests: INFO, CONNECT, PING/PONG, SUB, UNSUB and
/// PUB, delivered as MSG to exact-subject subscribers (itself included). Input that is not
/// understood traps: the client under test must only send valid protocol.
struct MockNATSServer {
    struct Client {
        var input: [UInt8] = []
        var output: [UInt8] = []
        var subscriptions: [String: String] = [:]  // sid → subject
        var connected = false
    }

    var clients: [Client] = []
    var maximumPayload: Int
    /// Messages published, in order (subject, payload size).
    var published: [(subject: String, size: Int)] = []
    /// Every payload published, concatenated (what the server operator could read).
    var sniffed: [UInt8] = []

    init(maximumPayload: Int = 1_048_576) { self.maximumPayload = maximumPayload }

    /// A new client connection; INFO is queued.
    mutating func accept() -> Int {
        var client = Client()
        client.output = Array(
            #"INFO {"server_id":"MOCK","version":"2.9.10","proto":1,"headers":true,"max_payload":\#(maximumPayload)} "#.utf8) + [13, 10]
        clients.append(client)
        return clients.count - 1
    }

    mutating func takeOutput(_ index: Int) -> [UInt8] {
        defer { clients[index].output.removeAll() }
        return clients[index].output
    }

    mutating func receive(_ bytes: [UInt8], from index: Int) {
        clients[index].input += bytes
        while let newline = clients[index].input.firstIndex(of: 10) {
            precondition(newline > 0 && clients[index].input[newline - 1] == 13, "line without CRLF")
            let line = String(decoding: clients[index].input[..<(newline - 1)], as: UTF8.self)
            let fields = line.split(separator: " ").map(String.init)
            switch fields.first {
            case "CONNECT":
                clients[index].connected = true
                clients[index].input.removeFirst(newline + 1)
            case "PING":
                clients[index].output += Array("PONG\r\n".utf8)
                clients[index].input.removeFirst(newline + 1)
            case "PONG":
                clients[index].input.removeFirst(newline + 1)
            case "SUB":
                precondition(fields.count == 3)
                clients[index].subscriptions[fields[2]] = fields[1]
                clients[index].input.removeFirst(newline + 1)
            case "UNSUB":
                clients[index].subscriptions[fields[1]] = nil
                clients[index].input.removeFirst(newline + 1)
            case "PUB":
                precondition(fields.count == 3, "PUB with reply not used")
                let size = Int(fields[2])!
                precondition(size <= maximumPayload, "PUB over max_payload")
                guard clients[index].input.count >= newline + 1 + size + 2 else { return }
                let payload = Array(clients[index].input[(newline + 1)..<(newline + 1 + size)])
                clients[index].input.removeFirst(newline + 1 + size + 2)
                published.append((fields[1], size))
                sniffed += payload
                for target in clients.indices {
                    for (sid, subject) in clients[target].subscriptions where subject == fields[1] {
                        clients[target].output += Array("MSG \(subject) \(sid) \(size)\r\n".utf8) + payload + [13, 10]
                    }
                }
            default:
                preconditionFailure("unexpected client line: \(line)")
            }
        }
    }
}

/// `NATSPipeTransport`s connected to one `MockNATSServer`, moved in virtual time.
struct TransportNetwork {
    var server: MockNATSServer
    var transports: [NATSPipeTransport]
    var events: [[NATSPipeTransportEvent]]
    var now = Instant.zero

    init(_ peers: [PeerID], maximumPayload: Int = 1_048_576, configuration: NATSPipeTransportConfiguration = .init()) {
        server = MockNATSServer(maximumPayload: maximumPayload)
        transports = []
        for peer in peers {
            _ = server.accept()
            transports.append(NATSPipeTransport(local: peer, now: .zero, configuration: configuration))
        }
        events = Array(repeating: [], count: peers.count)
    }

    mutating func step() -> Bool {
        var moved = false
        for index in transports.indices {
            var bytes: [UInt8] = []
            while transports[index].pollTransmit(into: &bytes) > 0 {}
            if !bytes.isEmpty {
                moved = true
                server.receive(bytes, from: index)
            }
        }
        for index in transports.indices {
            let bytes = server.takeOutput(index)
            if !bytes.isEmpty {
                moved = true
                transports[index].receive(bytes.span, now: now)
            }
            while let event = transports[index].pollEvent() { events[index].append(event) }
        }
        return moved
    }

    mutating func run() {
        var rounds = 0
        while step() {
            rounds += 1
            precondition(rounds < 100_000, "no quiescence")
        }
    }

    mutating func advance(by duration: Duration) {
        now = now + duration
        for index in transports.indices { transports[index].handleTimeout(now: now) }
        run()
    }
}
