/// An IP address and a port: where a TCP socket listens or connects.
///
/// The core names socket endpoints with this type in its actions, and the driver reports
/// the endpoints of accepted and connected sockets with it.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address and port.
    case ipv4(IPv4Address, port: UInt16)
    /// An IPv6 address and port.
    case ipv6(IPv6Address, port: UInt16)

    /// The address of a multiaddr that starts with `/ip4/A/tcp/P` or `/ip6/A/tcp/P`
    /// (whatever follows, such as `/p2p/ID`, is ignored); `nil` for any other multiaddr.
    public init?(tcp multiaddr: Multiaddr) {
        let components = multiaddr.components
        guard components.count >= 2, case .tcp(let port) = components[1] else { return nil }
        switch components[0] {
        case .ip4(let address): self = .ipv4(address, port: port)
        case .ip6(let address): self = .ipv6(address, port: port)
        default: return nil
        }
    }

    /// The port.
    public var port: UInt16 {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port): port
        }
    }

    /// The same address with another port.
    public func with(port: UInt16) -> SocketAddress {
        switch self {
        case .ipv4(let address, _): .ipv4(address, port: port)
        case .ipv6(let address, _): .ipv6(address, port: port)
        }
    }

    /// Whether this is an IPv6 address (an IPv4-mapped one included).
    public var isIPv6: Bool {
        if case .ipv6 = self { return true }
        return false
    }

    /// The multiaddr `/ip4/A/tcp/P` or `/ip6/A/tcp/P`. An IPv4-mapped IPv6 address is
    /// written as the IPv4 address it maps.
    public var tcpMultiaddr: Multiaddr {
        let host: MultiaddrComponent
        switch self {
        case .ipv4(let address, _): host = .ip4(address)
        case .ipv6(let address, _):
            if let mapped = address.ipv4Mapped { host = .ip4(mapped) } else { host = .ip6(address) }
        }
        // Two valid components always make a valid multiaddr.
        return (try? Multiaddr(components: [host, .tcp(port)])) ?? Multiaddr()
    }

    /// `1.2.3.4:5` or `[::1]:5`.
    public var description: String {
        switch self {
        case .ipv4(let address, let port): "\(address):\(port)"
        case .ipv6(let address, let port): "[\(address)]:\(port)"
        }
    }
}
