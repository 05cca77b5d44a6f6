import TraverseCore

/// A stream to a peer, for one protocol: read what the peer writes, write to it,
/// half-close, or reset. One read and one write may wait at a time.
public final class NodeStream: Sendable {
    /// The stream within the node.
    public let id: SwarmStreamID
    /// The protocol multistream-select chose.
    public let `protocol`: String
    /// The peer at the other end.
    public let peer: PeerID
    private let runtime: NodeRuntime
    private let node: NodeSubmission

    init(runtime: NodeRuntime, id: SwarmStreamID, protocol name: String, peer: PeerID) {
        self.runtime = runtime
        self.node = runtime.submission
        self.id = id
        self.protocol = name
        self.peer = peer
    }

    /// A stream the application lets go of is forgotten; unless the application half-closed
    /// it (then what it wrote still goes out and the peer's end finishes it), it is reset.
    deinit {
        let runtime = self.runtime
        let id = self.id
        node.execute {
            guard let state = runtime.streams.removeValue(forKey: id), !state.writeClosed else { return }
            try? runtime.swarm.reset(id, now: runtime.now)
            runtime.drive()
        }
    }

    /// The next bytes the peer wrote (at most `maximum`), or `nil` at the end of the
    /// stream (the peer half-closed and everything was read).
    public func read(maximum: Int = 64 * 1024) async throws(NodeError) -> [UInt8]? {
        let runtime = self.runtime
        let id = self.id
        return try await node.submit { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
            guard var state = runtime.streams[id] else {
                continuation.resume(returning: nil)
                return
            }
            guard state.reader == nil else {
                continuation.resume(throwing: NodeError.concurrentStreamUse)
                return
            }
            if state.wasReset {
                runtime.streams[id] = nil
                continuation.resume(throwing: NodeError.streamReset)
                return
            }
            if state.ended {
                continuation.resume(returning: nil)
                return
            }
            state.reader = continuation
            state.readMaximum = max(1, maximum)
            runtime.streams[id] = state
            runtime.serviceRead(id)
            runtime.drive()
        }
    }

    /// Reads until the end of the stream, failing past `limit` bytes.
    public func readAll(limit: Int = 64 << 20) async throws(NodeError) -> [UInt8] {
        var result: [UInt8] = []
        while let bytes = try await read() {
            result.append(contentsOf: bytes)
            if result.count > limit { throw .requestFailed(.protocolFailed("more than \(limit) bytes")) }
        }
        return result
    }

    /// Writes all of `bytes`, waiting for the peer's flow-control window as needed.
    public func write(_ bytes: [UInt8]) async throws(NodeError) {
        let runtime = self.runtime
        let id = self.id
        try await node.submit { (continuation: CheckedContinuation<Void, any Error>) in
            guard var state = runtime.streams[id] else {
                continuation.resume(throwing: NodeError.streamReset)
                return
            }
            guard state.writer == nil else {
                continuation.resume(throwing: NodeError.concurrentStreamUse)
                return
            }
            if state.wasReset {
                runtime.streams[id] = nil
                continuation.resume(throwing: NodeError.streamReset)
                return
            }
            state.writer = NodeRuntime.PendingWrite(bytes: bytes, offset: 0, continuation: continuation)
            runtime.streams[id] = state
            runtime.serviceWrite(id)
            runtime.drive()
        }
    }

    /// Half-closes the stream: the peer reads to the end; reading here goes on.
    public func closeWrite() async throws(NodeError) {
        let runtime = self.runtime
        let id = self.id
        try await node.submit { (continuation: CheckedContinuation<Void, any Error>) in
            do throws(SwarmUsageError) {
                try runtime.swarm.closeWrite(id, now: runtime.now)
                runtime.streams[id]?.writeClosed = true
                continuation.resume()
            } catch {
                continuation.resume(throwing: NodeError.usage(error))
            }
            runtime.drive()
        }
    }

    /// Resets the stream in both directions; waiting calls fail with `streamReset`.
    public func reset() async {
        let runtime = self.runtime
        let id = self.id
        _ = try? await node.submit { (continuation: CheckedContinuation<Void, any Error>) in
            try? runtime.swarm.reset(id, now: runtime.now)
            if let state = runtime.streams.removeValue(forKey: id) {
                state.reader?.resume(throwing: NodeError.streamReset)
                state.writer?.continuation.resume(throwing: NodeError.streamReset)
            }
            continuation.resume()
            runtime.drive()
        }
    }
}
