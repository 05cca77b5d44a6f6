/// Where an IP address can be reached from: the classification reachability and address
/// sorting rely on (a public address may be dialed from anywhere; the others only from
/// their own network, or never).
public enum IPAddressScope: Hashable, Sendable, CaseIterable {
    /// `0.0.0.0/8`, `::`: not an address to dial.
    case unspecified
    /// `127.0.0.0/8`, `::1`: this host.
    case loopback
    /// `169.254.0.0/16`, `fe80::/10`: this link.
    case linkLocal
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), RFC 2544 benchmarking (`198.18/15`),
    /// IPv6 unique local (`fc00::/7`): a private network.
    case privateNetwork
    /// `100.64.0.0/10`: carrier-grade NAT space (RFC 6598), behind a provider's NAT.
    case carrierGradeNAT
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`: documentation only.
    case documentation
    /// `224/4`, `ff00::/8`, and the limited broadcast address.
    case multicast
    /// `240/4` and other ranges reserved for future use.
    case reserved
    /// Reachable from the internet.
    case global

    /// Whether an address of this scope may be reachable from other networks.
    public var isPublic: Bool { self == .global }
}

extension IPv4Address {
    /// The scope of this address.
    public var scope: IPAddressScope {
        func within(_ prefix: UInt32, _ length: UInt32) -> Bool {
            length == 0 || value >> (32 - length) == prefix >> (32 - length)
        }
        if within(0x0000_0000, 8) { return .unspecified }
        if within(0x7F00_0000, 8) { return .loopback }
        if within(0xA9FE_0000, 16) { return .linkLocal }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) || within(0xC612_0000, 15) {
            return .privateNetwork
        }
        if within(0x6440_0000, 10) { return .carrierGradeNAT }
        if within(0xC000_0200, 24) || within(0xC633_6400, 24) || within(0xCB00_7100, 24) { return .documentation }
        if value == 0xFFFF_FFFF || within(0xE000_0000, 4) { return .multicast }
        if within(0xF000_0000, 4) { return .reserved }
        return .global
    }
}

extension IPv6Address {
    /// The scope of this address; an IPv4-mapped address (`::ffff:a.b.c.d`) has its IPv4
    /// address's scope.
    public var scope: IPAddressScope {
        if high == 0 && low == 0 { return .unspecified }
        if high == 0 && low == 1 { return .loopback }
        if high == 0 && low >> 32 == 0xFFFF { return IPv4Address(value: UInt32(truncatingIfNeeded: low)).scope }
        let firstGroup = UInt16(truncatingIfNeeded: high >> 48)
        if firstGroup & 0xFFC0 == 0xFE80 { return .linkLocal }
        if firstGroup & 0xFE00 == 0xFC00 { return .privateNetwork }
        if high >> 32 == 0x2001_0DB8 { return .documentation }
        if firstGroup & 0xFF00 == 0xFF00 { return .multicast }
        // Global unicast is 2000::/3; everything else unassigned is treated as reserved.
        if firstGroup & 0xE000 == 0x2000 { return .global }
        if high >> 32 == 0x0064_FF9B { return .global }  // NAT64 well-known prefix
        return .reserved
    }
}

extension Multiaddr {
    /// The scope of the address's first component when it is `/ip4` or `/ip6`; `nil` for
    /// names and other transports (their scope is known once resolved).
    public var ipScope: IPAddressScope? {
        switch components.first {
        case .ip4(let address)?: address.scope
        case .ip6(let address)?: address.scope
        default: nil
        }
    }
}
