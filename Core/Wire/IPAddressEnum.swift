/// An IPv4 or an IPv6 address: what a host name resolves to.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address.
    case ipv4(IPv4Address)
    /// An IPv6 address.
    case ipv6(IPv6Address)

    /// The same address with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) written as the
    /// IPv4 address it maps, as `SocketAddress.tcpMultiaddr` writes it.
    public var unmapped: IPAddress {
        if case .ipv6(let address) = self, let mapped = address.ipv4Mapped { return .ipv4(mapped) }
        return self
    }

    /// The address's family (after unmapping an IPv4-mapped IPv6 address).
    public var family: IPAddressFamily {
        switch unmapped {
        case .ipv4: .ipv4
        case .ipv6: .ipv6
        }
    }

    /// The multiaddr component `/ip4/…` or `/ip6/…` (an IPv4-mapped address as `/ip4`).
    public var multiaddrComponent: MultiaddrComponent {
        switch unmapped {
        case .ipv4(let address): .ip4(address)
        case .ipv6(let address): .ip6(address)
        }
    }

    /// The socket address of this address and `port`.
    public func socketAddress(port: UInt16) -> SocketAddress {
        switch self {
        case .ipv4(let address): .ipv4(address, port: port)
        case .ipv6(let address): .ipv6(address, port: port)
        }
    }

    /// The dotted quad or the RFC 5952 text.
    public var description: String {
        switch self {
        case .ipv4(let address): address.description
        case .ipv6(let address): address.description
        }
    }
}

/// Which addresses a host lookup asks for.
public enum IPAddressFamily: Hashable, Sendable {
    /// IPv4 and IPv6 (`/dns`).
    case any
    /// IPv4 only (`/dns4`).
    case ipv4
    /// IPv6 only (`/dns6`).
    case ipv6

    /// Whether an address of family `family` answers a lookup for `self`.
    public func admits(_ family: IPAddressFamily) -> Bool {
        self == .any || self == family
    }
}
