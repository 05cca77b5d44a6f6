import TraverseCore

/// The loop-thread half of a `Node`: the swarm, the sockets that carry its connections,
/// and the continuations of the async calls waiting on it.
///
/// Every method runs on the event loop's thread (the `Node` submits work with
/// `EventLoop.execute`), so nothing here is locked. After every input, `drive()` performs
/// what the swarm asks: transmit bytes, actions, then events, and re-arms the one timer.
final class NodeRuntime: @unchecked Sendable {
    // @unchecked: all state is touched only on the loop thread.
    let loop: EventLoop
    let submission: NodeSubmission
    var swarm: Swarm
    let eventContinuation: AsyncStream<NodeEvent>.Continuation

    var sockets: [ConnectionID: TCPSocket] = [:]
    var connectAttempts: [ConnectionID: TCPConnectAttempt] = [:]
    var listeners: [ListenerID: TCPListener] = [:]
    var timer: LoopTimer?
    var armedDeadline: Instant?

    var listenWaiters: [ListenerID: CheckedContinuation<[Multiaddr], any Error>] = [:]
    var dialWaiters: [DialID: CheckedContinuation<ConnectionSummary, any Error>] = [:]
    var streamRequestWaiters: [RequestID: CheckedContinuation<NodeStream, any Error>] = [:]
    var outcomeWaiters: [RequestID: OutcomeWaiter] = [:]
    var identifyWaiters: [PeerID: [CheckedContinuation<IdentifyInfo, any Error>]] = [:]
    /// The latest identify of each connected peer.
    var identified: [PeerID: IdentifyInfo] = [:]
    var streams: [SwarmStreamID: StreamState] = [:]
    var streamHandlers: [String: @Sendable (NodeStream) async -> Void] = [:]
    var stopWaiters: [() -> Void] = []
    var isStopping = false
    /// Reused for transmit chunks (the socket copies what it cannot write at once).
    var transmitBuffer: [UInt8] = []
    /// Guards against re-entering `drive` from a callback it caused.
    var isDriving = false
    var needsDrive = false

    struct OutcomeWaiter {
        let continuation: CheckedContinuation<RequestOutcome, any Error>
        let onRoundTrip: (@Sendable (Duration) -> Void)?
    }

    /// A stream the application holds, and its waiting read or write.
    struct StreamState {
        var reader: CheckedContinuation<[UInt8]?, any Error>?
        var writer: PendingWrite?
        var readMaximum = 64 * 1024
        var ended = false
        /// The stream was reset while no call waited: the next read or write fails.
        var wasReset = false
        /// The application half-closed the stream.
        var writeClosed = false
    }

    struct PendingWrite {
        var bytes: [UInt8]
        var offset: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    init(loop: EventLoop, submission: NodeSubmission, swarm: Swarm, events: AsyncStream<NodeEvent>.Continuation) {
        self.loop = loop
        self.submission = submission
        self.swarm = swarm
        self.eventContinuation = events
    }

    var now: Instant { loop.now() }

    // MARK: - The drive loop

    /// Performs everything the swarm has for the driver and the application, until it has
    /// nothing more, then re-arms the timer.
    func drive() {
        if isDriving {
            needsDrive = true
            return
        }
        isDriving = true
        defer { isDriving = false }
        // Events can make more bytes (a waiting write resumes), and actions more events:
        // go round until nothing moves.
        var progressed = true
        while progressed || needsDrive {
            needsDrive = false
            progressed = flushTransmit()
            while let action = swarm.pollAction() {
                perform(action)
                _ = flushTransmit()
                progressed = true
            }
            while let event = swarm.pollEvent() {
                dispatch(event)
                progressed = true
            }
        }
        armTimer()
        if isStopping && swarm.isIdle { finishStop() }
    }

    /// Writes every connection's pending bytes to its socket; returns whether there were any.
    private func flushTransmit() -> Bool {
        var wrote = false
        while true {
            transmitBuffer.removeAll(keepingCapacity: true)
            guard let id = swarm.pollTransmit(into: &transmitBuffer) else { return wrote }
            wrote = true
            guard let socket = sockets[id] else { continue }
            socket.write(transmitBuffer)
            if !socket.isWritable { swarm.transportBlocked(id, now: now) }
        }
    }

    private func armTimer() {
        guard let deadline = swarm.nextDeadline else {
            timer?.cancel()
            armedDeadline = nil
            return
        }
        guard deadline != armedDeadline else { return }
        armedDeadline = deadline
        if let timer {
            timer.reschedule(at: deadline)
        } else {
            timer = loop.scheduleTimer(at: deadline) { [unowned self] in
                self.armedDeadline = nil
                self.swarm.handleTimeout(now: self.now)
                self.drive()
            }
        }
    }

    // MARK: - Stopping

    /// Shuts the swarm down (GoAway on every connection), fails every waiter, and resumes
    /// `stopped` once every socket is closed.
    func stop(_ stopped: @escaping () -> Void) {
        stopWaiters.append(stopped)
        guard !isStopping else {
            drive()
            return
        }
        isStopping = true
        swarm.shutdown(now: now)
        drive()
        // Sockets that do not drain in time are closed by the loop's own shutdown.
        _ = loop.scheduleTimer(at: now + .seconds(1)) { [unowned self] in self.finishStop() }
    }

    private func finishStop() {
        guard !stopWaiters.isEmpty else { return }
        let failure = NodeError.stopped
        for waiter in listenWaiters.values { waiter.resume(throwing: failure) }
        for waiter in dialWaiters.values { waiter.resume(throwing: failure) }
        for waiter in streamRequestWaiters.values { waiter.resume(throwing: failure) }
        for waiter in outcomeWaiters.values { waiter.continuation.resume(throwing: failure) }
        for waiters in identifyWaiters.values { for waiter in waiters { waiter.resume(throwing: failure) } }
        for state in streams.values {
            state.reader?.resume(throwing: failure)
            state.writer?.continuation.resume(throwing: failure)
        }
        listenWaiters.removeAll()
        dialWaiters.removeAll()
        streamRequestWaiters.removeAll()
        outcomeWaiters.removeAll()
        identifyWaiters.removeAll()
        streams.removeAll()
        for socket in sockets.values { socket.close() }
        sockets.removeAll()
        for attempt in connectAttempts.values { attempt.cancel() }
        connectAttempts.removeAll()
        for listener in listeners.values { listener.close() }
        listeners.removeAll()
        timer?.cancel()
        eventContinuation.finish()
        let waiters = stopWaiters
        stopWaiters.removeAll()
        for waiter in waiters { waiter() }
    }
}
