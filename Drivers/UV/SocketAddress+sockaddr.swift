import CUV
import TraverseCore

/// Conversion between `SocketAddress` and the C socket address structs (`sockaddr_in`,
/// `sockaddr_in6`), whose ports and addresses are in network byte order.
extension SocketAddress {
    /// The address in a C socket address; `nil` for a family other than IPv4 and IPv6.
    init?(_ address: UnsafePointer<sockaddr>) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let ipv4 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            self = .ipv4(
                IPv4Address(value: UInt32(bigEndian: ipv4.sin_addr.s_addr)),
                port: UInt16(bigEndian: ipv4.sin_port))
        case AF_INET6:
            var ipv6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            let (high, low) = withUnsafeBytes(of: &ipv6.sin6_addr) { bytes in
                (UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self = .ipv6(IPv6Address(high: high, low: low), port: UInt16(bigEndian: ipv6.sin6_port))
        default:
            return nil
        }
    }

    /// The address in a `sockaddr_storage` filled by the system.
    init?(_ storage: sockaddr_storage) {
        var storage = storage
        let address: SocketAddress? = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
        }
        guard let address else { return nil }
        self = address
    }

    /// The address family constant (`AF_INET` or `AF_INET6`).
    var family: Int32 {
        isIPv6 ? AF_INET6 : AF_INET
    }

    /// The wildcard address of the same family (`0.0.0.0:0` or `[::]:0`).
    var unspecifiedOfSameFamily: SocketAddress {
        isIPv6 ? .ipv6(IPv6Address(high: 0, low: 0), port: 0) : .ipv4(IPv4Address(value: 0), port: 0)
    }

    /// Calls `body` with this address as a C socket address.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>) -> Result) -> Result {
        switch self {
        case .ipv4(let address, let port):
            var ipv4 = sockaddr_in()
            #if canImport(Darwin)
            ipv4.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
            #endif
            ipv4.sin_family = sa_family_t(AF_INET)
            ipv4.sin_port = port.bigEndian
            ipv4.sin_addr.s_addr = address.value.bigEndian
            return withUnsafePointer(to: &ipv4) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
            }
        case .ipv6(let address, let port):
            var ipv6 = sockaddr_in6()
            #if canImport(Darwin)
            ipv6.sin6_len = UInt8(MemoryLayout<sockaddr_in6>.size)
            #endif
            ipv6.sin6_family = sa_family_t(AF_INET6)
            ipv6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &ipv6.sin6_addr) { bytes in
                bytes.storeBytes(of: address.high.bigEndian, toByteOffset: 0, as: UInt64.self)
                bytes.storeBytes(of: address.low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            return withUnsafePointer(to: &ipv6) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
            }
        }
    }
}
