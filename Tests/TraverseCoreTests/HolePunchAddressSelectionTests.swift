import Testing
@testable import TraverseCore

@Suite struct HolePunchAddressSelectionTests {
    let selection = HolePunchAddressSelection()
    func addresses(_ texts: [String]) -> [Multiaddr] { texts.map { try! Multiaddr($0) } }

    @Test func keepsPlainTCPOverIPOnly() {
        let remote = addresses([
            "/ip4/1.2.3.4/tcp/4001", "/ip4/1.2.3.4/udp/4001/quic-v1", "/ip4/1.2.3.4/tcp/4002/ws",
            "/dns4/example.com/tcp/4001", "/ip6/2606:4700::1111/tcp/4001", "/ip4/1.2.3.4/tcp/0",
            "/ip4/9.9.9.9/tcp/1/p2p/\(RelayFixtures.relay)/p2p-circuit", "/ip4/1.2.3.4/tcp/4003/tls/ws",
        ])
        #expect(selection.select(remote, local: []) == addresses(["/ip4/1.2.3.4/tcp/4001", "/ip6/2606:4700::1111/tcp/4001"]))
    }

    @Test func dropsNonPublicAddressesOfAnotherNetwork() {
        // py-libp2p's pitfall: the peer's private LAN address first. It is never dialed
        // unless both peers are behind the same NAT.
        let remote = addresses([
            "/ip4/192.168.1.2/tcp/4001", "/ip4/127.0.0.1/tcp/4001", "/ip4/169.254.3.4/tcp/4001",
            "/ip6/::1/tcp/4001", "/ip6/fe80::1/tcp/4001", "/ip6/fd00::5/tcp/4001", "/ip4/100.64.1.1/tcp/4001",
            "/ip4/203.0.113.20/tcp/4001", "/ip4/0.0.0.0/tcp/4001", "/ip4/8.8.4.4/tcp/4001",
        ])
        let local = addresses(["/ip4/5.6.7.8/tcp/4001", "/ip4/192.168.1.3/tcp/4001"])
        #expect(selection.select(remote, local: local) == addresses(["/ip4/8.8.4.4/tcp/4001"]))
    }

    @Test func behindTheSameNATPrivateAddressesFollowThePublicOnes() {
        let remote = addresses([
            "/ip4/192.168.1.2/tcp/4001", "/ip4/5.6.7.8/tcp/50001", "/ip4/127.0.0.1/tcp/4001", "/ip4/10.1.0.9/tcp/4001",
        ])
        // This node's public address (any transport) is the peer's: the same NAT.
        let local = addresses(["/ip4/5.6.7.8/udp/4001/quic-v1", "/ip4/192.168.1.3/tcp/4001"])
        #expect(selection.select(remote, local: local) == addresses([
            "/ip4/5.6.7.8/tcp/50001", "/ip4/192.168.1.2/tcp/4001", "/ip4/10.1.0.9/tcp/4001",
        ]))
    }

    @Test func ordersPublicFirstDedupesAndCaps() {
        var remote = addresses(["/ip4/5.6.7.8/tcp/1", "/ip4/1.2.3.4/tcp/1"])
        remote += addresses(["/ip4/1.2.3.4/tcp/1/p2p/\(RelayFixtures.target)", "/ip4/1.2.3.4/tcp/1"])
        remote += (2...20).map { try! Multiaddr("/ip4/1.2.3.4/tcp/\($0)") }
        let selected = selection.select(remote, local: [])
        #expect(selected.count == selection.maximumAddresses)
        #expect(Array(selected.prefix(3)) == addresses(["/ip4/5.6.7.8/tcp/1", "/ip4/1.2.3.4/tcp/1", "/ip4/1.2.3.4/tcp/2"]))
        #expect(Set(selected).count == selected.count)

        var none = selection
        none.maximumAddresses = 0
        #expect(none.select(remote, local: []).isEmpty)
    }

    @Test func skipsOwnAddressesAndOtherPeers() {
        let remote = addresses([
            "/ip4/5.6.7.8/tcp/4001", "/ip4/5.6.7.8/tcp/4002/p2p/\(RelayFixtures.target)",
            "/ip4/5.6.7.8/tcp/4003/p2p/\(RelayFixtures.client)",
        ])
        let local = addresses(["/ip4/5.6.7.8/tcp/4001/p2p/\(RelayFixtures.relay)"])
        #expect(selection.select(remote, local: local, peer: RelayFixtures.client)
            == addresses(["/ip4/5.6.7.8/tcp/4003"]))
        #expect(selection.select(remote, local: local).count == 2)
    }

    @Test func acceptedScopesCanBeWidenedForALab() {
        var lab = selection
        lab.acceptedScopes = [.global, .documentation]
        let remote = addresses(["/ip4/192.168.1.2/tcp/4001", "/ip4/203.0.113.20/tcp/4001"])
        #expect(lab.select(remote, local: []) == addresses(["/ip4/203.0.113.20/tcp/4001"]))
        #expect(selection.select(remote, local: []).isEmpty)

        var loopback = selection
        loopback.acceptedScopes = [.loopback]
        #expect(loopback.select(addresses(["/ip4/127.0.0.1/tcp/9"]), local: []) == addresses(["/ip4/127.0.0.1/tcp/9"]))
    }
}
