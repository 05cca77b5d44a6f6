import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

/// Two Traverse nodes that reach each other only through a real `nats-server` (Debian's,
/// started on 127.0.0.1 with a free port): identify, ping, a 1 MiB echo and an application
/// stream, while a plain NATS subscriber to every pipe subject checks that the server only
/// ever carries ciphertext.
@Suite(.serialized) struct NATSTierTests {
    static let serverPath = "/usr/sbin/nats-server"

    @Test func twoNodesTalkOnlyThroughNATS() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.serverPath) else {
            if ProcessInfo.processInfo.environment["CI"] == "1" {
                Issue.record("\(Self.serverPath) is missing (install Debian's nats-server: scripts/setup.sh)")
            } else {
                print("NATSTierTests: skipped, \(Self.serverPath) is missing (apt-get install nats-server)")
            }
            return
        }
        let server = try NATSServerProcess.start(path: Self.serverPath)
        defer { server.stop() }
        let sniffer = try NATSSniffer(port: server.port, subject: "traverse.pipe.>")
        defer { sniffer.stop() }

        var configuration = SwarmConfiguration()
        configuration.nats = NATSTierConfiguration(server: .ipv4(IPv4Address(127, 0, 0, 1), port: server.port))
        // Neither node listens on TCP: NATS is the only way between them.
        let listener = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 81, count: 32)), configuration: configuration)
        let dialer = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 82, count: 32)), configuration: configuration)
        try await Self.waitUntilConnected(listener)
        try await Self.waitUntilConnected(dialer)

        let marker = Array("TRAVERSE-PLAINTEXT-MARKER-0123456789".utf8)
        try await listener.setStreamHandler("/test/flip/1") { stream in
            var received: [UInt8] = []
            while let chunk = try? await stream.read() { received += chunk }
            try? await stream.write(received.map { $0 ^ 0xFF })
            try? await stream.closeWrite()
        }

        // A dial of the bare peer ID: no address is known, so NATS carries it.
        let connection = try await dialer.dial(Multiaddr("/p2p/\(listener.peerID)"))
        #expect(connection.tier == .nats)
        #expect(!connection.isRelayed)
        // Noise proved the peer: the dial named it, the handshake's signed key matched.
        #expect(connection.peer == listener.peerID)
        let inbound = try await listener.connections()
        #expect(inbound.map(\.peer) == [dialer.peerID])
        #expect(inbound.first?.tier == .nats)

        let info = try await dialer.identify(listener.peerID)
        #expect(info.publicKey?.peerID == listener.peerID)
        #expect(info.protocols.contains("/test/flip/1"))

        let times = try await dialer.ping(listener.peerID, count: 3)
        #expect(times.count == 3)

        _ = try await dialer.echo(listener.peerID, byteCount: 1 << 20)

        var payload = marker
        var generator = SeededRandomNumberGenerator(seed: 5)
        payload += (0..<(256 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        payload += marker
        let stream = try await dialer.openStream(to: listener.peerID, protocols: ["/test/flip/1"])
        try await stream.write(payload)
        try await stream.closeWrite()
        let back = try await stream.readAll(limit: 1 << 20)
        #expect(back == payload.map { $0 ^ 0xFF })

        // Every frame went past the sniffer (it subscribed before the first pipe opened);
        // none holds the marker, the protocol names or the flipped marker.
        let seen = sniffer.received()
        #expect(seen.count > 2 << 20, "the sniffer saw \(seen.count) bytes")
        for needle in [marker, marker.map { $0 ^ 0xFF }, Array("/ipfs/ping/1.0.0".utf8), Array("/test/flip/1".utf8)] {
            #expect(!Self.contains(seen, needle), "\(String(decoding: needle, as: UTF8.self)) crossed the server in the clear")
        }

        await dialer.stop()
        await listener.stop()
    }

    static func waitUntilConnected(_ node: Node) async throws {
        for _ in 0..<250 {
            if try await node.isNATSConnected() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw PyPeerError("the node did not connect to the NATS server")
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let first = needle.first else { return false }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}

/// A `nats-server` child process on 127.0.0.1 and a free port.
final class NATSServerProcess: @unchecked Sendable {
    // @unchecked: set up once, then only `stop` touches the process.
    let port: UInt16
    private let process: Process

    private init(port: UInt16, process: Process) {
        self.port = port
        self.process = process
    }

    static func start(path: String) throws -> NATSServerProcess {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-a", "127.0.0.1", "-p", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = NATSServerProcess(port: port, process: process)
        // Ready once it accepts connections.
        for _ in 0..<250 {
            if let descriptor = try? connectTCP(port: port) {
                close(descriptor)
                return server
            }
            usleep(20_000)
        }
        server.stop()
        throw PyPeerError("nats-server did not start on port \(port)")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// A port the kernel just handed out (bound, then released).
    static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PyPeerError("socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw PyPeerError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw PyPeerError("getsockname failed") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A blocking TCP connection to 127.0.0.1:`port`.
    static func connectTCP(port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PyPeerError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw PyPeerError("connect failed")
        }
        return descriptor
    }
}

/// A plain NATS client subscribed to `subject`, recording every byte the server sends it
/// (what anyone allowed to subscribe there could read), on a thread of its own.
final class NATSSniffer: @unchecked Sendable {
    // @unchecked: `bytes` and `stopped` are guarded by `lock`.
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var stopped = false
    private let descriptor: Int32

    init(port: UInt16, subject: String) throws {
        let descriptor = try NATSServerProcess.connectTCP(port: port)
        self.descriptor = descriptor
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB \(subject) 1\r\nPING\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else {
            close(descriptor)
            throw PyPeerError("send failed")
        }
        let reader = Thread { self.readLoop() }
        reader.start()
        // The PONG says the subscription is in place.
        let deadline = Date(timeIntervalSinceNow: 5)
        while Date() < deadline {
            if NATSTierTests.contains(received(), Array("PONG\r\n".utf8)) { return }
            usleep(10_000)
        }
        stop()
        throw PyPeerError("the sniffer got no PONG")
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !lock.withLock({ stopped }) {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                lock.withLock { bytes += buffer[0..<count] }
                // Answer the server's keepalive so it keeps this subscriber.
                if NATSTierTests.contains(Array(buffer[0..<count]), Array("PING\r\n".utf8)) {
                    let pong = Array("PONG\r\n".utf8)
                    _ = send(descriptor, pong, pong.count, 0)
                }
            } else if count == 0 {
                return
            }
        }
    }

    func received() -> [UInt8] { lock.withLock { bytes } }

    func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        usleep(150_000)
        close(descriptor)
    }
}
