import DequeModule

/// A Yamux session (`/yamux/1.0.0`): many streams over one byte stream, with per-stream
/// flow control (256 KiB initial windows, auto-tuned up to `maximumReceiveWindow`), pings
/// for round-trip time and keepalive, and GoAway.
///
/// The machine contract (`ByteStreamMachine`): feed peer bytes to `receive`, issue commands
/// (`openStream`, `write`, `read`, `closeWrite`, `reset`, `ping`, `close`), then drain
/// `pollTransmit`, `pollEvent` and read `nextDeadline`.
///
/// Control frames (window updates, ACKs, pings, resets) are queued apart from data frames
/// and always leave first, so a window update never waits behind data the peer cannot
/// receive until it gets that update. Data a writer hands over is framed at once, never
/// buffered beyond the stream's send window and `maximumPendingTransmit`; a short write is
/// followed by a `writable` event when the stream can take more.
public struct YamuxSession: ByteStreamMachine {
    /// Which end of the underlying connection this session is: the client (the connection's
    /// initiator) opens odd stream IDs, the server even ones.
    public enum Role: Sendable { case client, server }

    public typealias Event = YamuxEvent

    /// This side's role.
    public let role: Role
    /// Limits and timers.
    public var configuration: YamuxConfiguration { sharedConfiguration.value }
    private let sharedConfiguration: SharedYamuxConfiguration

    private var isOpen = true
    private var streams: [UInt32: YamuxStream] = [:]
    private var nextOutboundID: UInt64
    private var lastInboundID: UInt32 = 0
    private var unacknowledgedOutbound = 0
    private var remoteGoingAway = false
    private var blockedWriters: Set<UInt32> = []

    private var controlFrames: [UInt8] = []
    private var dataFrames: [UInt8] = []
    private var pendingPingReplies = 0
    private var events: Deque<YamuxEvent> = []

    private var readState = ReadState.header
    private var headerScratch: [UInt8] = []

    private var grantedBeyondInitialWindows: UInt64 = 0
    private var roundTripTime: Duration?
    private var outstandingPing: (opaque: UInt32, sentAt: Instant)?
    private var nextPingOpaque: UInt32 = 1
    private var lastReceive: Instant

    private enum ReadState {
        case header
        /// Inside a Data frame's payload: `remaining` bytes still to come for `streamID`
        /// (dropped when `deliver` is false); `fin` applies once they have arrived.
        case body(streamID: UInt32, remaining: UInt32, deliver: Bool, fin: Bool)
    }

    /// A session for `role`, starting at `now`. With `measuresRoundTripAtStart` its first
    /// output is a ping.
    public init(role: Role, configuration: YamuxConfiguration = .init(), now: Instant) {
        self.init(role: role, sharedConfiguration: SharedYamuxConfiguration(configuration), now: now)
    }

    /// A session for `role` with a configuration shared with other sessions.
    public init(role: Role, sharedConfiguration: SharedYamuxConfiguration, now: Instant) {
        self.role = role
        self.sharedConfiguration = sharedConfiguration
        let configuration = sharedConfiguration.value
        nextOutboundID = role == .client ? 1 : 2
        lastReceive = now
        if configuration.measuresRoundTripAtStart { sendPing(now: now) }
    }

    // MARK: - State queries

    /// Whether the session is still open.
    public var isActive: Bool { isOpen }
    /// The number of open streams.
    public var streamCount: Int { streams.count }
    /// The latest measured round-trip time.
    public var latestRoundTripTime: Duration? { roundTripTime }
    /// Unread bytes buffered for `stream` (0 for an unknown stream).
    public func readableByteCount(_ stream: YamuxStreamID) -> Int {
        streams[stream.rawValue]?.receiveBuffer.readableCount ?? 0
    }
    /// How many bytes `write` would accept on `stream` now.
    public func writableByteCount(_ stream: YamuxStreamID) -> Int {
        guard isOpen, let state = streams[stream.rawValue], !state.localClosed else { return 0 }
        return min(Int(state.sendWindow), max(0, configuration.maximumPendingTransmit - dataFrames.count))
    }
    /// The current receive window of `stream` (grows with auto-tuning).
    public func receiveWindow(_ stream: YamuxStreamID) -> UInt32? { streams[stream.rawValue]?.receiveWindow }

    // MARK: - Peer input

    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard isOpen else { return }
        lastReceive = now
        var offset = 0
        while offset < bytes.count && isOpen {
            switch readState {
            case .header:
                let header: YamuxHeader
                do {
                    if headerScratch.isEmpty && bytes.count - offset >= YamuxHeader.size {
                        header = try YamuxHeader.decode(bytes, at: offset)
                        offset += YamuxHeader.size
                    } else {
                        let take = min(YamuxHeader.size - headerScratch.count, bytes.count - offset)
                        headerScratch.append(bytes.extracting(offset..<(offset + take)))
                        offset += take
                        guard headerScratch.count == YamuxHeader.size else { return }
                        header = try YamuxHeader.decode(headerScratch.span, at: 0)
                        headerScratch = []
                    }
                } catch {
                    fail(error)
                    return
                }
                handle(header, now: now)
            case .body(let streamID, let remaining, let deliver, let fin):
                let take = min(Int(remaining), bytes.count - offset)
                if deliver {
                    streams[streamID]?.receiveBuffer.append(bytes.extracting(offset..<(offset + take)))
                    signalReadable(streamID)
                }
                offset += take
                let left = remaining - UInt32(take)
                if left > 0 {
                    readState = .body(streamID: streamID, remaining: left, deliver: deliver, fin: fin)
                } else {
                    readState = .header
                    if fin && deliver { remoteFinished(streamID) }
                }
            }
        }
    }

    private mutating func handle(_ header: YamuxHeader, now: Instant) {
        switch header.type {
        case .ping:
            if header.flags.contains(.syn) {
                pendingPingReplies += 1
                guard pendingPingReplies <= configuration.maximumPendingPingReplies else { return fail(.pingFlood) }
                YamuxHeader(type: .ping, flags: .ack, streamID: 0, length: header.length).encode(into: &controlFrames)
            } else if header.flags.contains(.ack), let ping = outstandingPing, ping.opaque == header.length {
                outstandingPing = nil
                let measured = now - ping.sentAt
                roundTripTime = measured
                events.append(.roundTripTime(measured))
            }
        case .goAway:
            if !remoteGoingAway {
                remoteGoingAway = true
                events.append(.goAwayReceived(YamuxGoAwayCode(rawValue: header.length)))
            }
        case .data, .windowUpdate:
            handleStreamFrame(header, now: now)
        }
    }

    private mutating func handleStreamFrame(_ header: YamuxHeader, now: Instant) {
        let id = header.streamID
        let isData = header.type == .data
        if header.flags.contains(.syn) {
            guard acceptInboundStream(id, now: now) else {
                if isData { skipBody(header) }
                return
            }
        }
        guard streams[id] != nil else {
            // A frame for a stream that is gone (reset or closed while it was in flight):
            // nothing to do but skip its payload.
            if isData { skipBody(header) }
            return
        }
        if header.flags.contains(.ack), let state = streams[id], state.isOutbound, !state.acknowledged {
            streams[id]?.acknowledged = true
            unacknowledgedOutbound -= 1
        }
        if header.flags.contains(.rst) {
            removeStream(id)
            events.append(.reset(YamuxStreamID(id)))
            if isData { skipBody(header) }
            return
        }
        if isData {
            guard let state = streams[id] else { return }
            if state.remoteClosed && header.length > 0 { return fail(.dataAfterFin(id)) }
            guard header.length <= state.receiveCredit else { return fail(.receiveWindowExceeded(id)) }
            streams[id]?.receiveCredit -= header.length
            let fin = header.flags.contains(.fin)
            if header.length == 0 {
                if fin { remoteFinished(id) }
            } else {
                readState = .body(streamID: id, remaining: header.length, deliver: true, fin: fin)
            }
        } else {
            guard let window = streams[id]?.sendWindow else { return }
            let (sum, overflow) = window.addingReportingOverflow(header.length)
            guard !overflow else { return fail(.sendWindowOverflow(id)) }
            streams[id]?.sendWindow = sum
            if header.length > 0 { notifyWritableIfRoom(id) }
            if header.flags.contains(.fin) { remoteFinished(id) }
        }
    }

    /// Handles a SYN; returns whether the stream now exists.
    private mutating func acceptInboundStream(_ id: UInt32, now: Instant) -> Bool {
        let peerParity: UInt32 = role == .client ? 0 : 1
        guard id % 2 == peerParity, id > lastInboundID else {
            if streams[id] != nil { fail(.duplicateStream(id)) } else { fail(.invalidStreamID(id)) }
            return false
        }
        lastInboundID = id
        guard streams.count < configuration.maximumStreams else {
            YamuxHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0).encode(into: &controlFrames)
            return false
        }
        streams[id] = YamuxStream(id: id, isOutbound: false, now: now)
        YamuxHeader(type: .windowUpdate, flags: .ack, streamID: id, length: 0).encode(into: &controlFrames)
        events.append(.inboundStream(YamuxStreamID(id)))
        return true
    }

    private mutating func skipBody(_ header: YamuxHeader) {
        if header.length > 0 {
            readState = .body(streamID: header.streamID, remaining: header.length, deliver: false, fin: false)
        }
    }

    private mutating func signalReadable(_ id: UInt32) {
        guard let state = streams[id], !state.readableSignalled, !state.receiveBuffer.isEmpty else { return }
        streams[id]?.readableSignalled = true
        events.append(.readable(YamuxStreamID(id)))
    }

    private mutating func remoteFinished(_ id: UInt32) {
        guard let state = streams[id], !state.remoteClosed else { return }
        streams[id]?.remoteClosed = true
        events.append(.remoteClosedWrite(YamuxStreamID(id)))
        finishIfDone(id)
    }

    private mutating func finishIfDone(_ id: UInt32) {
        guard let state = streams[id], state.isFinished else { return }
        removeStream(id)
        events.append(.streamClosed(YamuxStreamID(id)))
    }

    private mutating func removeStream(_ id: UInt32) {
        guard let state = streams.removeValueReleasingEmptyStorage(forKey: id) else { return }
        if state.isOutbound && !state.acknowledged { unacknowledgedOutbound -= 1 }
        grantedBeyondInitialWindows -= UInt64(state.receiveWindow - YamuxConfiguration.initialWindow)
        blockedWriters.removeReleasingEmptyStorage(id)
    }

    private mutating func notifyWritableIfRoom(_ id: UInt32) {
        guard blockedWriters.contains(id), let state = streams[id], state.sendWindow > 0,
              dataFrames.count < configuration.maximumPendingTransmit
        else { return }
        blockedWriters.removeReleasingEmptyStorage(id)
        events.append(.writable(YamuxStreamID(id)))
    }

    /// Ends the session because the peer broke the protocol.
    private mutating func fail(_ error: YamuxProtocolError) {
        guard isOpen else { return }
        dataFrames.removeAll()
        YamuxHeader(type: .goAway, flags: [], streamID: 0, length: YamuxGoAwayCode.protocolError.rawValue)
            .encode(into: &controlFrames)
        shutDown(reason: .protocolViolation(error))
    }

    private mutating func shutDown(reason: YamuxCloseReason) {
        isOpen = false
        streams.removeAll()
        blockedWriters.removeAll()
        outstandingPing = nil
        events.append(.sessionClosed(reason))
    }

    // MARK: - Commands

    /// Opens a stream. The SYN goes out with the next `pollTransmit`; data may be written
    /// at once, before the peer acknowledges it.
    public mutating func openStream(now: Instant) throws(YamuxUsageError) -> YamuxStreamID {
        guard isOpen else { throw .sessionClosed }
        guard !remoteGoingAway else { throw .remoteGoingAway }
        guard streams.count < configuration.maximumStreams else { throw .tooManyStreams }
        guard unacknowledgedOutbound < configuration.maximumAckBacklog else { throw .ackBacklogFull }
        guard nextOutboundID <= UInt64(UInt32.max) else { throw .streamIDsExhausted }
        let id = UInt32(nextOutboundID)
        nextOutboundID += 2
        streams[id] = YamuxStream(id: id, isOutbound: true, now: now)
        unacknowledgedOutbound += 1
        YamuxHeader(type: .windowUpdate, flags: .syn, streamID: id, length: 0).encode(into: &controlFrames)
        return YamuxStreamID(id)
    }

    /// Frames as much of `bytes` as the stream's send window and the transmit limit allow;
    /// returns how many bytes were taken. After a short write, a `writable` event says when
    /// to try again.
    public mutating func write(
        _ stream: YamuxStreamID, _ bytes: Span<UInt8>, now: Instant
    ) throws(YamuxUsageError) -> Int {
        guard isOpen else { throw .sessionClosed }
        let id = stream.rawValue
        guard let state = streams[id] else { throw .unknownStream(stream) }
        guard !state.localClosed else { throw .writeAfterClose(stream) }
        let room = max(0, configuration.maximumPendingTransmit - dataFrames.count)
        let count = min(bytes.count, Int(state.sendWindow), room)
        if count < bytes.count { blockedWriters.insert(id) }
        guard count > 0 else { return 0 }
        var offset = 0
        while offset < count {
            let length = min(configuration.maximumFramePayload, count - offset)
            YamuxHeader(type: .data, flags: [], streamID: id, length: UInt32(length)).encode(into: &dataFrames)
            dataFrames.append(bytes.extracting(offset..<(offset + length)))
            offset += length
        }
        streams[id]?.sendWindow -= UInt32(count)
        return count
    }

    /// Moves up to `maximum` buffered bytes of `stream` to the end of `destination`.
    /// Reading frees receive window; the window update goes out with the next transmit.
    /// Once the peer has closed its side and everything was read, `read` returns
    /// `.endOfStream`; if this side has closed too, that read also ends the stream.
    public mutating func read(
        _ stream: YamuxStreamID, into destination: inout [UInt8], maximum: Int = .max, now: Instant
    ) throws(YamuxUsageError) -> YamuxReadResult {
        guard isOpen else { throw .sessionClosed }
        let id = stream.rawValue
        guard streams[id] != nil else { throw .unknownStream(stream) }
        let count = streams[id]?.receiveBuffer.read(into: &destination, maximum: maximum) ?? 0
        guard let state = streams[id] else { return .wouldBlock }
        if state.receiveBuffer.isEmpty { streams[id]?.readableSignalled = false }
        if count > 0 {
            streams[id]?.consumedSinceUpdate += UInt32(count)
            updateReceiveWindow(id, now: now)
            return .bytes(count)
        }
        if state.remoteClosed {
            finishIfDone(id)
            return .endOfStream
        }
        return .wouldBlock
    }

    /// Half-closes `stream`: sends FIN after the data already written. Closing twice is a
    /// no-op.
    public mutating func closeWrite(_ stream: YamuxStreamID, now: Instant) throws(YamuxUsageError) {
        guard isOpen else { throw .sessionClosed }
        let id = stream.rawValue
        guard let state = streams[id] else { throw .unknownStream(stream) }
        guard !state.localClosed else { return }
        streams[id]?.localClosed = true
        blockedWriters.removeReleasingEmptyStorage(id)
        YamuxHeader(type: .data, flags: .fin, streamID: id, length: 0).encode(into: &dataFrames)
        finishIfDone(id)
    }

    /// Aborts `stream` in both directions (RST) and forgets it.
    public mutating func reset(_ stream: YamuxStreamID, now: Instant) throws(YamuxUsageError) {
        guard isOpen else { throw .sessionClosed }
        let id = stream.rawValue
        guard streams[id] != nil else { throw .unknownStream(stream) }
        removeStream(id)
        YamuxHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0).encode(into: &controlFrames)
    }

    /// Sends a ping unless one is outstanding; its reply produces a `roundTripTime` event.
    public mutating func ping(now: Instant) throws(YamuxUsageError) {
        guard isOpen else { throw .sessionClosed }
        if outstandingPing == nil { sendPing(now: now) }
    }

    /// Closes the session: queued data is sent, then GoAway (normal). Streams end with it.
    public mutating func close(now: Instant) {
        guard isOpen else { return }
        YamuxHeader(type: .goAway, flags: [], streamID: 0, length: YamuxGoAwayCode.normal.rawValue)
            .encode(into: &dataFrames)
        shutDown(reason: .localClose)
    }

    private mutating func sendPing(now: Instant) {
        let opaque = nextPingOpaque
        nextPingOpaque &+= 1
        outstandingPing = (opaque, now)
        YamuxHeader(type: .ping, flags: .syn, streamID: 0, length: opaque).encode(into: &controlFrames)
    }

    /// Credits the peer with what the owner has read once half the window is consumed, and
    /// doubles the window when updates come faster than every four round trips.
    private mutating func updateReceiveWindow(_ id: UInt32, now: Instant) {
        guard let state = streams[id], !state.remoteClosed,
              state.consumedSinceUpdate >= state.receiveWindow / 2
        else { return }
        var growth: UInt32 = 0
        if let roundTripTime, state.receiveWindow < configuration.maximumReceiveWindow,
           now - state.lastWindowUpdate <= roundTripTime * 4 {
            let target = UInt32(min(UInt64(state.receiveWindow) * 2, UInt64(configuration.maximumReceiveWindow)))
            let wanted = target - state.receiveWindow
            if grantedBeyondInitialWindows + UInt64(wanted) <= configuration.connectionReceiveWindowBudget {
                growth = wanted
            }
        }
        let delta = state.consumedSinceUpdate + growth
        streams[id]?.receiveCredit += delta
        streams[id]?.receiveWindow += growth
        streams[id]?.consumedSinceUpdate = 0
        streams[id]?.lastWindowUpdate = now
        grantedBeyondInitialWindows += UInt64(growth)
        YamuxHeader(type: .windowUpdate, flags: [], streamID: id, length: delta).encode(into: &controlFrames)
    }

    // MARK: - Time

    public mutating func handleTimeout(now: Instant) {
        guard isOpen else { return }
        if let ping = outstandingPing {
            if now >= ping.sentAt + configuration.pingTimeout { shutDown(reason: .keepaliveTimeout) }
            return
        }
        if let interval = configuration.keepaliveInterval, now >= lastReceive + interval {
            sendPing(now: now)
        }
    }

    public var nextDeadline: Instant? {
        guard isOpen else { return nil }
        if let ping = outstandingPing { return ping.sentAt + configuration.pingTimeout }
        return configuration.keepaliveInterval.map { lastReceive + $0 }
    }

    // MARK: - Output

    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        var count = 0
        if !controlFrames.isEmpty {
            count += controlFrames.count
            buffer.append(contentsOf: controlFrames)
            controlFrames = []
            pendingPingReplies = 0
        }
        if !dataFrames.isEmpty {
            count += dataFrames.count
            if buffer.isEmpty {
                swap(&buffer, &dataFrames)
            } else {
                buffer.append(contentsOf: dataFrames)
            }
            dataFrames = []
            if isOpen && !blockedWriters.isEmpty {
                for id in blockedWriters.sorted() { notifyWritableIfRoom(id) }
            }
        }
        return count
    }

    public mutating func pollEvent() -> YamuxEvent? {
        events.popFirstReleasingEmptyStorage()
    }
}
