import TraverseCore

/// One connection of a `MetricsEndpoint`: a `MetricsHTTPExchange` on a `TCPSocket`, with
/// the one timer for its head deadline and its lifetime. Loop thread only.
///
/// Once the exchange wants to close, the connection stops reading and closes after the
/// kernel took the whole response (the socket's water marks are 0, so `onWritable` says
/// when); only then does it give its slot back to the endpoint.
final class MetricsConnection {
    private let socket: TCPSocket
    private let eventLoop: EventLoop
    private weak var endpoint: MetricsEndpoint?
    private var exchange: MetricsHTTPExchange
    private let lifetimeDeadline: Instant
    private var timer: LoopTimer?
    private var isEnded = false
    private var isClosing = false

    init(socket: TCPSocket, eventLoop: EventLoop, endpoint: MetricsEndpoint) {
        let now = eventLoop.now()
        self.socket = socket
        self.eventLoop = eventLoop
        self.endpoint = endpoint
        exchange = MetricsHTTPExchange(
            now: now, headTimeout: endpoint.limits.headTimeout, maximumHeadLength: endpoint.limits.maximumHeadLength)
        lifetimeDeadline = now + endpoint.limits.connectionLifetime
    }

    /// Starts reading the request and arms the timer.
    func start() {
        // Every queued byte counts as above the high water mark, so `onWritable` reports
        // the moment the queue is empty.
        socket.highWaterMark = 0
        socket.lowWaterMark = 0
        socket.onRead = { [self] bytes in
            exchange.receive(bytes.bindMemory(to: UInt8.self).span, now: eventLoop.now())
            drive()
        }
        socket.onClose = { [self] _ in end() }
        socket.startReading()
        armTimer()
    }

    /// Closes at once (the endpoint is closing). No callback follows.
    func close() {
        isEnded = true
        timer?.cancel()
        socket.close()
    }

    /// Writes what the exchange has, answers its events, and closes when it is done.
    private func drive() {
        transmit()
        while let event = exchange.pollEvent() {
            guard case .metricsRequested = event else { continue }
            guard let text = endpoint?.exposition() else {
                socket.close()
                return end()
            }
            try? exchange.respond(body: text)
            transmit()
        }
        if exchange.wantsToClose { closeAfterFlush() } else { armTimer() }
    }

    private func transmit() {
        var bytes: [UInt8] = []
        while exchange.pollTransmit(into: &bytes) > 0 {
            socket.write(bytes)
            bytes = []
        }
    }

    private func closeAfterFlush() {
        guard !isClosing, !isEnded else { return }
        isClosing = true
        socket.stopReading()
        if socket.queuedWriteByteCount == 0 {
            socket.closeAfterFlush()
            return end()
        }
        socket.onWritable = { [self] in
            socket.closeAfterFlush()
            end()
        }
        armTimer()
    }

    private func armTimer() {
        guard !isEnded else { return }
        let deadline = exchange.nextDeadline.earliest(lifetimeDeadline) ?? lifetimeDeadline
        if let timer {
            timer.reschedule(at: deadline)
        } else {
            timer = eventLoop.scheduleTimer(at: deadline) { [weak self] in self?.timerFired() }
        }
    }

    private func timerFired() {
        guard !isEnded else { return }
        let now = eventLoop.now()
        if now >= lifetimeDeadline {
            socket.close()
            return end()
        }
        exchange.handleTimeout(now: now)
        drive()
    }

    /// Gives the slot back; the socket is closed or closing.
    private func end() {
        guard !isEnded else { return }
        isEnded = true
        timer?.cancel()
        timer = nil
        endpoint?.connectionEnded(self)
    }
}
