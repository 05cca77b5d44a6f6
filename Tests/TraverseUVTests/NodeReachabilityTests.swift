import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

/// AutoNAT over real loopback sockets: servers dial the client back on new connections,
/// and the client's status turns public. Loopback counts as public here, and the probe
/// interval is one second instead of 90.
@Suite struct NodeReachabilityTests {
    static func configuration() -> SwarmConfiguration {
        var configuration = SwarmConfiguration()
        configuration.autoNAT.publicScopes = [.loopback]
        configuration.autoNAT.reachability.retryInterval = .seconds(1)
        return configuration
    }

    @Test func serversDialTheClientBackAndItsStatusTurnsPublic() async throws {
        let client = try Node(identityKey: NodeTests.key(31), configuration: Self.configuration())
        var servers: [Node] = []
        for seed in UInt8(32)...34 { servers.append(try Node(identityKey: NodeTests.key(seed), configuration: Self.configuration())) }
        let listening = try await client.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0"))
        let clientAddress = try #require(listening.first).withoutTrailingPeerID
        let before = try await client.status()
        #expect(before.reachability == .unknown)
        for server in servers {
            let address = try #require(try await server.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
            _ = try await client.dial(address)
        }
        var status = before
        for _ in 0..<200 where status.reachability != .public {
            try await Task.sleep(for: .milliseconds(50))
            status = try await client.status()
        }
        #expect(status.reachability == .public)
        #expect(status.confidence == 3)
        #expect(status.publicAddresses.contains(clientAddress))
        #expect(!status.relayRequired)
        // The dial-back connections are gone: each server keeps only the client's own.
        for server in servers {
            let connections = try await server.connections().filter { $0.peer == client.peerID }
            #expect(connections.count == 1)
        }
        await client.stop()
        for server in servers { await server.stop() }
    }
}

/// Per-peer metrics and `/metrics` of a node over real sockets.
@Suite struct NodeMetricsTests {
    /// `GET /metrics` on 127.0.0.1:`port`: the body.
    static func scrape(port: UInt16) throws -> String {
        let descriptor = try NATSServerProcess.connectTCP(port: port)
        defer { close(descriptor) }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            reply += chunk[..<count]
        }
        let text = String(decoding: reply, as: UTF8.self)
        return text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    @Test func pingsShowInThePeersMetricsAndOnTheEndpoint() async throws {
        let (a, b, address) = try await NodeTests.pair()
        _ = try await a.dial(address)
        _ = try await a.ping(b.peerID, count: 2)
        await #expect(throws: NodeError.self) { _ = try await a.openStream(to: b.peerID, protocols: ["/none/1", "/none/2"]) }
        let metrics = try #require(try await a.metrics(for: b.peerID))
        #expect(metrics.tier == .direct)
        #expect(metrics.requests.succeeded == 1 && metrics.requests.failed == 1)
        #expect(metrics.averageRoundTrip != nil)
        let statistics = try await a.nodeStatistics()
        #expect(statistics.connectionsOpen[.direct] == 1)
        let endpoint = try await a.serveMetrics(on: .ipv4(IPv4Address(127, 0, 0, 1), port: 0))
        let body = try Self.scrape(port: endpoint.port)
        #expect(body.contains(#"traverse_requests_total{tier="direct",outcome="succeeded"} 1"#))
        #expect(body.contains(#"traverse_requests_total{tier="direct",outcome="failed"} 1"#))
        #expect(body.contains(#"traverse_connections_open{tier="direct"} 1"#))
        // The relay's families are served alongside.
        #expect(body.contains("traverse_relay_circuits_active 0"))
        await a.stop()
        await b.stop()
    }
}
