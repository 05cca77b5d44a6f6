import CUV
import TraverseCore

/// A timer that calls its closure once `now()` has reached its deadline. Loop thread only.
///
/// It can be re-armed any number of times with `reschedule(at:)`, also from inside its own
/// closure and after it fired or was cancelled: the swarm keeps one such timer on its
/// `nextDeadline`. Re-arming an armed timer costs no allocation. An armed timer is kept by
/// the loop, so the caller need not hold it; once it fired without being re-armed, or was
/// cancelled, the loop lets go of it.
final class LoopTimer: LoopResource {
    /// When the timer fires (or would, when not armed).
    private(set) var deadline: Instant

    private let eventLoop: EventLoop
    /// Dropped when the loop shuts down (the timer can never fire again).
    private var fire: (() -> Void)?
    /// The libuv timer while armed or firing (its `data` holds this timer).
    private var handle: UnsafeMutablePointer<uv_timer_t>?

    fileprivate init(eventLoop: EventLoop, deadline: Instant, fire: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.deadline = deadline
        self.fire = fire
    }

    /// Whether the timer will fire.
    var isArmed: Bool {
        guard let handle else { return false }
        return uv_is_active(LibuvHandle.base(handle)) != 0
    }

    /// Arms the timer for `deadline` (replacing any earlier deadline). A deadline in the
    /// past fires on the next iteration. Does nothing once the loop is shutting down.
    func reschedule(at deadline: Instant) {
        assert(eventLoop.inLoopThread)
        self.deadline = deadline
        guard !eventLoop.isShuttingDown else { return }
        let handle: UnsafeMutablePointer<uv_timer_t>
        if let open = self.handle {
            handle = open
        } else {
            handle = LibuvHandle.allocate(uv_timer_t.self)
            // uv_timer_init cannot fail.
            uv_timer_init(eventLoop.loop, handle)
            LibuvHandle.retain(self, in: handle)
            self.handle = handle
            eventLoop.register(self)
        }
        uv_timer_start(handle, timerCallback, eventLoop.timerDelay(until: deadline), 0)
    }

    /// Disarms the timer; its closure will not run (until `reschedule(at:)`). Idempotent.
    func cancel() {
        assert(eventLoop.inLoopThread)
        guard let handle else { return }
        self.handle = nil
        eventLoop.unregister(self)
        LibuvHandle.close(handle)
    }

    func closeForShutdown() {
        fire = nil
        guard let handle else { return }
        self.handle = nil
        LibuvHandle.close(handle)
    }

    fileprivate func didFire(_ firedHandle: UnsafeMutablePointer<uv_timer_t>) {
        guard firedHandle == handle else { return }
        // Should the loop's clock ever run ahead of uv_hrtime, wait for the rest.
        guard uv_hrtime() >= deadline.nanoseconds else {
            uv_timer_start(firedHandle, timerCallback, max(eventLoop.timerDelay(until: deadline), 1), 0)
            return
        }
        fire?()
        // Not re-armed by the closure: let go of the handle (and of this timer).
        if firedHandle == handle, uv_is_active(LibuvHandle.base(firedHandle)) == 0 {
            cancel()
        }
    }
}

extension EventLoop {
    /// The `uv_timer_start` delay (milliseconds from the loop's cached time) after which the
    /// loop time reaches `deadline`, rounded up. The loop time is `uv_hrtime` in whole
    /// milliseconds, taken when the iteration started; a timer due at loop time
    /// ⌈deadline⌉ therefore never fires before `now()` reaches the deadline, and timers fire
    /// in deadline order.
    func timerDelay(until deadline: Instant) -> UInt64 {
        let (milliseconds, remainder) = deadline.nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
        let due = milliseconds + (remainder == 0 ? 0 : 1)
        let loopTime = uv_now(loop)
        return due > loopTime ? due - loopTime : 0
    }

    /// Calls `fire` on the loop thread once `now()` has reached `deadline` (at millisecond
    /// granularity; timers with the same deadline fire in the order they were armed).
    @discardableResult
    func scheduleTimer(at deadline: Instant, _ fire: @escaping () -> Void) -> LoopTimer {
        preconditionInLoopThread()
        let timer = LoopTimer(eventLoop: self, deadline: deadline, fire: fire)
        timer.reschedule(at: deadline)
        return timer
    }
}

private let timerCallback: uv_timer_cb = { handle in
    guard let handle, let timer = LibuvHandle.owner(of: handle, as: LoopTimer.self) else { return }
    withExtendedLifetime(timer) { timer.didFire(handle) }
}
