import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

/// Three Traverse nodes over loopback sockets: a relay, a node that reserves on it, and a
/// node that dials through it; the relay's metrics over HTTP.
@Suite struct RelayNodeTests {
    @Test func echoThroughARelayAndItsMetrics() async throws {
        var relayConfiguration = SwarmConfiguration()
        relayConfiguration.relay.roles = [.hop]
        relayConfiguration.relay.hop.maximumBandwidthPerCircuit = 0
        relayConfiguration.relay.hop.maximumBandwidthTotal = 0
        let relay = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 61, count: 32)), configuration: relayConfiguration)
        let relayAddress = try #require(try await relay.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
        let metrics = try await relay.serveMetrics(on: .ipv4(IPv4Address(127, 0, 0, 1), port: 0))

        let listener = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 62, count: 32)))
        let listenerEvents = NodeEventRecorder(listener)
        try await listener.reserve(on: relayAddress)
        let circuit = try await listenerEvents.first { event -> Multiaddr? in
            if case .reservationAccepted(_, let addresses, _, _) = event { addresses.first } else { nil }
        }
        #expect(try await listener.listenAddresses().contains(circuit))

        let dialer = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 63, count: 32)))
        let connection = try await dialer.dial(circuit)
        #expect(connection.isRelayed && connection.peer == listener.peerID)
        // An application stream: bytes through the relay arrive intact, both ways.
        try await listener.setStreamHandler("/test/upper/1") { stream in
            var received: [UInt8] = []
            while let chunk = try? await stream.read() { received += chunk }
            try? await stream.write(received.map { $0 ^ 0xFF })
            try? await stream.closeWrite()
        }
        let stream = try await dialer.openStream(to: listener.peerID, protocols: ["/test/upper/1"])
        var generator = SeededRandomNumberGenerator(seed: 9)
        let payload = (0..<(700 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try await stream.write(payload)
        try await stream.closeWrite()
        let back = try await stream.readAll(limit: 1 << 20)
        #expect(back == payload.map { $0 ^ 0xFF })

        let text = try await Task.detached { try Self.get("/metrics", from: metrics) }.value
        #expect(text.contains("traverse_relay_reservations_active 1"))
        #expect(text.contains("traverse_relay_circuits_active 1"))
        #expect(text.contains("traverse_relay_circuits_opened_total 1"))
        #expect(text.contains("traverse_relayed_connections 0"))
        #expect(try await dialer.relayStatistics().relayedConnections == 1)
        await dialer.stop()
        await listener.stop()
        await relay.stop()
    }

    /// A blocking HTTP/1.1 GET over a plain socket; returns the whole response.
    static func get(_ path: String, from address: SocketAddress) throws -> String {
        guard case .ipv4(let ip, let port) = address else { throw PyPeerError("IPv4 only") }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PyPeerError("socket failed") }
        defer { close(descriptor) }
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        socketAddress.sin_addr.s_addr = ip.value.bigEndian
        let connected = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw PyPeerError("connect failed") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else { throw PyPeerError("send failed") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
