import DequeModule

/// One reliable, ordered, flow-controlled byte pipe between two peers, carried in NATS
/// messages as `NATSPipeFrame`s: the transport a Noise + Yamux `Connection` runs over in the
/// NATS tier, as it runs over a socket or a relayed stream.
///
/// ```
/// opener                                   acceptor
///   OPEN(window)            ──▶             (router accepts)   → inbound
///   opened ←                ◀──             ACCEPT(window)
///   DATA(seq 0, 1, …)       ◀─▶             DATA(seq 0, 1, …)
///   WINDOW(limit, sent)     ◀─▶             WINDOW(limit, sent)   (credit, keepalive)
///   CLOSE(seq n)            ◀─▶             CLOSE(seq m)          → closed
///   RESET(code)             ◀─▶             RESET(code)           → failed
/// ```
///
/// **Flow control.** Each side grants credit as an absolute byte count (`limit`: all bytes
/// the peer may ever have sent), first in OPEN/ACCEPT, then in WINDOW frames as its reader
/// consumes; `write` takes only bytes within the credit, so the sender never has more
/// unacknowledged bytes out than the receiver granted, and the receiver never buffers more
/// than `receiveWindow`. A sender past its credit is a protocol violation.
///
/// **Loss.** NATS core delivers one publisher's messages in order but may drop them under a
/// slow consumer. DATA and CLOSE carry sequence numbers; WINDOW carries how many sequenced
/// frames its sender has sent. A gap or duplicate fails the pipe (`sequenceGap`,
/// `duplicateFrame`) and resets it; there is no retransmission (see docs/nats.md). A lost
/// WINDOW is repaired by the next one (limits are absolute), a lost OPEN/ACCEPT by the open
/// timeout, a lost RESET by the idle timeout.
///
/// The pipe is driven by its router: frames in with `receive`, frames out with `pollFrame`.
public struct NATSPipe: Sendable {
    private enum State: Sendable {
        case opening(deadline: Instant)
        case open
        case done
    }

    /// The session.
    public let session: NATSPipeSessionID
    /// This node.
    public let local: PeerID
    /// The peer.
    public let remote: PeerID
    /// Whether this side sent OPEN.
    public let isOpener: Bool
    /// The configuration.
    public let configuration: NATSPipeConfiguration

    private var state: State
    private var events: Deque<NATSPipeEvent> = []
    private var latestInput: Instant
    private var lastReceiveAt: Instant
    private var lastSendAt: Instant

    // Sending.
    private var sendBuffer = ByteBuffer()
    private var sentBytes: UInt64 = 0
    private var sendLimit: UInt64 = 0
    private var sentFrames: UInt64 = 0
    private var writeClosed = false
    private var closeSent = false
    private var writeBlocked = false

    // Receiving.
    private var receiveBuffer = ByteBuffer()
    private var receivedBytes: UInt64 = 0
    private var consumedBytes: UInt64 = 0
    private var advertisedLimit: UInt64
    private var receivedFrames: UInt64 = 0
    private var remoteClosed = false
    private var endOfStreamRead = false

    // Control frames to send.
    private var openDue = false
    private var acceptDue = false
    private var windowDue = false
    private var resetDue: NATSPipeResetCode?

    /// A pipe that opens `session` to `remote`: OPEN is queued; `opened` follows the ACCEPT.
    public init(
        opening session: NATSPipeSessionID, local: PeerID, remote: PeerID, now: Instant,
        configuration: NATSPipeConfiguration = .init()
    ) {
        self.session = session
        self.local = local
        self.remote = remote
        self.isOpener = true
        self.configuration = configuration
        state = .opening(deadline: now + configuration.openTimeout)
        latestInput = now
        lastReceiveAt = now
        lastSendAt = now
        advertisedLimit = UInt64(max(1, configuration.receiveWindow))
        openDue = true
    }

    /// A pipe that accepts `session` from `remote`, which granted `window` bytes in its
    /// OPEN: ACCEPT is queued and the pipe is open. A window of 0 is refused.
    public init(
        accepting session: NATSPipeSessionID, from remote: PeerID, window: UInt32, local: PeerID, now: Instant,
        configuration: NATSPipeConfiguration = .init()
    ) throws(NATSPipeError) {
        guard window > 0 else { throw .invalidWindow }
        self.session = session
        self.local = local
        self.remote = remote
        self.isOpener = false
        self.configuration = configuration
        state = .open
        latestInput = now
        lastReceiveAt = now
        lastSendAt = now
        advertisedLimit = UInt64(max(1, configuration.receiveWindow))
        sendLimit = UInt64(window)
        acceptDue = true
    }

    // MARK: State

    /// Whether the pipe is open (ACCEPT sent or received) and not ended.
    public var isOpen: Bool { if case .open = state { true } else { false } }
    /// Whether the pipe ended (closed, reset or failed); it may still have a RESET to send.
    public var isDone: Bool { if case .done = state { true } else { false } }
    /// Whether the pipe ended, told the peer, and reported everything: its router drops it.
    public var isFinished: Bool { isDone && resetDue == nil && events.isEmpty }
    /// Unread received bytes.
    public var readableByteCount: Int { receiveBuffer.readableCount }
    /// How many bytes `write` would take now.
    public var writableByteCount: Int {
        guard case .open = state, !writeClosed else { return 0 }
        let credit = sendLimit - sentBytes - UInt64(sendBuffer.readableCount)
        return Int(min(credit, UInt64(max(0, configuration.maximumSendBuffer - sendBuffer.readableCount))))
    }
    /// Bytes written and not yet framed.
    public var bufferedOutboundByteCount: Int { sendBuffer.readableCount }

    // MARK: Input

    /// Feeds a frame of this session from the peer (the router matched session, sender and
    /// direction).
    public mutating func receive(_ frame: NATSPipeFrame, now: Instant) {
        latestInput = max(latestInput, now)
        switch state {
        case .done:
            return
        case .opening:
            lastReceiveAt = now
            switch frame.body {
            case .accept(let window):
                guard window > 0 else { return fail(.invalidWindow, telling: .protocolViolation) }
                sendLimit = UInt64(window)
                state = .open
                events.append(.opened)
                signalWritable()
            case .reset(let code):
                finish(.failed(code == .refused ? .refused : .remoteReset(code)))
            case .open: fail(.unexpectedFrame("OPEN"), telling: .protocolViolation)
            case .data: fail(.unexpectedFrame("DATA"), telling: .protocolViolation)
            case .window: fail(.unexpectedFrame("WINDOW"), telling: .protocolViolation)
            case .close: fail(.unexpectedFrame("CLOSE"), telling: .protocolViolation)
            }
        case .open:
            lastReceiveAt = now
            switch frame.body {
            case .data(let sequence, let payload):
                guard checkSequence(sequence) else { return }
                guard !remoteClosed else { return fail(.dataAfterClose, telling: .protocolViolation) }
                let total = receivedBytes + UInt64(payload.count)
                guard total <= advertisedLimit else {
                    return fail(.flowControlViolation(limit: advertisedLimit, received: total), telling: .protocolViolation)
                }
                receivedFrames += 1
                receivedBytes = total
                let wasEmpty = receiveBuffer.isEmpty
                receiveBuffer.append(payload)
                if wasEmpty { events.append(.readable) }
            case .window(let limit, let peerSentFrames):
                if peerSentFrames > receivedFrames {
                    return fail(.sequenceGap(expected: receivedFrames, received: peerSentFrames), telling: .protocolViolation)
                }
                if peerSentFrames < receivedFrames {
                    return fail(.duplicateFrame(expected: receivedFrames, received: peerSentFrames), telling: .protocolViolation)
                }
                if limit > sendLimit {
                    sendLimit = limit
                    signalWritable()
                }
            case .close(let sequence):
                guard checkSequence(sequence) else { return }
                guard !remoteClosed else { return fail(.unexpectedFrame("CLOSE"), telling: .protocolViolation) }
                receivedFrames += 1
                remoteClosed = true
                events.append(.remoteClosedWrite)
                if receiveBuffer.isEmpty { events.append(.readable) }
            case .reset(let code):
                finish(.failed(.remoteReset(code)))
            case .open:
                fail(.unexpectedFrame("OPEN"), telling: .protocolViolation)
            case .accept:
                fail(.unexpectedFrame("ACCEPT"), telling: .protocolViolation)
            }
        }
    }

    /// Acts on the open and idle timeouts and the keepalive.
    public mutating func handleTimeout(now: Instant) {
        latestInput = max(latestInput, now)
        switch state {
        case .done:
            return
        case .opening(let deadline):
            if now >= deadline { fail(.openTimeout, telling: .timeout) }
        case .open:
            if now >= lastReceiveAt + configuration.idleTimeout {
                fail(.idleTimeout, telling: .timeout)
            } else if now >= lastSendAt + configuration.keepaliveInterval {
                windowDue = true
            }
        }
    }

    /// The NATS connection ended: the pipe fails with `transportClosed` (nothing to send).
    public mutating func transportClosed(now: Instant) {
        guard !isDone else { return }
        finish(.failed(.transportClosed))
    }

    // MARK: Commands

    /// Takes as many of `bytes` as the peer's credit and the send buffer allow; a short
    /// write (0 while opening) is followed by `writable`.
    public mutating func write(_ bytes: Span<UInt8>, now: Instant) throws(NATSPipeUsageError) -> Int {
        latestInput = max(latestInput, now)
        if isDone { throw .closed }
        if writeClosed { throw .writeClosed }
        let count = min(bytes.count, writableByteCount)
        if count > 0 { sendBuffer.append(bytes.extracting(0..<count)) }
        if count < bytes.count { writeBlocked = true }
        return count
    }

    /// Moves up to `maximum` received bytes to the end of `destination`. Reading grants the
    /// peer more credit (a WINDOW goes out once half the window was read).
    public mutating func read(
        into destination: inout [UInt8], maximum: Int = .max, now: Instant
    ) throws(NATSPipeUsageError) -> NATSPipeReadResult {
        latestInput = max(latestInput, now)
        if isDone && !endOfStreamRead { throw .closed }
        guard maximum > 0 else { return .bytes(0) }
        let count = receiveBuffer.read(into: &destination, maximum: maximum)
        if count > 0 {
            consumedBytes += UInt64(count)
            let window = UInt64(max(1, configuration.receiveWindow))
            if !remoteClosed && consumedBytes + window - advertisedLimit >= window / 2 { windowDue = true }
            return .bytes(count)
        }
        guard remoteClosed else { return .wouldBlock }
        if !endOfStreamRead {
            endOfStreamRead = true
            finishIfClosed()
        }
        return .endOfStream
    }

    /// Half-closes: CLOSE goes out after the bytes already written.
    public mutating func closeWrite(now: Instant) throws(NATSPipeUsageError) {
        latestInput = max(latestInput, now)
        if isDone { throw .closed }
        if writeClosed { throw .writeClosed }
        writeClosed = true
    }

    /// Resets the pipe: RESET goes to the peer, no event follows, the pipe is gone.
    public mutating func reset(_ code: NATSPipeResetCode = .cancelled, now: Instant) throws(NATSPipeUsageError) {
        latestInput = max(latestInput, now)
        if isDone { throw .closed }
        state = .done
        resetDue = code
        dropBuffers()
    }

    // MARK: Output

    /// Appends the next frame to `buffer` (one NATS message payload of at most
    /// `maximumPayload` bytes); false when there is nothing to send.
    public mutating func pollFrame(into buffer: inout [UInt8], maximumPayload: Int) -> Bool {
        if let code = resetDue {
            resetDue = nil
            frame(.reset(code)).encode(into: &buffer)
            return true
        }
        switch state {
        case .done:
            return false
        case .opening:
            guard openDue else { return false }
            openDue = false
            frame(.open(window: UInt32(advertisedLimit))).encode(into: &buffer)
            lastSendAt = latestInput
            return true
        case .open:
            break
        }
        if acceptDue {
            acceptDue = false
            frame(.accept(window: UInt32(advertisedLimit))).encode(into: &buffer)
        } else if windowDue {
            windowDue = false
            if !remoteClosed { advertisedLimit = consumedBytes + UInt64(max(1, configuration.receiveWindow)) }
            frame(.window(limit: advertisedLimit, sentFrames: sentFrames)).encode(into: &buffer)
        } else if !sendBuffer.isEmpty, sentBytes < sendLimit {
            let room = min(configuration.maximumFramePayload, maximumPayload - NATSPipeFrame.dataOverhead(peerIDLength: local.bytes.count))
            let count = Int(min(UInt64(max(0, min(room, sendBuffer.readableCount))), sendLimit - sentBytes))
            guard count > 0 else { return false }
            NATSPipeFrame.encodeDataHeader(session: session, sender: local, fromOpener: isOpener, sequence: sentFrames, into: &buffer)
            _ = sendBuffer.read(into: &buffer, maximum: count)
            sentBytes += UInt64(count)
            sentFrames += 1
            signalWritable()
        } else if writeClosed && sendBuffer.isEmpty && !closeSent {
            frame(.close(sequence: sentFrames)).encode(into: &buffer)
            sentFrames += 1
            closeSent = true
            finishIfClosed()
        } else {
            return false
        }
        lastSendAt = latestInput
        return true
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> NATSPipeEvent? { events.popFirst() }

    /// The open deadline, or the earlier of the idle deadline and the next keepalive.
    public var nextDeadline: Instant? {
        switch state {
        case .done: nil
        case .opening(let deadline): deadline
        case .open:
            windowDue
                ? lastReceiveAt + configuration.idleTimeout
                : min(lastReceiveAt + configuration.idleTimeout, lastSendAt + configuration.keepaliveInterval)
        }
    }

    // MARK: Internals

    private func frame(_ body: NATSPipeFrame.Body) -> NATSPipeFrame {
        NATSPipeFrame(session: session, sender: local, fromOpener: isOpener, body: body)
    }

    /// Whether `sequence` is the next one; fails the pipe otherwise.
    private mutating func checkSequence(_ sequence: UInt64) -> Bool {
        if sequence == receivedFrames { return true }
        if sequence > receivedFrames {
            fail(.sequenceGap(expected: receivedFrames, received: sequence), telling: .protocolViolation)
        } else {
            fail(.duplicateFrame(expected: receivedFrames, received: sequence), telling: .protocolViolation)
        }
        return false
    }

    private mutating func signalWritable() {
        if writeBlocked && writableByteCount > 0 {
            writeBlocked = false
            events.append(.writable)
        }
    }

    private mutating func finishIfClosed() {
        if closeSent && remoteClosed && endOfStreamRead, case .open = state { finish(.closed) }
    }

    private mutating func fail(_ error: NATSPipeError, telling code: NATSPipeResetCode) {
        resetDue = code
        finish(.failed(error))
    }

    private mutating func finish(_ event: NATSPipeEvent) {
        state = .done
        if case .failed = event { dropBuffers() }
        events.append(event)
    }

    private mutating func dropBuffers() {
        sendBuffer.removeAll()
        receiveBuffer.removeAll()
    }
}
