import DequeModule

/// Settings and limits of a `NATSPipeRouter`.
public struct NATSPipeRouterConfiguration: Hashable, Sendable {
    /// Each pipe's settings.
    public var pipe = NATSPipeConfiguration()
    /// The subject prefix: a node receives its frames on `<prefix>.<its peer ID>`.
    public var subjectPrefix = "traverse.pipe"
    /// The most pipes at once, both directions.
    public var maximumPipes = 256
    /// The most pipes with one peer at once, both directions.
    public var maximumPipesPerPeer = 8
    /// The most refusals (RESET to an OPEN over a limit) waiting to go out; more OPENs are
    /// dropped unanswered.
    public var maximumPendingRefusals = 64

    /// The defaults.
    public init() {}
}

/// What a `NATSPipeRouter` reports.
public enum NATSPipeRouterEvent: Hashable, Sendable {
    /// A peer opened a pipe and it was accepted (ACCEPT is queued): run a `Connection` over
    /// it as the responder.
    case inbound(NATSPipeID, remote: PeerID)
    /// An event of one pipe. After `closed` or `failed` the pipe is gone.
    case pipe(NATSPipeID, NATSPipeEvent)
}

/// The pipes of one node on one NATS connection: demultiplexes the frames that arrive on the
/// node's inbound subject to pipes by (sender, session, direction), accepts OPENs up to the
/// limits (refusing the rest with RESET), ignores frames of unknown sessions and frames that
/// do not decode (anyone may publish to the subject), and hands out the pipes' frames with
/// the subject to publish them to, taking pipes in turn.
///
/// It does no I/O: the owner feeds it the payloads of NATS messages (`receive`) and publishes
/// what `pollPublish` returns; `NATSPipeTransport` does both with a `NATSClient`.
public struct NATSPipeRouter: Sendable {
    private struct SessionKey: Hashable, Sendable {
        var remote: PeerID
        var session: NATSPipeSessionID
        var localIsOpener: Bool
    }

    private struct Refusal: Sendable {
        var subject: String
        var frame: NATSPipeFrame
    }

    /// This node.
    public let local: PeerID
    /// The configuration.
    public let configuration: NATSPipeRouterConfiguration
    /// The subject this node's frames arrive on: `<prefix>.<local peer ID>`. Subscribe to it.
    public let inboundSubject: String

    private var pipes: [NATSPipeID: NATSPipe] = [:]
    private var subjects: [NATSPipeID: String] = [:]
    private var keys: [SessionKey: NATSPipeID] = [:]
    /// Pipe IDs in creation order, served in turn from `cursor`.
    private var order: [NATSPipeID] = []
    private var cursor = 0
    private var nextID: UInt64 = 1
    private var refusals: Deque<Refusal> = []
    private var events: Deque<NATSPipeRouterEvent> = []

    /// Frames that did not decode, came from this node's own ID, or named an unknown session.
    public private(set) var ignoredFrameCount = 0
    /// OPENs refused (or dropped) over a limit.
    public private(set) var refusedOpenCount = 0

    /// A router for `local`.
    public init(local: PeerID, configuration: NATSPipeRouterConfiguration = .init()) {
        self.local = local
        self.configuration = configuration
        inboundSubject = Self.subject(for: local, prefix: configuration.subjectPrefix)
    }

    /// The subject on which `peer` receives its frames.
    public static func subject(for peer: PeerID, prefix: String = "traverse.pipe") -> String {
        "\(prefix).\(peer)"
    }

    /// Open pipes.
    public var pipeCount: Int { pipes.count }
    /// The peer at the other end of `id`.
    public func remote(of id: NATSPipeID) -> PeerID? { pipes[id]?.remote }
    /// The pipe `id`, to read its state.
    public func pipe(_ id: NATSPipeID) -> NATSPipe? { pipes[id] }

    // MARK: Commands

    /// Opens a pipe to `remote` with a session ID from `generator`: OPEN is queued, and
    /// `opened` (or `failed`) follows.
    public mutating func open(
        to remote: PeerID, now: Instant, using generator: inout some RandomNumberGenerator
    ) throws(NATSPipeUsageError) -> NATSPipeID {
        guard remote != local else { throw .openToSelf }
        guard admits(remote) else { throw .tooManyPipes }
        var session = NATSPipeSessionID(rawValue: generator.next())
        while keys[SessionKey(remote: remote, session: session, localIsOpener: true)] != nil {
            session = NATSPipeSessionID(rawValue: generator.next())
        }
        let pipe = NATSPipe(opening: session, local: local, remote: remote, now: now, configuration: configuration.pipe)
        return insert(pipe, key: SessionKey(remote: remote, session: session, localIsOpener: true))
    }

    /// Writes to pipe `id` (short writes are followed by `writable`).
    public mutating func write(_ id: NATSPipeID, _ bytes: Span<UInt8>, now: Instant) throws(NATSPipeUsageError) -> Int {
        // Taken out of the table while it changes, so its buffers are not copied.
        guard var pipe = pipes.removeValue(forKey: id) else { throw .unknownPipe(id) }
        defer { store(pipe, id: id) }
        return try pipe.write(bytes, now: now)
    }

    /// Reads from pipe `id`.
    public mutating func read(
        _ id: NATSPipeID, into destination: inout [UInt8], maximum: Int = .max, now: Instant
    ) throws(NATSPipeUsageError) -> NATSPipeReadResult {
        guard var pipe = pipes.removeValue(forKey: id) else { throw .unknownPipe(id) }
        defer { store(pipe, id: id) }
        return try pipe.read(into: &destination, maximum: maximum, now: now)
    }

    /// Half-closes pipe `id`.
    public mutating func closeWrite(_ id: NATSPipeID, now: Instant) throws(NATSPipeUsageError) {
        guard var pipe = pipes.removeValue(forKey: id) else { throw .unknownPipe(id) }
        defer { store(pipe, id: id) }
        try pipe.closeWrite(now: now)
    }

    /// Resets pipe `id` (RESET goes to the peer; no event follows).
    public mutating func reset(_ id: NATSPipeID, code: NATSPipeResetCode = .cancelled, now: Instant) throws(NATSPipeUsageError) {
        guard var pipe = pipes.removeValue(forKey: id) else { throw .unknownPipe(id) }
        defer { store(pipe, id: id) }
        try pipe.reset(code, now: now)
    }

    /// Resets every pipe with `code` (shutting down).
    public mutating func resetAll(code: NATSPipeResetCode = .shutdown, now: Instant) {
        for id in order {
            guard var pipe = pipes.removeValue(forKey: id) else { continue }
            try? pipe.reset(code, now: now)
            store(pipe, id: id)
        }
    }

    /// The NATS connection ended: every pipe fails with `transportClosed`, queued frames
    /// are dropped.
    public mutating func transportClosed(now: Instant) {
        refusals.removeAll()
        for id in order {
            guard var pipe = pipes.removeValue(forKey: id) else { continue }
            pipe.transportClosed(now: now)
            while pipe.pollFrame(into: &discarded, maximumPayload: .max) { discarded.removeAll(keepingCapacity: true) }
            store(pipe, id: id)
        }
    }

    private var discarded: [UInt8] = []

    // MARK: Input

    /// Feeds the payload of a message that arrived on `inboundSubject`.
    public mutating func receive(_ payload: [UInt8], now: Instant) {
        guard let frame = try? NATSPipeFrame(decoding: payload), frame.sender != local else {
            ignoredFrameCount += 1
            return
        }
        let key = SessionKey(remote: frame.sender, session: frame.session, localIsOpener: !frame.fromOpener)
        if let id = keys[key], var pipe = pipes.removeValue(forKey: id) {
            pipe.receive(frame, now: now)
            store(pipe, id: id)
            return
        }
        guard case .open(let window) = frame.body else {
            ignoredFrameCount += 1
            return
        }
        guard admits(frame.sender) else {
            refusedOpenCount += 1
            refuse(frame, code: .refused)
            return
        }
        let pipe: NATSPipe
        do {
            pipe = try NATSPipe(
                accepting: frame.session, from: frame.sender, window: window, local: local, now: now,
                configuration: configuration.pipe)
        } catch {
            refuse(frame, code: .protocolViolation)
            return
        }
        let id = insert(pipe, key: key)
        events.append(.inbound(id, remote: frame.sender))
    }

    /// Acts on every pipe's timers.
    public mutating func handleTimeout(now: Instant) {
        for id in order {
            guard let deadline = pipes[id]?.nextDeadline, now >= deadline, var pipe = pipes.removeValue(forKey: id) else { continue }
            pipe.handleTimeout(now: now)
            store(pipe, id: id)
        }
    }

    // MARK: Output

    /// Appends the next frame to publish to `payload` (at most `maximumPayload` bytes) and
    /// returns the subject to publish it to; `nil` when nothing is waiting. Refusals go
    /// first, then the pipes in turn, one frame each.
    public mutating func pollPublish(into payload: inout [UInt8], maximumPayload: Int) -> String? {
        if let refusal = refusals.popFirst() {
            refusal.frame.encode(into: &payload)
            return refusal.subject
        }
        var visited = 0
        while visited < order.count {
            if cursor >= order.count { cursor = 0 }
            let id = order[cursor]
            cursor += 1
            visited += 1
            guard let subject = subjects[id], var pipe = pipes.removeValue(forKey: id) else { continue }
            let produced = pipe.pollFrame(into: &payload, maximumPayload: maximumPayload)
            store(pipe, id: id)
            if produced { return subject }
        }
        return nil
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> NATSPipeRouterEvent? { events.popFirst() }

    /// The earliest deadline of the pipes.
    public var nextDeadline: Instant? {
        var earliest: Instant?
        for pipe in pipes.values { earliest = earliest.earliest(pipe.nextDeadline) }
        return earliest
    }

    // MARK: Internals

    private func admits(_ remote: PeerID) -> Bool {
        guard pipes.count < configuration.maximumPipes else { return false }
        var count = 0
        for pipe in pipes.values where pipe.remote == remote && !pipe.isDone { count += 1 }
        return count < configuration.maximumPipesPerPeer
    }

    private mutating func insert(_ pipe: NATSPipe, key: SessionKey) -> NATSPipeID {
        let id = NATSPipeID(rawValue: nextID)
        nextID += 1
        pipes[id] = pipe
        subjects[id] = Self.subject(for: pipe.remote, prefix: configuration.subjectPrefix)
        keys[key] = id
        order.append(id)
        return id
    }

    /// Puts `pipe` back, moves its events out, and drops it once it is finished.
    private mutating func store(_ pipe: consuming NATSPipe, id: NATSPipeID) {
        var pipe = pipe
        while let event = pipe.pollEvent() { events.append(.pipe(id, event)) }
        guard pipe.isFinished else {
            pipes[id] = pipe
            return
        }
        pipes[id] = nil
        subjects[id] = nil
        keys[SessionKey(remote: pipe.remote, session: pipe.session, localIsOpener: pipe.isOpener)] = nil
        if let index = order.firstIndex(of: id) {
            order.remove(at: index)
            if index < cursor { cursor -= 1 }
        }
    }

    private mutating func refuse(_ open: NATSPipeFrame, code: NATSPipeResetCode) {
        guard refusals.count < configuration.maximumPendingRefusals else { return }
        let reset = NATSPipeFrame(session: open.session, sender: local, fromOpener: false, body: .reset(code))
        refusals.append(Refusal(subject: Self.subject(for: open.sender, prefix: configuration.subjectPrefix), frame: reset))
    }
}
