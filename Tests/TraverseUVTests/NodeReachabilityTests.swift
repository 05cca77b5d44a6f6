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
