import Testing
import TraverseCore
@testable import TraverseUV

@Suite struct LoopTimerTests {
    struct Firing: Sendable, Equatable {
        var name: String
        var wasOnTime: Bool
    }

    @Test func timersFireInDeadlineOrderNeverEarlyAndCancelWorks() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let firings: [Firing] = try await onLoop(loop) { finish in
            var firings: [Firing] = []
            let start = loop.now()
            func schedule(_ name: String, after milliseconds: Int64) -> LoopTimer {
                let deadline = start + .milliseconds(milliseconds)
                return loop.scheduleTimer(at: deadline) {
                    firings.append(Firing(name: name, wasOnTime: loop.now() >= deadline))
                }
            }
            _ = schedule("30", after: 30)
            _ = schedule("10", after: 10)
            let cancelled = schedule("15", after: 15)
            cancelled.cancel()
            cancelled.cancel()
            let moved = schedule("25", after: 5)
            moved.reschedule(at: start + .milliseconds(25))
            _ = schedule("20", after: 20)
            _ = loop.scheduleTimer(at: .zero) { firings.append(Firing(name: "past", wasOnTime: true)) }
            loop.scheduleTimer(at: start + .milliseconds(40)) { finish(firings) }
        }
        #expect(firings.map(\.name) == ["past", "10", "20", "25", "30"])
        #expect(firings.allSatisfy { $0.wasOnTime })
    }

    @Test func aTimerReArmsFromItsOwnClosureAndAfterFiring() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (firings, armedAfterLast, released) = try await onLoop(loop) { finish in
            var firings = 0
            var timer: LoopTimer?
            timer = loop.scheduleTimer(at: loop.now()) {
                firings += 1
                // The swarm's pattern: handle the timeout, re-arm for the next deadline.
                if firings < 3 { timer?.reschedule(at: loop.now() + .milliseconds(1)) }
            }
            let weakTimer = WeakReference(timer)
            loop.scheduleTimer(at: loop.now() + .milliseconds(20)) {
                let armed = timer?.isArmed ?? true
                // Fired and not re-armed: re-arming later works too.
                timer?.reschedule(at: loop.now())
                loop.scheduleTimer(at: loop.now() + .milliseconds(10)) {
                    timer = nil
                    // The loop lets go of a timer that fired and was not re-armed (its handle
                    // closes on the next iteration).
                    loop.scheduleTimer(at: loop.now() + .milliseconds(2)) {
                        finish((firings, armed, weakTimer.object == nil))
                    }
                }
            }
        }
        #expect(firings == 4)
        #expect(!armedAfterLast)
        #expect(released)
    }
}
