import CUV
import TraverseCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening TCP handles whose socket exists before bind, so that `SO_REUSEADDR` and
/// `SO_REUSEPORT` apply to the bind: listeners and dialers can then share a port, which
/// hole punching needs (the listening port is the source port of outgoing dials).
enum TCPHandleSetup {
    /// An initialized TCP handle of `address`'s family, its socket created, with
    /// `TCP_NODELAY` set; if `bindTo` is given, also `SO_REUSEADDR` and `SO_REUSEPORT` and
    /// bound to it (IPv6 sockets are IPv6-only). Its `data` is empty; on error nothing is
    /// left open.
    static func open(
        on loop: UnsafeMutablePointer<uv_loop_t>, family address: SocketAddress, bindTo local: SocketAddress?
    ) throws(SocketError) -> UnsafeMutablePointer<uv_tcp_t> {
        let handle = LibuvHandle.allocate(uv_tcp_t.self)
        let initialized = uv_tcp_init_ex(loop, handle, UInt32(address.family))
        guard initialized == 0 else {
            LibuvHandle.deallocateUninitialized(handle)
            throw SocketError(code: initialized)
        }
        do throws(SocketError) {
            try check(uv_tcp_nodelay(handle, 1))
            if let local {
                try setReuseOptions(handle)
                let flags = local.isIPv6 ? UInt32(UV_TCP_IPV6ONLY.rawValue) : 0
                try check(local.withSockAddr { uv_tcp_bind(handle, $0, flags) })
            }
            return handle
        } catch {
            LibuvHandle.close(handle)
            throw error
        }
    }

    /// Sets `SO_REUSEADDR` and `SO_REUSEPORT` on the handle's socket.
    private static func setReuseOptions(_ handle: UnsafeMutablePointer<uv_tcp_t>) throws(SocketError) {
        var descriptor = uv_os_fd_t()
        try check(uv_fileno(LibuvHandle.base(handle), &descriptor))
        for option in [SO_REUSEADDR, SO_REUSEPORT] {
            var enabled: Int32 = 1
            let result = setsockopt(
                descriptor, SOL_SOCKET, option, &enabled, socklen_t(MemoryLayout<Int32>.size))
            guard result == 0 else { throw SocketError(code: -errno) }
        }
    }

    private static func check(_ status: Int32) throws(SocketError) {
        guard status == 0 else { throw SocketError(code: status) }
    }
}
