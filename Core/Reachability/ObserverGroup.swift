/// The network an observer is in: its IP cut to a prefix (`/24` for IPv4, `/56` for IPv6
/// by default). Observations count once per group, so many peers on one network (or one
/// host with many addresses) cannot confirm an address alone.
public struct ObserverGroup: Hashable, Sendable, CustomStringConvertible {
    /// The observer's IP with the bits past the prefix cleared.
    public let prefix: IPAddress
    /// The prefix length.
    public let length: Int

    /// The group of `address`: its first `ipv4PrefixLength` or `ipv6PrefixLength` bits (an
    /// IPv4-mapped IPv6 address counts as IPv4). Lengths are clamped to the family's size.
    public init(_ address: IPAddress, ipv4PrefixLength: Int = 24, ipv6PrefixLength: Int = 56) {
        switch address.unmapped {
        case .ipv4(let v4):
            let bits = min(32, max(0, ipv4PrefixLength))
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            prefix = .ipv4(IPv4Address(value: v4.value & mask))
            length = bits
        case .ipv6(let v6):
            let bits = min(128, max(0, ipv6PrefixLength))
            let highMask: UInt64 = bits == 0 ? 0 : bits >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - bits)
            let lowMask: UInt64 = bits <= 64 ? 0 : bits == 128 ? ~0 : ~UInt64(0) << UInt64(128 - bits)
            prefix = .ipv6(IPv6Address(high: v6.high & highMask, low: v6.low & lowMask))
            length = bits
        }
    }

    /// `203.0.113.0/24`, `2001:db8::/56`.
    public var description: String { "\(prefix)/\(length)" }
}
