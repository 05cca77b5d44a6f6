import CUV
import Synchronization
import TraverseCore

/// A libuv loop running on a thread of its own: TCP listeners and sockets, timers, name
/// lookups and datagram exchanges, all driven from that one thread.
///
/// **Thread rule.** `execute(_:)`, `shutdown()`, `inLoopThread` and `now()` may be called
/// from any thread. Everything else (creating listeners, sockets, timers, and every method of
/// the objects they return) must be called on the loop thread, that is from work passed to
/// `execute(_:)` or from a callback the loop makes.
///
/// **Shutdown.** `shutdown()` runs the work `execute` accepted before it, then closes every
/// open handle: sockets report `onClose(.cancelled)`, pending connects, name lookups and
/// datagram exchanges complete with `.failure(.cancelled)`, listeners close and timers never
/// fire. It lets libuv run every close callback, closes the loop and joins the thread. A
/// loop that is never shut down keeps its thread (and itself) alive.
///
/// `@unchecked Sendable` is sound because the only state touched from other threads is the
/// submission queue and shutdown flag (behind `submissions`' lock), the join flag (behind
/// `termination`'s lock), values written once before `init` returns (`loopThread`, the
/// loop and wake-up pointers) and the shutdown diagnostics (`loopCloseStatus`,
/// `strayHandleCount`), which other threads read only after joining the loop thread. All
/// other mutable state is touched only on the loop thread.
final class EventLoop: @unchecked Sendable {
    /// The size of the one read buffer every socket of the loop reads into.
    static let readBufferSize = 65_536

    /// The libuv loop (owned; freed by the loop thread once closed).
    let loop: UnsafeMutablePointer<uv_loop_t>

    // MARK: State shared between threads

    private struct Submissions {
        var work: [@Sendable () -> Void] = []
        var isShutdownRequested = false
    }
    private let submissions = Mutex(Submissions())
    /// Whether a `shutdown()` call has joined the thread.
    private let termination = Mutex(false)
    /// Wakes the loop thread (`uv_async_send` is the one libuv call safe from any thread).
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    /// Signalled by the loop thread once it has recorded its identity.
    private let started: UnsafeMutablePointer<uv_sem_t>
    /// The thread, for joining (written by `init`).
    private var thread = uv_thread_t()
    /// The loop thread's identity (written by the loop thread before `init` returns).
    private var loopThread = uv_thread_t()

    // MARK: Loop-thread state

    /// The one read buffer: every TCP and UDP read lands in it, and its callback must be done
    /// with it on return.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Everything open that shutdown must close, by identity.
    private var resources: [ObjectIdentifier: any LoopResource] = [:]
    /// The submission batch being run (kept to reuse its storage).
    private var runningBatch: [@Sendable () -> Void] = []
    /// Work the loop thread deferred to its next wake-up (completions that must not run
    /// inside the call that caused them).
    private var deferred: [() -> Void] = []
    /// Whether shutdown has begun closing handles: new operations then fail with `.cancelled`.
    private(set) var isShuttingDown = false
    /// Whether the wake-up handle is closed (nothing may wake the loop any more).
    private var isWakeupClosed = false
    /// What `uv_loop_close` returned (0 when every handle was closed); read after shutdown.
    private(set) var loopCloseStatus: Int32 = 0
    /// Handles shutdown found open without an owner that closed them (0 unless a bug).
    private(set) var strayHandleCount = 0

    /// Creates a loop and starts its thread.
    init() throws(SocketError) {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let status = uv_loop_init(loop)
        guard status == 0 else {
            loop.deallocate()
            throw SocketError(code: status)
        }
        self.loop = loop
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        loop.pointee.data = readBuffer.baseAddress
        wakeup = LibuvHandle.allocate(uv_async_t.self)
        started = .allocate(capacity: 1)
        uv_sem_init(started, 0)
        // Cannot fail on Linux or macOS: it only registers an eventfd/pipe set up by
        // uv_loop_init.
        uv_async_init(loop, wakeup, wakeupCallback)
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()

        let context = Unmanaged.passRetained(self).toOpaque()
        let created = uv_thread_create(&thread, threadEntry, context)
        guard created == 0 else {
            Unmanaged<EventLoop>.fromOpaque(context).release()
            wakeup.pointee.data = nil
            LibuvHandle.close(wakeup)
            uv_run(loop, UV_RUN_DEFAULT)
            uv_loop_close(loop)
            loop.deallocate()
            readBuffer.deallocate()
            uv_sem_destroy(started)
            started.deallocate()
            termination.withLock { $0 = true }
            throw SocketError(code: created)
        }
        uv_sem_wait(started)
    }

    /// Whether the caller runs on the loop thread.
    var inLoopThread: Bool {
        var current = uv_thread_self()
        // A copy: no thread ever modifies the stored identity after `init`.
        var loopThread = self.loopThread
        return uv_thread_equal(&current, &loopThread) != 0
    }

    /// The current time on the monotonic clock (`uv_hrtime`), the clock timers use.
    func now() -> Instant {
        Instant(nanoseconds: uv_hrtime())
    }

    /// Runs `work` on the loop thread, after the work submitted before it. Safe from any
    /// thread; work submitted once shutdown was requested is dropped.
    func execute(_ work: @escaping @Sendable () -> Void) {
        submissions.withLock { submissions in
            guard !submissions.isShutdownRequested else { return }
            submissions.work.append(work)
            // Under the lock: the loop closes `wakeup` only after seeing the shutdown request.
            uv_async_send(wakeup)
        }
    }

    /// Shuts the loop down: runs the work already submitted, closes every handle (see the
    /// type's documentation for what each reports), waits for libuv's close callbacks, closes
    /// the loop and joins its thread. Idempotent; concurrent callers all return once the
    /// thread is gone.
    ///
    /// On the loop thread it only starts the shutdown (the thread cannot join itself): the
    /// handles are closed once the current callback returns, and a later call from another
    /// thread waits for the end.
    func shutdown() {
        if inLoopThread {
            requestShutdown()
            return
        }
        termination.withLock { isJoined in
            guard !isJoined else { return }
            requestShutdown()
            uv_thread_join(&thread)
            uv_sem_destroy(started)
            started.deallocate()
            isJoined = true
        }
    }

    private func requestShutdown() {
        submissions.withLock { submissions in
            guard !submissions.isShutdownRequested else { return }
            submissions.isShutdownRequested = true
            uv_async_send(wakeup)
        }
    }

    // MARK: Loop thread

    /// Traps unless called on the loop thread.
    func preconditionInLoopThread(_ function: StaticString = #function) {
        precondition(inLoopThread, "EventLoop.\(function) must be called on the loop thread")
    }

    /// Keeps `resource` until it unregisters, so that shutdown can close it.
    func register(_ resource: some LoopResource) {
        resources[ObjectIdentifier(resource)] = resource
    }

    /// Forgets a closed resource.
    func unregister(_ resource: some LoopResource) {
        resources[ObjectIdentifier(resource)] = nil
    }

    /// Runs `work` on the loop thread's next wake-up, before shutdown closes anything, so
    /// that a completion never runs inside the call that started the operation.
    func deferToNextWakeup(_ work: @escaping () -> Void) {
        guard !isWakeupClosed else { return }
        deferred.append(work)
        uv_async_send(wakeup)
    }

    fileprivate func runOnLoopThread() {
        loopThread = uv_thread_self()
        uv_sem_post(started)
        uv_run(loop, UV_RUN_DEFAULT)
        loopCloseStatus = uv_loop_close(loop)
        // A loop that failed to close still has handles pointing into it: leak it rather
        // than free memory libuv may touch.
        if loopCloseStatus == 0 { loop.deallocate() }
        readBuffer.deallocate()
    }

    fileprivate func wokeUp() {
        let isShutdownRequested = runSubmittedWork()
        runDeferredWork()
        if isShutdownRequested || submissions.withLock({ $0.isShutdownRequested }) {
            if !isShuttingDown { tearDown() }
        }
    }

    /// Runs the submitted work; returns whether shutdown was requested when it was taken.
    private func runSubmittedWork() -> Bool {
        let isShutdownRequested = submissions.withLock { submissions in
            swap(&submissions.work, &runningBatch)
            return submissions.isShutdownRequested
        }
        for work in runningBatch { work() }
        runningBatch.removeAll(keepingCapacity: true)
        return isShutdownRequested
    }

    private func runDeferredWork() {
        while !deferred.isEmpty {
            let batch = deferred
            deferred.removeAll()
            for work in batch { work() }
        }
    }

    /// Closes everything: accepted work runs first, then every resource reports its
    /// cancellation; `uv_run` returns once every close callback ran.
    private func tearDown() {
        // No more work can be accepted: what was accepted before the request still runs.
        _ = runSubmittedWork()
        isShuttingDown = true
        repeat {
            runDeferredWork()
            let open = Array(resources.values)
            resources.removeAll()
            for resource in open { resource.closeForShutdown() }
        } while !resources.isEmpty || !deferred.isEmpty
        isWakeupClosed = true
        wakeup.pointee.data = nil
        LibuvHandle.close(wakeup)
        uv_walk(loop, closeStrayHandle, Unmanaged.passUnretained(self).toOpaque())
    }

    fileprivate func closeStray(_ handle: UnsafeMutablePointer<uv_handle_t>) {
        guard uv_is_closing(handle) == 0 else { return }
        strayHandleCount += 1
        // Its owner (if any) leaks, but the loop can close.
        uv_close(handle, nil)
    }
}

/// Something open on the loop that shutdown must close.
protocol LoopResource: AnyObject {
    /// Closes the resource because the loop shuts down, telling whoever waits on it
    /// (`.cancelled`). The loop has already forgotten it.
    func closeForShutdown()
}

/// The loop thread's body.
private let threadEntry: uv_thread_cb = { context in
    guard let context else { return }
    Unmanaged<EventLoop>.fromOpaque(context).takeRetainedValue().runOnLoopThread()
}

private let wakeupCallback: uv_async_cb = { handle in
    guard let handle, let eventLoop = LibuvHandle.owner(of: handle, as: EventLoop.self) else { return }
    eventLoop.wokeUp()
}

private let closeStrayHandle: uv_walk_cb = { handle, context in
    guard let handle, let context else { return }
    Unmanaged<EventLoop>.fromOpaque(context).takeUnretainedValue().closeStray(handle)
}

/// The allocation callback of every read: the loop's one read buffer (stored in the
/// loop's `data`), so a read allocates nothing.
let allocateFromLoopReadBuffer: uv_alloc_cb = { handle, _, buffer in
    guard let handle, let buffer else { return }
    guard let base = handle.pointee.loop.pointee.data else {
        buffer.pointee = uv_buf_init(nil, 0)
        return
    }
    buffer.pointee = uv_buf_init(base.assumingMemoryBound(to: CChar.self), UInt32(EventLoop.readBufferSize))
}
