/// Chooses which of a peer's CONNECT addresses a hole punch dials.
///
/// A hole punch dials every chosen address at once, from the listening port, within one
/// short attempt; an address that cannot answer costs a socket and, with an implementation
/// that dials in order, seconds (py-libp2p spends 10 s on the peer's private LAN address
/// before its punch). So only addresses that can be the peer are kept:
/// - plain TCP over IP: `/ip4/…/tcp/PORT` or `/ip6/…/tcp/PORT`, optionally followed by the
///   peer's `/p2p/ID` (removed in the result); not names (`/dns*`: no time to resolve
///   them), not QUIC, WebSocket or relayed addresses, not port 0;
/// - of a scope in `acceptedScopes` (public addresses by default), then, only when both
///   sides are behind the same NAT (they share a public IP address), of a scope in
///   `sharedNetworkScopes` (private and carrier-grade NAT ranges): loopback, link-local
///   and the other scopes are never dialed unless accepted explicitly;
/// - not one of this node's own addresses, each once, in the peer's order within each
///   group (accepted scopes first), at most `maximumAddresses`.
public struct HolePunchAddressSelection: Hashable, Sendable {
    /// The most addresses dialed in one attempt.
    public var maximumAddresses = 8
    /// Scopes dialed whatever the peer's network: `.global` by default. A lab or simulator
    /// whose "internet" uses documentation ranges adds `.documentation` here.
    public var acceptedScopes: Set<IPAddressScope> = [.global]
    /// Scopes dialed (after the accepted ones) when this node and the peer share a public
    /// address, that is, sit behind the same NAT.
    public var sharedNetworkScopes: Set<IPAddressScope> = [.privateNetwork, .carrierGradeNAT]

    /// The defaults.
    public init() {}

    /// The addresses of `remote` to dial, in order. `local` are this node's addresses (its
    /// CONNECT's, plus any listen addresses), used to tell whether both sides are behind the
    /// same NAT and to skip its own addresses; `peer`, when given, drops addresses whose
    /// `/p2p` names another peer.
    public func select(_ remote: [Multiaddr], local: [Multiaddr], peer: PeerID? = nil) -> [Multiaddr] {
        guard maximumAddresses > 0 else { return [] }
        let localEndpoints = Set(local.compactMap { Self.tcpEndpoint($0, peer: nil) })
        var candidates: [(endpoint: Endpoint, address: Multiaddr)] = []
        for address in remote {
            guard let endpoint = Self.tcpEndpoint(address, peer: peer), !localEndpoints.contains(endpoint) else { continue }
            candidates.append((endpoint, address))
        }
        // Any transport's address tells the public IP (a QUIC address as well as a TCP one).
        let sameNetwork = !publicHosts(local).isDisjoint(with: publicHosts(remote))

        var selected: [Multiaddr] = []
        var seen = Set<Endpoint>()
        func take(where include: (IPAddressScope) -> Bool) {
            for (endpoint, address) in candidates where include(endpoint.scope) {
                guard selected.count < maximumAddresses else { return }
                guard seen.insert(endpoint).inserted else { continue }
                selected.append(address.withoutTrailingPeerID)
            }
        }
        take { acceptedScopes.contains($0) }
        if sameNetwork {
            take { !acceptedScopes.contains($0) && sharedNetworkScopes.contains($0) }
        }
        return selected
    }

    /// The IP components of `addresses` whose scope is accepted.
    private func publicHosts(_ addresses: [Multiaddr]) -> Set<MultiaddrComponent> {
        Set(addresses.compactMap { address in
            guard let host = address.components.first, let scope = address.ipScope, acceptedScopes.contains(scope) else {
                return nil
            }
            return host
        })
    }

    /// An IP host and TCP port.
    struct Endpoint: Hashable {
        var host: MultiaddrComponent
        var port: UInt16
        var scope: IPAddressScope
    }

    /// The endpoint of a plain TCP address (`/ip4|ip6/…/tcp/PORT[/p2p/ID]`, port not 0, `/p2p`
    /// naming `peer` when both are given); `nil` for anything else.
    static func tcpEndpoint(_ address: Multiaddr, peer: PeerID?) -> Endpoint? {
        let components = address.components
        guard components.count == 2 || components.count == 3 else { return nil }
        guard case .tcp(let port) = components[1], port != 0 else { return nil }
        if components.count == 3 {
            guard case .p2p(let named) = components[2] else { return nil }
            if let peer, named != peer { return nil }
        }
        switch components[0] {
        case .ip4(let ip): return Endpoint(host: components[0], port: port, scope: ip.scope)
        case .ip6(let ip): return Endpoint(host: components[0], port: port, scope: ip.scope)
        default: return nil
        }
    }
}
