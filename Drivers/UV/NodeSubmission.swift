import Synchronization

/// Hands work to the loop thread and bridges it to async callers: the work gets a
/// continuation and must resume it exactly once. After `close()` nothing is submitted and
/// callers fail with `NodeError.stopped`, so no caller waits on work the loop dropped.
final class NodeSubmission: Sendable {
    let loop: EventLoop
    private let isClosed = Mutex(false)

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Runs `body` on the loop thread and waits for it to resume the continuation.
    func submit<Value: Sendable>(
        _ body: @escaping @Sendable (CheckedContinuation<Value, any Error>) -> Void
    ) async throws(NodeError) -> Value {
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let accepted = isClosed.withLock { closed in
                    guard !closed else { return false }
                    // Under the lock: `close()` cannot slip between the check and the submission.
                    loop.execute { body(continuation) }
                    return true
                }
                if !accepted { continuation.resume(throwing: NodeError.stopped) }
            }
        } catch let error as NodeError {
            throw error
        } catch {
            throw .stopped
        }
    }

    /// Runs `work` on the loop thread unless closed; returns whether it was submitted.
    @discardableResult
    func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        isClosed.withLock { closed in
            guard !closed else { return false }
            loop.execute(work)
            return true
        }
    }

    /// Refuses all further submissions.
    func close() {
        isClosed.withLock { $0 = true }
    }
}
