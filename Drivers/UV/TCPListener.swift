import CUV
import TraverseCore

/// A listening TCP socket that hands each accepted connection to `onAccept`. Loop thread
/// only. It listens until `close()` or the loop's shutdown.
final class TCPListener: LoopResource {
    /// The bound address, with the real port when port 0 was asked for.
    let localAddress: SocketAddress

    private let eventLoop: EventLoop
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    /// Dropped on close, so a closure capturing the listener's owner does not keep it alive.
    private var onAccept: ((TCPSocket) -> Void)?

    fileprivate init(
        eventLoop: EventLoop, handle: UnsafeMutablePointer<uv_tcp_t>, localAddress: SocketAddress,
        onAccept: @escaping (TCPSocket) -> Void
    ) {
        self.eventLoop = eventLoop
        self.handle = handle
        self.localAddress = localAddress
        self.onAccept = onAccept
        LibuvHandle.retain(self, in: handle)
        eventLoop.register(self)
    }

    /// Stops listening and closes the socket. Idempotent; accepted sockets stay open.
    func close() {
        assert(eventLoop.inLoopThread)
        guard onAccept != nil else { return }
        onAccept = nil
        eventLoop.unregister(self)
        LibuvHandle.close(handle)
    }

    func closeForShutdown() {
        close()
    }

    fileprivate func acceptConnection() {
        guard let onAccept else { return }
        let client = LibuvHandle.allocate(uv_tcp_t.self)
        guard uv_tcp_init(eventLoop.loop, client) == 0 else {
            LibuvHandle.deallocateUninitialized(client)
            return
        }
        guard uv_accept(LibuvHandle.stream(handle), LibuvHandle.stream(client)) == 0 else {
            LibuvHandle.close(client)
            return
        }
        uv_tcp_nodelay(client, 1)
        // A connection reset before it was accepted has no peer name: drop it.
        guard case .success(let endpoints) = TCPSocket.endpoints(of: client) else {
            LibuvHandle.close(client)
            return
        }
        onAccept(TCPSocket(
            eventLoop: eventLoop, adopting: client, localAddress: endpoints.local, remoteAddress: endpoints.remote))
    }
}

extension EventLoop {
    /// Listens on `address` (port 0 picks a free port; see the listener's `localAddress`).
    /// The socket has `SO_REUSEADDR` and `SO_REUSEPORT` set before bind, so other listeners
    /// and outgoing dials may bind the same port. Accepted sockets have `TCP_NODELAY` and
    /// do not read until `startReading()`; the caller owns them (they stay open until
    /// closed). Throws `.cancelled` once the loop is shutting down.
    func listenTCP(
        on address: SocketAddress, backlog: Int32 = 1024, onAccept: @escaping (TCPSocket) -> Void
    ) throws(SocketError) -> TCPListener {
        preconditionInLoopThread()
        guard !isShuttingDown else { throw .cancelled }
        let handle = try TCPHandleSetup.open(on: loop, family: address, bindTo: address)
        let listened = uv_listen(LibuvHandle.stream(handle), backlog, connectionCallback)
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getsockname(handle, $0, &length) }
        }
        guard listened == 0, named == 0, let localAddress = SocketAddress(storage) else {
            LibuvHandle.close(handle)
            throw SocketError(code: listened != 0 ? listened : named != 0 ? named : UV_EINVAL.rawValue)
        }
        return TCPListener(eventLoop: self, handle: handle, localAddress: localAddress, onAccept: onAccept)
    }
}

private let connectionCallback: uv_connection_cb = { server, status in
    // A failed accept (EMFILE and the like) drops that one connection; libuv keeps listening.
    guard status == 0, let server, let listener = LibuvHandle.owner(of: server, as: TCPListener.self) else {
        return
    }
    listener.acceptConnection()
}
