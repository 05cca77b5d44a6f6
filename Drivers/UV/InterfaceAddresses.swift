import CUV
import TraverseCore

/// The host's interface addresses, to expand a listener on `0.0.0.0` or `::` into the
/// addresses peers can dial.
enum InterfaceAddresses {
    /// Every address of every interface that is up (loopback included), ports 0.
    static func current() -> [SocketAddress] {
        var interfaces: UnsafeMutablePointer<uv_interface_address_t>?
        var count: Int32 = 0
        guard uv_interface_addresses(&interfaces, &count) == 0, let interfaces else { return [] }
        defer { uv_free_interface_addresses(interfaces, count) }
        var result: [SocketAddress] = []
        for index in 0..<Int(count) {
            var entry = interfaces[index]
            let address = withUnsafePointer(to: &entry.address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
            }
            if let address, !result.contains(address) { result.append(address) }
        }
        return result
    }
}
