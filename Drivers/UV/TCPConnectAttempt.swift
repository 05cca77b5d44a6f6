import CUV
import TraverseCore

/// An outgoing TCP connection being established. Loop thread only.
///
/// Its completion runs exactly once, on a later loop iteration than `connectTCP`, unless
/// `cancel()` comes first: then it never runs.
final class TCPConnectAttempt: LoopResource, OneShotCompletion {
    let eventLoop: EventLoop
    /// `nil` once completed or cancelled.
    var completion: ((Result<TCPSocket, SocketError>) -> Void)?
    /// The connecting handle (its `data` holds this attempt); `nil` once handed on or closed.
    private var handle: UnsafeMutablePointer<uv_tcp_t>?

    fileprivate init(eventLoop: EventLoop, completion: @escaping (Result<TCPSocket, SocketError>) -> Void) {
        self.eventLoop = eventLoop
        self.completion = completion
    }

    /// Abandons the attempt: closes its socket; the completion is never called. Idempotent,
    /// and harmless after the completion ran.
    func cancel() {
        assert(eventLoop.inLoopThread)
        guard completion != nil else { return }
        completion = nil
        eventLoop.unregister(self)
        closeHandle()
    }

    func closeForShutdown() {
        guard let completion else { return }
        self.completion = nil
        closeHandle()
        completion(.failure(.cancelled))
    }

    fileprivate func start(to remote: SocketAddress, from local: SocketAddress?) {
        let handle: UnsafeMutablePointer<uv_tcp_t>
        do {
            handle = try TCPHandleSetup.open(on: eventLoop.loop, family: remote, bindTo: local)
        } catch {
            fail(error)
            return
        }
        LibuvHandle.retain(self, in: handle)
        self.handle = handle
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        let status = remote.withSockAddr { uv_tcp_connect(request, handle, $0, connectCallback) }
        guard status == 0 else {
            request.deallocate()
            closeHandle()
            fail(SocketError(code: status))
            return
        }
        eventLoop.register(self)
    }


    fileprivate func didConnect(status: Int32) {
        // Cancelled (the handle closed, status ECANCELED) or already reported.
        guard let completion, let handle else { return }
        self.completion = nil
        self.handle = nil
        eventLoop.unregister(self)
        guard status == 0 else {
            LibuvHandle.close(handle)
            completion(.failure(SocketError(code: status)))
            return
        }
        switch TCPSocket.endpoints(of: handle) {
        case .failure(let error):
            LibuvHandle.close(handle)
            completion(.failure(error))
        case .success(let endpoints):
            let socket = TCPSocket(
                eventLoop: eventLoop, adopting: handle,
                localAddress: endpoints.local, remoteAddress: endpoints.remote)
            completion(.success(socket))
        }
    }

    private func closeHandle() {
        guard let handle else { return }
        self.handle = nil
        LibuvHandle.close(handle)
    }
}

extension EventLoop {
    /// Connects to `remote`. With `local`, the socket is first bound to it with
    /// `SO_REUSEADDR` and `SO_REUSEPORT`, so it may use a port a listener holds (hole
    /// punching dials from the listening port). The socket has `TCP_NODELAY`. The
    /// completion runs on a later iteration, with `.cancelled` if the loop shuts down first.
    @discardableResult
    func connectTCP(
        to remote: SocketAddress, from local: SocketAddress? = nil,
        completion: @escaping (Result<TCPSocket, SocketError>) -> Void
    ) -> TCPConnectAttempt {
        preconditionInLoopThread()
        let attempt = TCPConnectAttempt(eventLoop: self, completion: completion)
        if isShuttingDown {
            attempt.fail(.cancelled)
        } else {
            attempt.start(to: remote, from: local)
        }
        return attempt
    }
}

private let connectCallback: uv_connect_cb = { request, status in
    guard let request else { return }
    let stream = request.pointee.handle
    request.deallocate()
    guard let stream, let attempt = LibuvHandle.owner(of: stream, as: TCPConnectAttempt.self) else { return }
    // The attempt gives its handle (and the handle's reference to it) away inside.
    withExtendedLifetime(attempt) { attempt.didConnect(status: status) }
}
