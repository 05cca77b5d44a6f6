/// What resolving a multiaddr takes, judged by its first component.
enum ResolvableAddress: Equatable {
    /// It starts with an IP address (`/ip4`, `/ip6`, `/ip6zone`): dialable as it is.
    case dialable
    /// `/dns`, `/dns4`, `/dns6`: a host lookup of `name` for `family`.
    case host(name: String, family: IPAddressFamily)
    /// `/dnsaddr`: a TXT query for `_dnsaddr.` + `host`.
    case dnsaddr(host: String)
    /// Anything else (including the empty multiaddr).
    case unsupported

    init(_ address: Multiaddr) {
        switch address.components.first {
        case .ip4?, .ip6?, .ip6zone?: self = .dialable
        case .dns(let name)?: self = .host(name: name, family: .any)
        case .dns4(let name)?: self = .host(name: name, family: .ipv4)
        case .dns6(let name)?: self = .host(name: name, family: .ipv6)
        case .dnsaddr(let host)?: self = .dnsaddr(host: host)
        default: self = .unsupported
        }
    }

    /// Whether a host name may go to the system's resolver: no control characters, no
    /// space, no `/` (a C string would end at a NUL and look up another name). Multiaddrs
    /// already guarantee a non-empty name of at most 255 bytes.
    static func isAcceptableHostName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= MultiaddrComponent.maximumDomainNameLength
            && name.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "/") }
    }

    /// `address` with its first component (a DNS name) replaced by `ip`; `nil` when the
    /// result would be too long for a multiaddr.
    static func replacingName(of address: Multiaddr, with ip: IPAddress) -> Multiaddr? {
        try? Multiaddr(components: [ip.multiaddrComponent] + address.components.dropFirst())
    }

    /// `name` in lowercase ASCII without a trailing dot, as `DNSResponse` reports names.
    static func canonicalName(_ name: String) -> String {
        var bytes = Array(name.utf8)
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A {
            bytes[index] += 0x20
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
