import Foundation
import TraverseCore
import TraverseUV

/// Records a node's events in the background so a test can wait for one.
final class NodeEventRecorder: @unchecked Sendable {
    // @unchecked: `events` is guarded by `lock`.
    private let lock = NSLock()
    private var events: [NodeEvent] = []
    private var task: Task<Void, Never>?

    init(_ node: Node) {
        let stream = node.events
        task = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                self.lock.withLock { self.events.append(event) }
            }
        }
    }

    deinit { task?.cancel() }

    /// Every event so far.
    var all: [NodeEvent] { lock.withLock { events } }

    /// The first event `match` maps to a value, waiting up to `timeout` seconds.
    func first<T>(timeout: Double = 30, _ match: (NodeEvent) -> T?) async throws -> T {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if let found = all.lazy.compactMap(match).first { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw PyPeerError("no matching node event in \(timeout) s; got \(all)")
    }
}
