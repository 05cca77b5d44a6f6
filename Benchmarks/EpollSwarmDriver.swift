#if os(Linux)
import CEpoll
import Glibc
import TraverseCore

/// Drives many client `Swarm`s on the calling thread over one epoll instance: the relay
/// suite's thousands of peers, which `Node`s cannot be (each runs a libuv loop on a thread of
/// its own, with descriptors of its own).
///
/// It does for many swarms what `NodeRuntime` does for one, for outbound TCP only: sockets
/// are non-blocking with `TCP_NODELAY`, bound first to the swarm's source address when it
/// has one (so the clients can be spread over 127.0.0.0/8 and a relay's per-IP limits see
/// many addresses); bytes a socket cannot take at once are kept, and the swarm is told its
/// transport is blocked until they are written. Listening, name lookups and datagrams are
/// refused: the clients only dial loopback addresses. `onEvent` gets every swarm event and
/// may give swarms new commands with `command`.
///
/// Not thread-safe: create, command and run it on one thread.
final class EpollSwarmDriver {
    /// The swarms, by the index `addSwarm` returned.
    private(set) var swarms: [Swarm] = []
    /// Called for every event of every swarm while the driver runs (`index` names the swarm).
    var onEvent: (_ driver: EpollSwarmDriver, _ index: Int, _ event: SwarmEvent) -> Void = { _, _, _ in }

    private var sourceAddresses: [IPv4Address?] = []
    private var deadlines: [Instant?] = []
    /// No swarm's deadline is earlier (it may be earlier than every deadline still set).
    private var earliestDeadline: Instant?
    private var sockets: [Int32: Socket] = [:]
    private var descriptors: [SocketKey: Int32] = [:]
    private var generation: UInt32 = 0
    private let epoll: Int32
    private let readBuffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
    private var transmitBuffer: [UInt8] = []
    private var isDriving = false
    private var queuedDrives: [Int] = []

    /// A swarm's connection.
    private struct SocketKey: Hashable {
        let swarm: Int
        let connection: ConnectionID
    }

    /// A socket and what the driver holds for it.
    private struct Socket {
        let key: SocketKey
        /// Tells an event for this socket from one for an earlier socket with the same
        /// descriptor.
        let generation: UInt32
        var isConnecting = true
        var isReading = true
        /// Bytes the socket has not taken yet.
        var pending: [UInt8] = []
        /// The swarm asked for the socket to close once `pending` is written.
        var closesAfterFlush = false
    }

    init() throws {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw BenchmarkFailure("epoll_create1: \(String(cString: strerror(errno)))") }
    }

    deinit {
        closeAll()
        close(epoll)
        readBuffer.deallocate()
    }

    /// The monotonic clock, as the swarms' `Instant`.
    func now() -> Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    /// Adds a swarm for `identityKey` whose sockets connect from `source` (any port) when it
    /// is given; returns its index.
    func addSwarm(identityKey: PrivateKey, configuration: SwarmConfiguration, source: IPv4Address?) throws -> Int {
        swarms.append(try Swarm(
            identityKey: identityKey, configuration: configuration, now: now(), using: SecureRandomNumberGenerator()))
        sourceAddresses.append(source)
        deadlines.append(nil)
        return swarms.count - 1
    }

    /// Gives swarm `index` a command (`body` gets the swarm and the time), then performs
    /// what it asks.
    func command(_ index: Int, _ body: (inout Swarm, Instant) -> Void) {
        body(&swarms[index], now())
        drive(index)
    }

    /// Runs the sockets and timers until `done` returns true (checked after each batch of
    /// socket events and timeouts) or `timeout` passes; returns whether `done` held.
    func run(timeout: Duration, until done: () -> Bool) throws -> Bool {
        let end = now() + timeout
        var events = [epoll_event](repeating: epoll_event(), count: 1024)
        while true {
            var current = now()
            fireTimers(current)
            if done() { return true }
            current = now()
            guard current < end else { return false }
            var wait = end - current
            if let earliestDeadline { wait = min(wait, max(earliestDeadline - current, .zero)) }
            let milliseconds = Int32(clamping: (wait.nanosecondsClamped + 999_999) / 1_000_000)
            let count = epoll_wait(epoll, &events, Int32(events.count), milliseconds)
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchmarkFailure("epoll_wait: \(String(cString: strerror(errno)))")
            }
            for event in events.prefix(Int(count)) { handle(event) }
        }
    }

    /// Closes every socket at once (no GoAway): the swarms are abandoned.
    func closeAll() {
        for descriptor in sockets.keys { close(descriptor) }
        sockets.removeAll()
        descriptors.removeAll()
    }

    /// The sockets open now.
    var socketCount: Int { sockets.count }

    // MARK: - Driving a swarm

    /// Performs everything swarm `index` has for the driver and the application until it has
    /// nothing more, then notes its next deadline. A command given from `onEvent` drives its
    /// swarm once the current one is done.
    private func drive(_ index: Int) {
        if isDriving {
            queuedDrives.append(index)
            return
        }
        isDriving = true
        defer { isDriving = false }
        var next: Int? = index
        while let current = next {
            driveOnce(current)
            next = queuedDrives.popLast()
        }
    }

    private func driveOnce(_ index: Int) {
        var progressed = true
        while progressed {
            progressed = false
            while true {
                transmitBuffer.removeAll(keepingCapacity: true)
                guard let connection = swarms[index].pollTransmit(into: &transmitBuffer) else { break }
                progressed = true
                send(SocketKey(swarm: index, connection: connection))
            }
            while let action = swarms[index].pollAction() {
                perform(action, swarm: index)
                progressed = true
            }
            while let event = swarms[index].pollEvent() {
                onEvent(self, index, event)
                progressed = true
            }
        }
        let deadline = swarms[index].nextDeadline
        deadlines[index] = deadline
        if let deadline, earliestDeadline.map({ deadline < $0 }) ?? true { earliestDeadline = deadline }
    }

    private func perform(_ action: SwarmAction, swarm index: Int) {
        let now = now()
        switch action {
        case .connect(let connection, let remote, _):
            if let failure = connect(SocketKey(swarm: index, connection: connection), to: remote) {
                swarms[index].connectFailed(connection, failure, now: now)
            }
        case .close(let connection):
            let key = SocketKey(swarm: index, connection: connection)
            guard let descriptor = descriptors[key] else { return }
            if sockets[descriptor]?.pending.isEmpty ?? true {
                closeSocket(descriptor)
            } else {
                sockets[descriptor]?.closesAfterFlush = true
                sockets[descriptor]?.isReading = false
                updateInterest(descriptor)
            }
        case .pauseReading(let connection), .resumeReading(let connection):
            guard let descriptor = descriptors[SocketKey(swarm: index, connection: connection)] else { return }
            if case .pauseReading = action { sockets[descriptor]?.isReading = false } else { sockets[descriptor]?.isReading = true }
            updateInterest(descriptor)
        case .listen(let listener, _):
            swarms[index].listenerFailed(listener, .other("the benchmark driver does not listen"), now: now)
        case .closeListener:
            break
        case .lookUpHost(let lookup, _, _):
            swarms[index].hostLookupCompleted(lookup, .failure(.nameNotFound), now: now)
        case .sendDatagram(let lookup, _, _):
            swarms[index].datagramFailed(lookup, .other("the benchmark driver sends no datagrams"), now: now)
        }
    }

    /// Calls `handleTimeout` on every swarm whose deadline has come, and finds the earliest
    /// deadline left.
    private func fireTimers(_ now: Instant) {
        guard let earliest = earliestDeadline, earliest <= now else { return }
        earliestDeadline = nil
        for index in swarms.indices {
            guard let deadline = deadlines[index] else { continue }
            if deadline <= now {
                swarms[index].handleTimeout(now: now)
                drive(index)
            } else if earliestDeadline.map({ deadline < $0 }) ?? true {
                earliestDeadline = deadline
            }
        }
    }

    // MARK: - Sockets

    /// Opens a non-blocking socket to `remote` (from the swarm's source address) and starts
    /// connecting; returns the failure when it cannot even start.
    private func connect(_ key: SocketKey, to remote: SocketAddress) -> TransportFailure? {
        guard case .ipv4(let remoteAddress, let port) = remote else { return .other("the benchmark driver dials IPv4 only") }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return Self.failure(errno) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let source = sourceAddresses[key.swarm] {
            var local = Self.socketAddress(source, port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let code = errno
                close(descriptor)
                return Self.failure(code)
            }
        }
        var destination = Self.socketAddress(remoteAddress, port: port)
        let status = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 || errno == EINPROGRESS else {
            let code = errno
            close(descriptor)
            return Self.failure(code)
        }
        generation &+= 1
        sockets[descriptor] = Socket(key: key, generation: generation)
        descriptors[key] = descriptor
        var event = epoll_event()
        event.events = EPOLLOUT.rawValue
        event.data.u64 = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: descriptor))
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0 else {
            let code = errno
            forget(descriptor)
            return Self.failure(code)
        }
        return nil
    }

    private func handle(_ event: epoll_event) {
        let descriptor = Int32(bitPattern: UInt32(truncatingIfNeeded: event.data.u64))
        guard let socket = sockets[descriptor], socket.generation == UInt32(truncatingIfNeeded: event.data.u64 >> 32) else {
            return
        }
        let key = socket.key
        let flags = event.events
        let failed = flags & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
        if socket.isConnecting {
            guard flags & EPOLLOUT.rawValue != 0 || failed else { return }
            finishConnecting(descriptor, key: key)
            drive(key.swarm)
            return
        }
        if flags & EPOLLOUT.rawValue != 0 || (failed && !socket.pending.isEmpty) {
            flush(descriptor)
        }
        // A flush may have closed the socket, and a paused socket is read only to learn
        // that it failed.
        if let current = sockets[descriptor], current.generation == socket.generation,
           (flags & EPOLLIN.rawValue != 0 && current.isReading) || failed {
            readOnce(descriptor, key: key)
        }
        drive(key.swarm)
    }

    private func finishConnecting(_ descriptor: Int32, key: SocketKey) {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { code = errno }
        guard code == 0 else {
            forget(descriptor)
            swarms[key.swarm].connectFailed(key.connection, Self.failure(code), now: now())
            return
        }
        var local = sockaddr_in()
        var localLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &localLength) }
        }
        sockets[descriptor]?.isConnecting = false
        updateInterest(descriptor)
        let localAddress = SocketAddress.ipv4(
            IPv4Address(value: UInt32(bigEndian: local.sin_addr.s_addr)), port: UInt16(bigEndian: local.sin_port))
        swarms[key.swarm].connected(key.connection, local: localAddress, now: now())
    }

    /// Reads what the socket has (up to the buffer) and hands it to the swarm; reports the
    /// end of the connection.
    private func readOnce(_ descriptor: Int32, key: SocketKey) {
        guard let socket = sockets[descriptor] else { return }
        let count = read(descriptor, readBuffer.baseAddress, readBuffer.count)
        if count > 0 {
            // A socket closing after a flush reports nothing more.
            guard !socket.closesAfterFlush else { return }
            swarms[key.swarm].received(key.connection, UnsafeBufferPointer(rebasing: readBuffer[0..<count]).span, now: now())
            return
        }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        let failure = count < 0 ? Self.failure(errno) : nil
        forget(descriptor)
        if !socket.closesAfterFlush { swarms[key.swarm].transportClosed(key.connection, failure, now: now()) }
    }

    /// Writes the bytes `pollTransmit` left in `transmitBuffer` to the connection's socket,
    /// keeping what it does not take.
    private func send(_ key: SocketKey) {
        guard let descriptor = descriptors[key], var socket = sockets[descriptor] else { return }
        if !socket.pending.isEmpty || socket.isConnecting {
            socket.pending += transmitBuffer
            sockets[descriptor] = socket
            return
        }
        let written = transmitBuffer.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written < 0 && errno != EAGAIN && errno != EINTR {
            // The read side reports the end of the connection.
            return
        }
        let taken = max(written, 0)
        guard taken < transmitBuffer.count else { return }
        sockets[descriptor]?.pending = Array(transmitBuffer[taken...])
        updateInterest(descriptor)
        swarms[key.swarm].transportBlocked(key.connection, now: now())
    }

    /// Writes pending bytes; once none are left, the swarm may send again (or the socket
    /// closes, if it was asked to).
    private func flush(_ descriptor: Int32) {
        guard var socket = sockets[descriptor], !socket.pending.isEmpty else { return }
        let written = socket.pending.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            if socket.closesAfterFlush { closeSocket(descriptor) }
            return
        }
        socket.pending.removeFirst(written)
        sockets[descriptor] = socket
        guard socket.pending.isEmpty else { return }
        if socket.closesAfterFlush {
            closeSocket(descriptor)
            return
        }
        updateInterest(descriptor)
        swarms[socket.key.swarm].transportUnblocked(socket.key.connection, now: now())
    }

    private func updateInterest(_ descriptor: Int32) {
        guard let socket = sockets[descriptor] else { return }
        var event = epoll_event()
        var flags: UInt32 = 0
        if socket.isReading && !socket.isConnecting { flags |= EPOLLIN.rawValue }
        if socket.isConnecting || !socket.pending.isEmpty { flags |= EPOLLOUT.rawValue }
        event.events = flags
        event.data.u64 = UInt64(socket.generation) << 32 | UInt64(UInt32(bitPattern: descriptor))
        _ = epoll_ctl(epoll, EPOLL_CTL_MOD, descriptor, &event)
    }

    /// Closes a socket the swarm gave up (nothing more is reported for it).
    private func closeSocket(_ descriptor: Int32) {
        forget(descriptor)
    }

    private func forget(_ descriptor: Int32) {
        guard let socket = sockets.removeValue(forKey: descriptor) else { return }
        descriptors[socket.key] = nil
        close(descriptor)
    }

    private static func socketAddress(_ address: IPv4Address, port: UInt16) -> sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = port.bigEndian
        result.sin_addr.s_addr = address.value.bigEndian
        return result
    }

    private static func failure(_ code: Int32) -> TransportFailure {
        switch code {
        case ECONNREFUSED: .connectionRefused
        case ETIMEDOUT: .timedOut
        case ENETUNREACH, EHOSTUNREACH: .unreachable
        case ECONNRESET, EPIPE: .connectionReset
        case EADDRINUSE: .addressInUse
        case EADDRNOTAVAIL: .addressNotAvailable
        default: .other(String(cString: strerror(code)))
        }
    }
}
#endif
