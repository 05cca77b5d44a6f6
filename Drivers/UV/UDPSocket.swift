import CUV
import TraverseCore

/// Opening bound UDP handles.
enum UDPHandleSetup {
    /// An initialized UDP handle bound to `address` (IPv6 sockets are IPv6-only). Its `data`
    /// is empty; on error nothing is left open.
    static func open(
        on loop: UnsafeMutablePointer<uv_loop_t>, boundTo address: SocketAddress
    ) throws(SocketError) -> UnsafeMutablePointer<uv_udp_t> {
        let handle = LibuvHandle.allocate(uv_udp_t.self)
        let initialized = uv_udp_init_ex(loop, handle, UInt32(address.family))
        guard initialized == 0 else {
            LibuvHandle.deallocateUninitialized(handle)
            throw SocketError(code: initialized)
        }
        let flags = address.isIPv6 ? UInt32(UV_UDP_IPV6ONLY.rawValue) : 0
        let bound = address.withSockAddr { uv_udp_bind(handle, $0, flags) }
        guard bound == 0 else {
            LibuvHandle.close(handle)
            throw SocketError(code: bound)
        }
        return handle
    }
}

/// A bound UDP socket that reports every datagram it receives: the small server side that
/// tests answer `exchangeDatagram` with. Loop thread only; open until `close()` or the
/// loop's shutdown.
final class UDPSocket: LoopResource {
    /// The bound address, with the real port when port 0 was asked for.
    let localAddress: SocketAddress

    private let eventLoop: EventLoop
    private let handle: UnsafeMutablePointer<uv_udp_t>
    /// Receives each datagram (bytes valid only during the call) and its sender.
    private var onDatagram: ((UnsafeRawBufferPointer, SocketAddress) -> Void)?
    private var isOpen = true

    fileprivate init(
        eventLoop: EventLoop, handle: UnsafeMutablePointer<uv_udp_t>, localAddress: SocketAddress,
        onDatagram: @escaping (UnsafeRawBufferPointer, SocketAddress) -> Void
    ) {
        self.eventLoop = eventLoop
        self.handle = handle
        self.localAddress = localAddress
        self.onDatagram = onDatagram
        LibuvHandle.retain(self, in: handle)
        eventLoop.register(self)
    }

    /// Sends one datagram to `destination` (dropped silently on error, like the network
    /// may drop it).
    func send(_ bytes: [UInt8], to destination: SocketAddress) {
        assert(eventLoop.inLoopThread)
        guard isOpen else { return }
        let request = UnsafeMutablePointer<uv_udp_send_t>.allocate(capacity: 1)
        // The array rides in the request until the send callback.
        let box = Unmanaged.passRetained(DatagramBytes(bytes))
        request.pointee.data = box.toOpaque()
        let status = box.takeUnretainedValue().bytes.withUnsafeBytes { raw in
            var buffer = uv_buf_t(
                base: UnsafeMutableRawPointer(mutating: raw.baseAddress)?.assumingMemoryBound(to: CChar.self),
                len: raw.count)
            return destination.withSockAddr { uv_udp_send(request, handle, &buffer, 1, $0, datagramSentCallback) }
        }
        if status != 0 {
            box.release()
            request.deallocate()
        }
    }

    /// Stops receiving and closes the socket. Idempotent.
    func close() {
        assert(eventLoop.inLoopThread)
        guard isOpen else { return }
        isOpen = false
        onDatagram = nil
        eventLoop.unregister(self)
        LibuvHandle.close(handle)
    }

    func closeForShutdown() {
        close()
    }

    fileprivate func didReceive(_ count: Int, _ buffer: UnsafePointer<uv_buf_t>?, from sender: UnsafePointer<sockaddr>?) {
        guard count >= 0, let sender, let address = SocketAddress(sender) else { return }
        let bytes = UnsafeRawBufferPointer(start: count > 0 ? buffer?.pointee.base : nil, count: count > 0 ? count : 0)
        onDatagram?(bytes, address)
    }
}

/// The bytes of a datagram in flight.
private final class DatagramBytes {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

extension EventLoop {
    /// Binds a UDP socket to `address` (port 0 picks a free port) and reports every
    /// datagram it receives. Throws `.cancelled` once the loop is shutting down.
    func bindUDP(
        on address: SocketAddress, onDatagram: @escaping (UnsafeRawBufferPointer, SocketAddress) -> Void
    ) throws(SocketError) -> UDPSocket {
        preconditionInLoopThread()
        guard !isShuttingDown else { throw .cancelled }
        let handle = try UDPHandleSetup.open(on: loop, boundTo: address)
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_udp_getsockname(handle, $0, &length) }
        }
        let received = uv_udp_recv_start(handle, allocateFromLoopReadBuffer, receivedCallback)
        guard named == 0, received == 0, let localAddress = SocketAddress(storage) else {
            LibuvHandle.close(handle)
            throw SocketError(code: named != 0 ? named : received != 0 ? received : UV_EINVAL.rawValue)
        }
        return UDPSocket(eventLoop: self, handle: handle, localAddress: localAddress, onDatagram: onDatagram)
    }
}

private let receivedCallback: uv_udp_recv_cb = { handle, count, buffer, sender, _ in
    guard let handle, let socket = LibuvHandle.owner(of: handle, as: UDPSocket.self) else { return }
    withExtendedLifetime(socket) { socket.didReceive(count, buffer, from: sender) }
}

private let datagramSentCallback: uv_udp_send_cb = { request, _ in
    guard let request else { return }
    if let data = request.pointee.data { Unmanaged<DatagramBytes>.fromOpaque(data).release() }
    request.deallocate()
}
