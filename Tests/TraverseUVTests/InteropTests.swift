import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

/// Traverse against py-libp2p 0.8.1 over loopback sockets, in both directions, with py
/// identities of the four key types.
@Suite(.serialized, .enabled(if: PyPeerProcess.isAvailable))
struct InteropTests {
    static let keyTypes = ["ed25519", "secp256k1", "rsa", "ecdsa"]

    @Test(arguments: keyTypes)
    func traverseDialsPy(keyType: String) async throws {
        let py = try PyPeerProcess(["listen", "--key-type", keyType, "--quiet"])
        defer { py.stop() }
        let listening = try py.nextObject(where: "event", is: "listening")
        let address = try Multiaddr(try #require((listening["addrs"] as? [String])?.first))
        let pyPeer = try #require(address.peerID)
        #expect(listening["peer_id"] as? String == pyPeer.description)

        let node = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 7, count: 32)))
        let connection = try await node.dial(address)
        #expect(connection.peer == pyPeer)

        let info = try await node.identify(pyPeer)
        #expect(info.agentVersion == "py-libp2p/0.8.1")
        #expect(info.protocols.contains(StreamProtocolID.ping))
        #expect(info.publicKey?.peerID == pyPeer)
        // The record's signature was checked when it was opened; it must be the peer's own.
        let record = try #require(info.signedPeerRecord?.record)
        #expect(record.peerID == pyPeer)
        #expect(record.addresses.map(\.withoutTrailingPeerID).contains(address.withoutTrailingPeerID))
        #expect(info.observedAddress == connection.localAddress)

        let times = try await node.ping(pyPeer, count: 3)
        #expect(times.count == 3)
        _ = try await node.echo(pyPeer, byteCount: 1 << 20)
        let result = try await node.perf(pyPeer, uploadBytes: 4 << 20, downloadBytes: 4 << 20)
        #expect(result.uploadBytes == 4 << 20 && result.downloadBytes == 4 << 20)
        await node.stop()
    }

    @Test(arguments: keyTypes)
    func pyDialsTraverse(keyType: String) async throws {
        let node = try Node(identityKey: PrivateKey(ed25519Seed: [UInt8](repeating: 8, count: 32)))
        let address = try #require(try await node.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
        let py = try PyPeerProcess([
            "dial", address.description, "--key-type", keyType, "--identify", "--push-identify", "--ping", "3",
            "--echo", "1048576", "--perf-upload", "4194304", "--perf-download", "4194304",
            "--protocol-probe", "/nobody/1.0.0",
        ])
        let (objects, status) = try py.finish()
        #expect(status == 0, "py reported \(objects)")
        func result(_ op: String) -> [String: Any]? { objects.first { $0["op"] as? String == op } }

        let connect = try #require(result("connect"))
        let pyPeer = try PeerID(try #require(connect["local_peer_id"] as? String))
        let identify = try #require(result("identify"))
        #expect(identify["peer_id"] as? String == node.peerID.description)
        #expect(identify["agent_version"] as? String == "traverse/0.1.0")
        let protocols = identify["protocols"] as? [String] ?? []
        for name in [StreamProtocolID.identify, StreamProtocolID.identifyPush, StreamProtocolID.ping,
                     StreamProtocolID.perf, StreamProtocolID.echo] {
            #expect(protocols.contains(name))
        }
        #expect(identify["listen_addrs"] as? [String] == [address.withoutTrailingPeerID.description])
        #expect((identify["observed_addr"] as? String)?.hasPrefix("/ip4/127.0.0.1/tcp/") == true)
        let record = try #require(identify["signed_peer_record"] as? [String: Any])
        #expect(record["present"] as? Bool == true)
        #expect(record["valid"] as? Bool == true)
        #expect(record["peer_id"] as? String == node.peerID.description)
        #expect((result("ping")?["rtt_ms"] as? [Double])?.count == 3)
        #expect(result("echo")?["identical"] as? Bool == true)
        #expect(result("echo")?["bytes"] as? Int == 1 << 20)
        #expect(result("perf")?["error"] == nil)
        #expect(result("perf")?["download_bytes"] as? Int == 4 << 20)
        #expect(result("probe")?["supported"] as? Bool == false)

        // Traverse saw py's identify (and its push) with py's own key type.
        let info = try #require(try await node.peerInfo(pyPeer))
        #expect(info.agentVersion == "py-libp2p/0.8.1")
        #expect(info.publicKey?.peerID == pyPeer)
        #expect(info.publicKey?.type.description == Self.expectedKeyTypeName(keyType))
        await node.stop()
    }

    static func expectedKeyTypeName(_ keyType: String) -> String {
        switch keyType {
        case "ed25519": "Ed25519"
        case "secp256k1": "secp256k1"
        case "rsa": "RSA"
        default: "ECDSA"
        }
    }
}
