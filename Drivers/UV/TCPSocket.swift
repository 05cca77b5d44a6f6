import CUV
import TraverseCore

/// A connected TCP socket. Loop thread only.
///
/// Reading is off until `startReading()`; every read hands `onRead` a view of the loop's one
/// read buffer, valid only during the call. Writes go to the kernel at once when they can
/// (`uv_try_write`) and queue only what it did not take; `isWritable` and `onWritable`
/// implement the high/low water marks of that queue.
///
/// The socket stays open (held by the loop) until it is closed, by `close()`,
/// `closeAfterFlush()`, the peer, an error or the loop's shutdown. Closing drops the
/// callbacks, so closures that capture the socket's owner do not keep it alive.
final class TCPSocket: LoopResource {
    /// The local endpoint.
    let localAddress: SocketAddress
    /// The peer's endpoint.
    let remoteAddress: SocketAddress

    /// Receives the bytes of each read; they are valid only during the call.
    var onRead: ((UnsafeRawBufferPointer) -> Void)?
    /// Called once when the socket closes without a local `close()`: `nil` when the peer
    /// closed (end of stream: the socket is then closed both ways), the error otherwise
    /// (`.cancelled` when the loop shuts down). Never called after `close()` or
    /// `closeAfterFlush()`.
    var onClose: ((SocketError?) -> Void)?
    /// Called when the write queue, after growing above `highWaterMark`, drains to
    /// `lowWaterMark` or less.
    var onWritable: (() -> Void)?

    /// The queued byte count above which the socket stops being writable (default 1 MiB).
    var highWaterMark = 1 << 20
    /// The queued byte count at or below which `onWritable` is called (default 256 KiB).
    var lowWaterMark = 256 << 10
    /// Bytes accepted by `write` that the kernel has not taken yet.
    private(set) var queuedWriteByteCount = 0
    /// Whether the queue is at or below the high water mark: a writer that respects
    /// backpressure writes while this holds and otherwise waits for `onWritable`.
    var isWritable: Bool { queuedWriteByteCount <= highWaterMark }

    private enum State {
        case open
        /// `closeAfterFlush()` waits for the queue to drain before closing.
        case flushing
        case closed
    }

    private let eventLoop: EventLoop
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private var state = State.open
    private var isReading = false
    private var isAboveHighWaterMark = false
    /// The arrays queued writes point into, oldest first (libuv completes writes in order);
    /// each is kept alive, unchanged, until its write callback.
    private var queuedWrites: [(bytes: [UInt8], byteCount: Int)] = []
    private var queuedWritesStart = 0

    /// Takes over an open, connected TCP handle (its previous owner is released).
    init(eventLoop: EventLoop, adopting handle: UnsafeMutablePointer<uv_tcp_t>,
         localAddress: SocketAddress, remoteAddress: SocketAddress) {
        self.eventLoop = eventLoop
        self.handle = handle
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        LibuvHandle.moveOwner(of: handle, to: self)
        eventLoop.register(self)
    }

    /// The endpoints of a connected TCP handle, or the error reading them.
    static func endpoints(of handle: UnsafeMutablePointer<uv_tcp_t>)
        -> Result<(local: SocketAddress, remote: SocketAddress), SocketError>
    {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let localStatus = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getsockname(handle, $0, &length) }
        }
        guard localStatus == 0 else { return .failure(SocketError(code: localStatus)) }
        guard let local = SocketAddress(storage) else { return .failure(.addressNotAvailable) }
        length = Int32(MemoryLayout<sockaddr_storage>.size)
        let remoteStatus = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getpeername(handle, $0, &length) }
        }
        guard remoteStatus == 0 else { return .failure(SocketError(code: remoteStatus)) }
        guard let remote = SocketAddress(storage) else { return .failure(.addressNotAvailable) }
        return .success((local, remote))
    }

    private var stream: UnsafeMutablePointer<uv_stream_t> { LibuvHandle.stream(handle) }

    // MARK: Reading

    /// Starts delivering reads to `onRead`. Idempotent.
    func startReading() {
        assert(eventLoop.inLoopThread)
        guard state == .open, !isReading else { return }
        let status = uv_read_start(stream, allocateFromLoopReadBuffer, readCallback)
        guard status == 0 else {
            eventLoop.deferToNextWakeup { [self] in fail(SocketError(code: status)) }
            return
        }
        isReading = true
    }

    /// Stops reading (the kernel's receive window then fills and the peer slows down).
    /// Idempotent.
    func stopReading() {
        assert(eventLoop.inLoopThread)
        guard isReading else { return }
        isReading = false
        uv_read_stop(stream)
    }

    fileprivate func didRead(_ count: Int, into buffer: UnsafePointer<uv_buf_t>?) {
        if count > 0 {
            // A copy, so the closure outlives a `close()` inside it.
            guard let base = buffer?.pointee.base, let onRead else { return }
            onRead(UnsafeRawBufferPointer(start: base, count: count))
        } else if count < 0 {
            fail(count == Int(UV_EOF.rawValue) ? nil : SocketError(code: Int32(truncatingIfNeeded: count)))
        }
        // 0: nothing to read now (EAGAIN).
    }

    // MARK: Writing

    /// Writes `bytes` after everything written before. Whatever the kernel does not take
    /// at once is queued (the array itself, not a copy). Ignored once the socket is closing.
    func write(_ bytes: [UInt8]) {
        assert(eventLoop.inLoopThread)
        guard state == .open, !bytes.isEmpty else { return }
        var written = 0
        if queuedWriteByteCount == 0 {
            let result = bytes.withUnsafeBytes { raw in
                var buffer = uv_buf_t(
                    base: UnsafeMutableRawPointer(mutating: raw.baseAddress)?.assumingMemoryBound(to: CChar.self),
                    len: raw.count)
                return uv_try_write(stream, &buffer, 1)
            }
            // An error other than EAGAIN comes back from uv_write's callback below.
            if result > 0 { written = Int(result) }
            if written == bytes.count { return }
        }
        enqueue(bytes, from: written)
    }

    private func enqueue(_ bytes: [UInt8], from offset: Int) {
        let byteCount = bytes.count - offset
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        queuedWrites.append((bytes, byteCount))
        // The array stays in `queuedWrites`, unmutated, until the write callback, so the
        // storage this pointer names stays alive and in place.
        let status = queuedWrites[queuedWrites.count - 1].bytes.withUnsafeBytes { raw in
            var buffer = uv_buf_t(
                base: UnsafeMutableRawPointer(mutating: raw.baseAddress.map { $0 + offset })?
                    .assumingMemoryBound(to: CChar.self),
                len: byteCount)
            return uv_write(request, stream, &buffer, 1, writeCallback)
        }
        guard status == 0 else {
            request.deallocate()
            queuedWrites.removeLast()
            eventLoop.deferToNextWakeup { [self] in fail(SocketError(code: status)) }
            return
        }
        queuedWriteByteCount += byteCount
        if queuedWriteByteCount > highWaterMark { isAboveHighWaterMark = true }
    }

    fileprivate func didWrite(status: Int32) {
        let byteCount = queuedWrites[queuedWritesStart].byteCount
        queuedWrites[queuedWritesStart] = ([], 0)
        queuedWritesStart += 1
        if queuedWritesStart == queuedWrites.count {
            queuedWrites.removeAll(keepingCapacity: true)
            queuedWritesStart = 0
        }
        queuedWriteByteCount -= byteCount
        guard status == 0 else {
            // ECANCELED: the handle is closing and dropped the queue.
            guard status != UV_ECANCELED.rawValue else { return }
            switch state {
            case .open: fail(SocketError(code: status))
            case .flushing: closeHandle()
            case .closed: break
            }
            return
        }
        if isAboveHighWaterMark && queuedWriteByteCount <= lowWaterMark {
            isAboveHighWaterMark = false
            if state == .open, let onWritable { onWritable() }
        }
    }

    // MARK: Closing

    /// Closes the socket now, dropping queued writes. No callback follows. Idempotent.
    func close() {
        assert(eventLoop.inLoopThread)
        guard state != .closed else { return }
        closeHandle()
    }

    /// Stops reading, lets the queued writes drain, shuts the write side down (the peer
    /// sees the end of the stream) and then closes. No callback follows. If the peer never
    /// reads, the queue never drains: `close()` still closes at once.
    func closeAfterFlush() {
        assert(eventLoop.inLoopThread)
        guard state == .open else { return }
        stopReading()
        state = .flushing
        dropCallbacks()
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        let status = uv_shutdown(request, stream, shutdownCallback)
        if status != 0 {
            request.deallocate()
            closeHandle()
        }
    }

    fileprivate func didShutDownWriteSide() {
        if state == .flushing { closeHandle() }
    }

    func closeForShutdown() {
        let callback = state == .open ? onClose : nil
        closeHandle()
        callback?(.cancelled)
    }

    /// Closes because of the peer or an error, telling `onClose`.
    private func fail(_ error: SocketError?) {
        guard state == .open else { return }
        let callback = onClose
        closeHandle()
        callback?(error)
    }

    private func closeHandle() {
        state = .closed
        isReading = false
        dropCallbacks()
        eventLoop.unregister(self)
        LibuvHandle.close(handle)
    }

    private func dropCallbacks() {
        onRead = nil
        onClose = nil
        onWritable = nil
    }
}

private let readCallback: uv_read_cb = { stream, count, buffer in
    guard let stream, let socket = LibuvHandle.owner(of: stream, as: TCPSocket.self) else { return }
    socket.didRead(count, into: buffer)
}

private let writeCallback: uv_write_cb = { request, status in
    guard let request else { return }
    let stream = request.pointee.handle
    request.deallocate()
    guard let stream, let socket = LibuvHandle.owner(of: stream, as: TCPSocket.self) else { return }
    socket.didWrite(status: status)
}

private let shutdownCallback: uv_shutdown_cb = { request, _ in
    guard let request else { return }
    let stream = request.pointee.handle
    request.deallocate()
    guard let stream, let socket = LibuvHandle.owner(of: stream, as: TCPSocket.self) else { return }
    socket.didShutDownWriteSide()
}
