import CUV
import TraverseCore

/// One UDP request and its answer (a DNS query): an ephemeral socket sends one datagram
/// and waits for the first datagram back from the same address, or for the timeout. Loop
/// thread only.
final class DatagramExchange: LoopResource, OneShotCompletion {
    /// The largest datagram payload sent or received.
    static let maximumPayloadSize = 65_535

    let eventLoop: EventLoop
    private let server: SocketAddress
    /// The datagram, kept unchanged until the send completes.
    private let payload: [UInt8]
    /// `nil` once reported.
    var completion: ((Result<[UInt8], SocketError>) -> Void)?
    private var socket: UnsafeMutablePointer<uv_udp_t>?
    private var timer: UnsafeMutablePointer<uv_timer_t>?

    fileprivate init(
        eventLoop: EventLoop, server: SocketAddress, payload: [UInt8],
        completion: @escaping (Result<[UInt8], SocketError>) -> Void
    ) {
        self.eventLoop = eventLoop
        self.server = server
        self.payload = payload
        self.completion = completion
    }

    func closeForShutdown() {
        finish(.failure(.cancelled))
    }

    fileprivate func start(timeout: Duration) {
        guard payload.count <= Self.maximumPayloadSize else {
            fail(SocketError(code: UV_EMSGSIZE.rawValue))
            return
        }
        let timer = LibuvHandle.allocate(uv_timer_t.self)
        uv_timer_init(eventLoop.loop, timer)
        LibuvHandle.retain(self, in: timer)
        self.timer = timer
        let socket: UnsafeMutablePointer<uv_udp_t>
        do {
            socket = try UDPHandleSetup.open(on: eventLoop.loop, boundTo: server.unspecifiedOfSameFamily)
        } catch {
            closeHandles()
            fail(error)
            return
        }
        LibuvHandle.retain(self, in: socket)
        self.socket = socket
        let request = UnsafeMutablePointer<uv_udp_send_t>.allocate(capacity: 1)
        let received = uv_udp_recv_start(socket, allocateFromLoopReadBuffer, datagramCallback)
        let sent = payload.withUnsafeBytes { raw in
            // `payload` is a constant of this exchange, which outlives the send request.
            var buffer = uv_buf_t(
                base: UnsafeMutableRawPointer(mutating: raw.baseAddress)?.assumingMemoryBound(to: CChar.self),
                len: raw.count)
            return server.withSockAddr { uv_udp_send(request, socket, &buffer, 1, $0, sendCallback) }
        }
        guard received == 0, sent == 0 else {
            if sent != 0 { request.deallocate() }
            closeHandles()
            fail(SocketError(code: received != 0 ? received : sent))
            return
        }
        uv_timer_start(timer, timeoutCallback, eventLoop.timerDelay(until: eventLoop.now() + timeout), 0)
        eventLoop.register(self)
    }


    private func finish(_ result: Result<[UInt8], SocketError>) {
        guard let completion else { return }
        self.completion = nil
        eventLoop.unregister(self)
        closeHandles()
        completion(result)
    }

    private func closeHandles() {
        if let socket {
            self.socket = nil
            LibuvHandle.close(socket)
        }
        if let timer {
            self.timer = nil
            LibuvHandle.close(timer)
        }
    }

    fileprivate func didReceive(_ count: Int, _ buffer: UnsafePointer<uv_buf_t>?,
                                from sender: UnsafePointer<sockaddr>?, flags: UInt32) {
        // Errors and empty polls (no sender) are not answers; neither is a truncated
        // datagram or one from anyone but the server.
        guard count >= 0, let sender, flags & UInt32(UV_UDP_PARTIAL.rawValue) == 0,
              SocketAddress(sender) == server
        else { return }
        guard count > 0, let base = buffer?.pointee.base else {
            finish(.success([]))
            return
        }
        finish(.success(Array(UnsafeRawBufferPointer(start: base, count: count))))
    }

    fileprivate func didSend(status: Int32) {
        guard status != 0, status != UV_ECANCELED.rawValue else { return }
        finish(.failure(SocketError(code: status)))
    }

    fileprivate func didTimeOut() {
        finish(.failure(.timedOut))
    }
}

extension EventLoop {
    /// Sends `payload` (at most 65 535 bytes) from an ephemeral UDP socket to `server` and
    /// reports the first datagram that comes back from `server` (datagrams from anyone else
    /// are ignored), or `.timedOut` after `timeout`; the socket is then closed. The
    /// completion runs on a later iteration, with `.cancelled` if the loop shuts down first.
    func exchangeDatagram(
        with server: SocketAddress, payload: [UInt8], timeout: Duration,
        completion: @escaping (Result<[UInt8], SocketError>) -> Void
    ) {
        preconditionInLoopThread()
        let exchange = DatagramExchange(eventLoop: self, server: server, payload: payload, completion: completion)
        if isShuttingDown {
            exchange.fail(.cancelled)
        } else {
            exchange.start(timeout: timeout)
        }
    }
}

private let datagramCallback: uv_udp_recv_cb = { handle, count, buffer, sender, flags in
    guard let handle, let exchange = LibuvHandle.owner(of: handle, as: DatagramExchange.self) else { return }
    withExtendedLifetime(exchange) { exchange.didReceive(count, buffer, from: sender, flags: flags) }
}

private let sendCallback: uv_udp_send_cb = { request, status in
    guard let request else { return }
    let handle = request.pointee.handle
    request.deallocate()
    guard let handle, let exchange = LibuvHandle.owner(of: handle, as: DatagramExchange.self) else { return }
    withExtendedLifetime(exchange) { exchange.didSend(status: status) }
}

private let timeoutCallback: uv_timer_cb = { handle in
    guard let handle, let exchange = LibuvHandle.owner(of: handle, as: DatagramExchange.self) else { return }
    withExtendedLifetime(exchange) { exchange.didTimeOut() }
}
