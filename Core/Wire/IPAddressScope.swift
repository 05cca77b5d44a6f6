/// Where an IP address can be reached from: the classification reachability, AutoNAT and
/// address sorting rely on (a public address may be dialed from anywhere; the others only
/// from their own network, or never).
///
/// | scope | IPv4 | IPv6 |
/// | --- | --- | --- |
/// | `unspecified` | `0.0.0.0` | `::` |
/// | `loopback` | `127/8` | `::1` |
/// | `linkLocal` | `169.254/16` | `fe80::/10` |
/// | `privateNetwork` | `10/8`, `172.16/12`, `192.168/16`, `198.18/15` | `fc00::/7`, `fec0::/10`, `2001:2::/48`, `64:ff9b:1::/48` |
/// | `carrierGradeNAT` | `100.64/10` | |
/// | `documentation` | `192.0.2/24`, `198.51.100/24`, `203.0.113/24` | `2001:db8::/32`, `3fff::/20` |
/// | `multicast` | `224/4`, `255.255.255.255` | `ff00::/8` |
/// | `reserved` | `0/8` (but `0.0.0.0`), `192.0.0/24`, `192.88.99/24`, `240/4` | `::/96`, `100::/64`, `2001:10::/28`, `2001:20::/28`, outside `2000::/3` |
/// | `global` | the rest | the rest of `2000::/3` |
///
/// Addresses that embed an IPv4 address take its scope: IPv4-mapped (`::ffff:0:0/96`),
/// NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`).
public enum IPAddressScope: Hashable, Sendable, CaseIterable {
    /// `0.0.0.0`, `::`: not an address to dial.
    case unspecified
    /// `127.0.0.0/8`, `::1`: this host.
    case loopback
    /// `169.254.0.0/16`, `fe80::/10`: this link.
    case linkLocal
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), RFC 2544 benchmarking (`198.18/15`,
    /// `2001:2::/48`), IPv6 unique local (`fc00::/7`), the deprecated site-local
    /// `fec0::/10` and local-use NAT64 (`64:ff9b:1::/48`): a private network.
    case privateNetwork
    /// `100.64.0.0/10`: carrier-grade NAT space (RFC 6598), behind a provider's NAT.
    case carrierGradeNAT
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`:
    /// documentation only (RFC 5737, RFC 3849, RFC 9637).
    case documentation
    /// `224/4`, `ff00::/8`, and the limited broadcast address.
    case multicast
    /// Ranges reserved or not routed: `0/8` (except `0.0.0.0`), `192.0.0/24`,
    /// `192.88.99/24`, `240/4`, `100::/64`, ORCHID, deprecated IPv4-compatible IPv6, and
    /// IPv6 outside `2000::/3` that no other row names.
    case reserved
    /// Reachable from the internet.
    case global

    /// Whether an address of this scope may be reachable from other networks.
    public var isPublic: Bool { self == .global }

    /// Whether an address of this scope is one a peer could dial at all (from somewhere):
    /// not unspecified, multicast, documentation or reserved.
    public var isDialable: Bool {
        switch self {
        case .loopback, .linkLocal, .privateNetwork, .carrierGradeNAT, .global: true
        case .unspecified, .documentation, .multicast, .reserved: false
        }
    }
}

extension IPv4Address {
    /// Whether the address lies in `prefix/length` (`length` clamped to 0...32).
    public func isWithin(_ prefix: IPv4Address, length: Int) -> Bool {
        let bits = min(32, max(0, length))
        guard bits > 0 else { return true }
        let shift = UInt32(32 - bits)
        return value >> shift == prefix.value >> shift
    }

    /// The scope of this address.
    public var scope: IPAddressScope {
        func within(_ prefix: UInt32, _ length: Int) -> Bool {
            isWithin(IPv4Address(value: prefix), length: length)
        }
        if value == 0 { return .unspecified }
        if within(0x0000_0000, 8) { return .reserved }  // "this network"
        if within(0x7F00_0000, 8) { return .loopback }
        if within(0xA9FE_0000, 16) { return .linkLocal }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) || within(0xC612_0000, 15) {
            return .privateNetwork
        }
        if within(0x6440_0000, 10) { return .carrierGradeNAT }
        if within(0xC000_0200, 24) || within(0xC633_6400, 24) || within(0xCB00_7100, 24) { return .documentation }
        if within(0xC000_0000, 24) || within(0xC058_6300, 24) { return .reserved }  // IETF assignments, 6to4 anycast
        if value == 0xFFFF_FFFF || within(0xE000_0000, 4) { return .multicast }
        if within(0xF000_0000, 4) { return .reserved }
        return .global
    }
}

extension IPv6Address {
    /// Whether the address lies in `prefix/length` (`length` clamped to 0...128).
    public func isWithin(_ prefix: IPv6Address, length: Int) -> Bool {
        let bits = min(128, max(0, length))
        if bits <= 64 {
            guard bits > 0 else { return true }
            let shift = UInt64(64 - bits)
            return high >> shift == prefix.high >> shift
        }
        guard high == prefix.high else { return false }
        let shift = UInt64(128 - bits)
        return bits == 128 ? low == prefix.low : low >> shift == prefix.low >> shift
    }

    /// The IPv4 address embedded by IPv4-mapped (`::ffff:a.b.c.d`), NAT64 well-known prefix
    /// (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::/48`) addressing; `nil` otherwise.
    public var embeddedIPv4: IPv4Address? {
        if let mapped = ipv4Mapped { return mapped }
        if high == 0x0064_FF9B_0000_0000 && low >> 32 == 0 { return IPv4Address(value: UInt32(truncatingIfNeeded: low)) }
        if high >> 48 == 0x2002 { return IPv4Address(value: UInt32(truncatingIfNeeded: high >> 16)) }
        return nil
    }

    /// The scope of this address; an address that embeds an IPv4 address (IPv4-mapped,
    /// NAT64, 6to4) has that address's scope.
    public var scope: IPAddressScope {
        if high == 0 && low == 0 { return .unspecified }
        if high == 0 && low == 1 { return .loopback }
        if let embedded = embeddedIPv4 { return embedded.scope }
        func within(_ high: UInt64, _ length: Int) -> Bool {
            isWithin(IPv6Address(high: high, low: 0), length: length)
        }
        if high == 0 && low >> 32 == 0 { return .reserved }  // deprecated IPv4-compatible
        if within(0xFE80_0000_0000_0000, 10) { return .linkLocal }
        if within(0xFC00_0000_0000_0000, 7) || within(0xFEC0_0000_0000_0000, 10) { return .privateNetwork }
        if within(0x2001_0002_0000_0000, 48) || within(0x0064_FF9B_0001_0000, 48) { return .privateNetwork }
        if within(0x2001_0DB8_0000_0000, 32) || within(0x3FFF_0000_0000_0000, 20) { return .documentation }
        if within(0xFF00_0000_0000_0000, 8) { return .multicast }
        if within(0x0100_0000_0000_0000, 64) { return .reserved }  // discard-only
        if within(0x2001_0010_0000_0000, 28) || within(0x2001_0020_0000_0000, 28) { return .reserved }  // ORCHID
        // Global unicast is 2000::/3; everything else unassigned is treated as reserved.
        if within(0x2000_0000_0000_0000, 3) { return .global }
        if high == 0x0064_FF9B_0000_0000 { return .global }  // NAT64 beyond the embedded form
        return .reserved
    }
}

extension IPAddress {
    /// The scope of the address (an IPv4-mapped IPv6 address has its IPv4 address's scope).
    public var scope: IPAddressScope {
        switch self {
        case .ipv4(let address): address.scope
        case .ipv6(let address): address.scope
        }
    }
}

extension SocketAddress {
    /// The IP address without the port.
    public var ipAddress: IPAddress {
        switch self {
        case .ipv4(let address, _): .ipv4(address)
        case .ipv6(let address, _): .ipv6(address)
        }
    }

    /// The scope of the IP address.
    public var scope: IPAddressScope { ipAddress.scope }
}

extension Multiaddr {
    /// The scope of the address's first component when it is `/ip4` or `/ip6`; `nil` for
    /// names and other transports (their scope is known once resolved).
    public var ipScope: IPAddressScope? {
        ipAddress?.scope
    }

    /// The IP address of the first component when it is `/ip4` or `/ip6`, `nil` otherwise.
    public var ipAddress: IPAddress? {
        switch components.first {
        case .ip4(let address)?: .ipv4(address)
        case .ip6(let address)?: .ipv6(address)
        default: nil
        }
    }
}
