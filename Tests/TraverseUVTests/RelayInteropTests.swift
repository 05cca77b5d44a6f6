import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

/// Circuit Relay v2 between Traverse and py-libp2p 0.8.1 over loopback sockets: py peers
/// through a Traverse relay, Traverse peers through a py relay, and the mixed cases; limits
/// and refusals.
@Suite(.serialized, .enabled(if: PyPeerProcess.isAvailable))
struct RelayInteropTests {
    /// A Traverse relay on 127.0.0.1 with unshaped bandwidth; returns it and its address.
    static func traverseRelay(_ adjust: (inout RelayHopConfiguration) -> Void = { _ in }) async throws -> (Node, Multiaddr) {
        var configuration = SwarmConfiguration()
        configuration.relay.roles = [.hop]
        configuration.relay.hop.maximumBandwidthPerCircuit = 0
        configuration.relay.hop.maximumBandwidthTotal = 0
        adjust(&configuration.relay.hop)
        let relay = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 41, count: 32)), configuration: configuration)
        let address = try #require(try await relay.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
        return (relay, address)
    }

    /// A py peer that reserved on `relay`; returns it and its circuit address.
    static func pyReserved(on relay: Multiaddr, keyType: String = "ed25519") throws -> (PyPeerProcess, Multiaddr) {
        let py = try PyPeerProcess(["listen", "--key-type", keyType, "--relay", relay.description])
        let reserved = try py.nextObject(where: "event", is: "reserved")
        #expect(reserved["error"] == nil, "py reservation: \(reserved)")
        let voucher = reserved["voucher"] as? [String: Any]
        #expect(voucher?["valid"] as? Bool == true, "py checked the voucher: \(reserved)")
        let circuit = try Multiaddr(try #require((reserved["addrs"] as? [String])?.first))
        return (py, circuit)
    }

    /// A Traverse node that reserved on `relay`; returns it and its circuit address.
    static func traverseReserved(on relay: Multiaddr, seed: UInt8) async throws -> (Node, NodeEventRecorder, Multiaddr) {
        let node = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32)))
        let recorder = NodeEventRecorder(node)
        try await node.reserve(on: relay)
        let addresses = try await recorder.first { event -> [Multiaddr]? in
            if case .reservationAccepted(_, let addresses, _, _) = event { addresses } else { nil }
        }
        return (node, recorder, try #require(addresses.first))
    }

    @Test func pyPeersThroughTraverseRelay() async throws {
        let (relay, relayAddress) = try await Self.traverseRelay()
        let (listener, circuit) = try Self.pyReserved(on: relayAddress)
        defer { listener.stop() }
        #expect(circuit.description.hasPrefix(relayAddress.description + "/p2p-circuit/p2p/"))
        let dialer = try PyPeerProcess(["dial", circuit.description, "--key-type", "secp256k1", "--ping", "3", "--echo", "1048576"])
        let (objects, status) = try dialer.finish()
        #expect(status == 0, "py dialer: \(objects)")
        let connect = objects.first { $0["op"] as? String == "connect" }
        #expect(connect?["relayed"] as? Bool == true)
        let echo = objects.first { $0["op"] as? String == "echo" }
        #expect(echo?["bytes"] as? Int == 1 << 20 && echo?["error"] == nil, "echo: \(String(describing: echo))")
        let statistics = try await relay.relayStatistics()
        #expect(statistics.circuitsOpened >= 1)
        #expect(statistics.bytesRelayed > 2 << 20)
        await relay.stop()
    }

    @Test func traversePeersThroughPyRelay() async throws {
        let pyRelay = try PyPeerProcess(["relay", "--quiet"])
        defer { pyRelay.stop() }
        let relayAddress = try Multiaddr(try #require((try pyRelay.nextObject(where: "event", is: "listening")["addrs"] as? [String])?.first))
        let (listener, _, circuit) = try await Self.traverseReserved(on: relayAddress, seed: 51)
        let dialer = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 52, count: 32)))
        let connection = try await dialer.dial(circuit)
        #expect(connection.peer == listener.peerID && connection.isRelayed)
        #expect(try await dialer.ping(listener.peerID, count: 3).count == 3)
        _ = try await dialer.echo(listener.peerID, byteCount: 1 << 20)
        let result = try await dialer.perf(listener.peerID, uploadBytes: 1 << 20, downloadBytes: 1 << 20)
        #expect(result.uploadBytes == 1 << 20 && result.downloadBytes == 1 << 20)
        await dialer.stop()
        await listener.stop()
    }

    @Test func pyDialsTraverseThroughTraverseRelay() async throws {
        let (relay, relayAddress) = try await Self.traverseRelay()
        let (listener, _, circuit) = try await Self.traverseReserved(on: relayAddress, seed: 53)
        let dialer = try PyPeerProcess(["dial", circuit.description, "--identify", "--ping", "3", "--echo", "1048576"])
        let (objects, status) = try dialer.finish()
        #expect(status == 0, "py dialer: \(objects)")
        let identify = objects.first { $0["op"] as? String == "identify" }
        #expect(identify?["agent_version"] as? String == "traverse/0.1.0")
        let echo = objects.first { $0["op"] as? String == "echo" }
        #expect(echo?["bytes"] as? Int == 1 << 20)
        await listener.stop()
        await relay.stop()
    }

    @Test func traverseDialsPyThroughTraverseRelay() async throws {
        let (relay, relayAddress) = try await Self.traverseRelay()
        let (listener, circuit) = try Self.pyReserved(on: relayAddress, keyType: "rsa")
        defer { listener.stop() }
        let dialer = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 54, count: 32)))
        let connection = try await dialer.dial(circuit)
        #expect(connection.isRelayed && connection.relay?.relay == relayAddress.peerID)
        let info = try await dialer.identify(connection.peer)
        #expect(info.agentVersion == "py-libp2p/0.8.1")
        #expect(try await dialer.ping(connection.peer, count: 3).count == 3)
        _ = try await dialer.echo(connection.peer, byteCount: 1 << 20)
        await dialer.stop()
        await relay.stop()
    }

    @Test func dataLimitClosesCircuitWithTheReasonVisible() async throws {
        let (relay, relayAddress) = try await Self.traverseRelay { $0.limits.data = 64 * 1024 }
        let relayEvents = NodeEventRecorder(relay)
        let (listener, circuit) = try Self.pyReserved(on: relayAddress)
        defer { listener.stop() }
        // py through the Traverse relay: the echo of 1 MiB cannot pass 64 KiB.
        let py = try PyPeerProcess(["dial", circuit.description, "--ping", "1", "--echo", "1048576"])
        let (objects, status) = try py.finish()
        #expect(status == 1, "py dialer: \(objects)")
        #expect(objects.contains { $0["op"] as? String == "echo" && $0["error"] != nil })
        let end = try await relayEvents.first { event -> RelayCircuitEnd? in
            if case .relayCircuitClosed(_, let end) = event { end } else { nil }
        }
        guard case .limitReached(.dataLimitReached) = end.reason else {
            Issue.record("circuit ended with \(end.reason)")
            return
        }
        // A Traverse dialer sees the reason too.
        let dialer = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 55, count: 32)))
        let dialerEvents = NodeEventRecorder(dialer)
        let connection = try await dialer.dial(circuit)
        #expect(connection.relay?.limit?.dataBytes == 64 * 1024)
        await #expect(throws: NodeError.self) { _ = try await dialer.echo(connection.peer, byteCount: 1 << 20) }
        let reason = try await dialerEvents.first { event -> CircuitCloseReason? in
            if case .circuitLimitReached(_, let reason) = event { reason } else { nil }
        }
        #expect(reason == .dataLimitReached(.sourceToTarget) || reason == .dataLimitReached(.targetToSource))
        await dialer.stop()
        await relay.stop()
    }

    @Test func refusalsReachPyWithTheSpecStatus() async throws {
        let (relay, relayAddress) = try await Self.traverseRelay { $0.limits.maximumReservations = 1 }
        let (holder, _, _) = try await Self.traverseReserved(on: relayAddress, seed: 56)
        // The relay is full: RESERVATION_REFUSED (200).
        let refused = try PyPeerProcess(["listen", "--relay", relayAddress.description])
        let answer = try refused.nextObject(where: "event", is: "reserved")
        #expect(answer["status"] as? Int == RelayStatus.reservationRefused.rawValue, "py reservation: \(answer)")
        refused.stop()
        // A peer without a reservation: NO_RESERVATION (204).
        let nobody = try PrivateKey(ed25519Seed: [UInt8](repeating: 57, count: 32)).peerID
        let target = try relayAddress.encapsulate(.p2pCircuit).encapsulate(.p2p(nobody))
        let dialer = try PyPeerProcess(["dial", target.description, "--no-reserve", "--ping", "1"])
        let (objects, status) = try dialer.finish()
        #expect(status == 1)
        let connect = objects.first { $0["op"] as? String == "connect" }
        #expect(connect?["status"] as? Int == RelayStatus.noReservation.rawValue, "py connect: \(String(describing: connect))")
        await holder.stop()
        await relay.stop()
    }
}
