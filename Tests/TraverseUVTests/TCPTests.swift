import Testing
import TraverseCore
@testable import TraverseUV

@Suite struct TCPTests {
    struct Endpoints: Sendable, Equatable {
        var listener: SocketAddress
        var clientLocal: SocketAddress
        var clientRemote: SocketAddress
        var serverLocal: SocketAddress
        var serverRemote: SocketAddress
        var echoed: [UInt8]
    }

    /// Listens on `address`, connects to it and echoes one message; reports the endpoints.
    func connectAndEcho(on address: SocketAddress) async throws -> Endpoints {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        return try await onLoop(loop) { finish in
            var server: TCPSocket?
            let listener = try loop.listenTCP(on: address) { socket in
                server = socket
                socket.onRead = { bytes in socket.write(Array(bytes)) }
                socket.startReading()
            }
            loop.connectTCP(to: listener.localAddress) { result in
                guard case .success(let client) = result else {
                    Issue.record("connect failed: \(result)")
                    return
                }
                var echoed: [UInt8] = []
                client.onRead = { bytes in
                    echoed.append(contentsOf: bytes)
                    guard echoed.count == 5, let server else { return }
                    finish(Endpoints(
                        listener: listener.localAddress, clientLocal: client.localAddress,
                        clientRemote: client.remoteAddress, serverLocal: server.localAddress,
                        serverRemote: server.remoteAddress, echoed: echoed))
                }
                client.startReading()
                client.write(Array("hello".utf8))
            }
        }
    }

    @Test func listensOnAnEphemeralPortAndConnectsOverIPv4() async throws {
        let endpoints = try await connectAndEcho(on: loopbackIPv4)
        #expect(endpoints.listener.port != 0)
        #expect(endpoints.listener == loopbackIPv4.with(port: endpoints.listener.port))
        #expect(endpoints.clientRemote == endpoints.listener)
        #expect(endpoints.serverLocal == endpoints.listener)
        #expect(endpoints.serverRemote == endpoints.clientLocal)
        #expect(endpoints.echoed == Array("hello".utf8))
    }

    @Test(.enabled(if: hasIPv6Loopback, "this host has no ::1"))
    func connectsOverIPv6Loopback() async throws {
        let endpoints = try await connectAndEcho(on: loopbackIPv6)
        #expect(endpoints.listener.isIPv6)
        #expect(endpoints.clientRemote == endpoints.listener)
        #expect(endpoints.serverRemote == endpoints.clientLocal)
        #expect(endpoints.echoed == Array("hello".utf8))
    }

    @Test func connectingToAClosedPortIsRefused() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let result: Result<SocketAddress, SocketError> = try await onLoop(loop) { finish in
            // A port that was just free: listen, then close (the descriptor closes at once).
            let listener = try loop.listenTCP(on: loopbackIPv4) { _ in }
            let address = listener.localAddress
            listener.close()
            listener.close()
            loop.connectTCP(to: address) { result in finish(result.map(\.remoteAddress)) }
        }
        #expect(result == .failure(.connectionRefused))
        #expect(SocketError.connectionRefused.description == "connection refused")
    }

    @Test func aCancelledAttemptNeverCompletes() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (completions, released) = try await onLoop(loop) { finish in
            var completions = 0
            let listener = try loop.listenTCP(on: loopbackIPv4) { socket in socket.close() }
            let attempt = loop.connectTCP(to: listener.localAddress) { _ in completions += 1 }
            attempt.cancel()
            attempt.cancel()
            // A failing attempt (bad local address) cancelled before its deferred report.
            let failing = loop.connectTCP(to: listener.localAddress, from: loopbackIPv6.with(port: 1)) { _ in
                completions += 1
            }
            failing.cancel()
            let weakAttempt = WeakReference(attempt)
            loop.scheduleTimer(at: loop.now() + .milliseconds(20)) {
                finish((completions, weakAttempt.object == nil))
            }
        }
        #expect(completions == 0)
        #expect(released, "a cancelled attempt is let go once its handle closed")
    }

    @Test func aDialMayUseTheListeningPortAsItsSourcePort() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (ownPort, seenPort, dialLocal) = try await onLoop(loop) { finish in
            let own = try loop.listenTCP(on: loopbackIPv4) { _ in }
            var accepted: TCPSocket?
            let target = try loop.listenTCP(on: loopbackIPv4) { socket in
                accepted = socket
                finish((own.localAddress.port, socket.remoteAddress.port, accepted?.remoteAddress))
            }
            loop.connectTCP(to: target.localAddress, from: own.localAddress) { result in
                if case .failure(let error) = result { Issue.record("dial from the listening port: \(error)") }
            }
        }
        #expect(seenPort == ownPort)
        #expect(dialLocal == loopbackIPv4.with(port: ownPort))
    }

    @Test func twoListenersShareOnePort() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (samePort, acceptedBySecond) = try await onLoop(loop) { finish in
            let first = try loop.listenTCP(on: loopbackIPv4) { _ in }
            let second = try loop.listenTCP(on: first.localAddress) { _ in finish((true, true)) }
            guard first.localAddress == second.localAddress else {
                finish((false, false))
                return
            }
            // With the first closed, the shared port still accepts through the second.
            first.close()
            loop.connectTCP(to: second.localAddress) { _ in }
        }
        #expect(samePort)
        #expect(acceptedBySecond)
    }

    @Test func peerEndOfStreamClosesCleanly() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (closes, afterClose): ([SocketError?], Bool) = try await onLoop(loop) { finish in
            var closes: [SocketError?] = []
            var server: TCPSocket?
            let listener = try loop.listenTCP(on: loopbackIPv4) { socket in
                server = socket
                socket.onClose = { error in
                    closes.append(error)
                    // Closing again and writing after the close are harmless.
                    socket.close()
                    socket.write([1, 2, 3])
                    loop.scheduleTimer(at: loop.now() + .milliseconds(5)) {
                        finish((closes, server?.onRead == nil))
                    }
                }
                socket.onRead = { _ in }
                socket.startReading()
            }
            loop.connectTCP(to: listener.localAddress) { result in
                guard case .success(let client) = result else { return }
                var ownCloses = 0
                client.onClose = { _ in ownCloses += 1 }
                client.close()
                client.close()
                if ownCloses != 0 { Issue.record("onClose ran after a local close") }
            }
        }
        #expect(closes == [nil])
        #expect(afterClose, "closing drops the callbacks")
    }

    @Test func closeAfterFlushDeliversEverythingThenEndOfStream() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let total = 4 << 20
        let pattern = StreamPattern(seed: 7)
        let (received, intact, close): (Int, Bool, SocketError??) = try await onLoop(loop) { finish in
            let listener = try loop.listenTCP(on: loopbackIPv4) { socket in
                var offset = 0
                while offset < total {
                    socket.write(pattern.chunk(from: offset, count: 65_536))
                    offset += 65_536
                }
                socket.closeAfterFlush()
                socket.closeAfterFlush()
                socket.write([0])
            }
            loop.connectTCP(to: listener.localAddress) { result in
                guard case .success(let client) = result else { return }
                var received = 0
                var intact = true
                client.onRead = { bytes in
                    intact = intact && pattern.matches(bytes, at: received)
                    received += bytes.count
                }
                client.onClose = { error in finish((received, intact, .some(error))) }
                client.startReading()
            }
        }
        #expect(received == total)
        #expect(intact)
        #expect(close == .some(nil))
    }

    /// One side of the transfer: writes its stream respecting backpressure, checks the
    /// stream it receives, and pauses reading every MiB.
    final class TransferSide {
        static let total = 16 << 20
        static let chunkSize = 65_536
        static let pauseEvery = 1 << 20

        let loop: EventLoop
        let socket: TCPSocket
        let outgoing: StreamPattern
        let incoming: StreamPattern
        var sent = 0
        var received = 0
        var isIntact = true
        var timesNotWritable = 0
        var writableCalls = 0
        var pauses = 0
        var onProgress: () -> Void = {}

        init(loop: EventLoop, socket: TCPSocket, outgoing: StreamPattern, incoming: StreamPattern) {
            self.loop = loop
            self.socket = socket
            self.outgoing = outgoing
            self.incoming = incoming
        }

        var isDone: Bool { sent == Self.total && received == Self.total }

        func start() {
            socket.onRead = { [unowned self] bytes in didRead(bytes) }
            socket.onWritable = { [unowned self] in
                writableCalls += 1
                writeWhileWritable()
            }
            socket.onClose = { error in Issue.record("transfer socket closed: \(String(describing: error))") }
            socket.startReading()
            socket.startReading()
            writeWhileWritable()
        }

        func writeWhileWritable() {
            while sent < Self.total, socket.isWritable {
                let count = min(Self.chunkSize, Self.total - sent)
                socket.write(outgoing.chunk(from: sent, count: count))
                sent += count
            }
            if !socket.isWritable { timesNotWritable += 1 }
            onProgress()
        }

        func didRead(_ bytes: UnsafeRawBufferPointer) {
            isIntact = isIntact && incoming.matches(bytes, at: received)
            let before = received
            received += bytes.count
            if received / Self.pauseEvery != before / Self.pauseEvery, received < Self.total {
                pauses += 1
                socket.stopReading()
                socket.stopReading()
                loop.scheduleTimer(at: loop.now() + .milliseconds(2)) { [unowned self] in socket.startReading() }
            }
            onProgress()
        }
    }

    /// Both sides of the transfer; reports once both have sent and received everything.
    final class Transfer {
        let loop: EventLoop
        let finish: (TransferReport) -> Void
        var sides: [TransferSide] = []
        var isFinished = false

        init(loop: EventLoop, finish: @escaping (TransferReport) -> Void) {
            self.loop = loop
            self.finish = finish
        }

        func add(_ socket: TCPSocket, sending: StreamPattern, receiving: StreamPattern) {
            let side = TransferSide(loop: loop, socket: socket, outgoing: sending, incoming: receiving)
            // Weak: the sides must not keep the transfer (which holds them) alive.
            side.onProgress = { [weak self] in self?.progress() }
            sides.append(side)
            side.start()
        }

        func progress() {
            guard !isFinished, sides.count == 2, sides.allSatisfy(\.isDone) else { return }
            isFinished = true
            finish(TransferReport(
                received: sides.map(\.received), intact: sides.map(\.isIntact),
                timesNotWritable: sides.map(\.timesNotWritable), writableCalls: sides.map(\.writableCalls),
                pauses: sides.map(\.pauses)))
            for side in sides { side.socket.close() }
        }
    }

    struct TransferReport: Sendable {
        var received: [Int]
        var intact: [Bool]
        var timesNotWritable: [Int]
        var writableCalls: [Int]
        var pauses: [Int]
    }

    @Test func transfersSixteenMebibytesEachWayUnderBackpressure() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let toServer = StreamPattern(seed: 1)
        let toClient = StreamPattern(seed: 2)
        let report: TransferReport = try await onLoop(loop, timeout: .seconds(20)) { finish in
            let transfer = Transfer(loop: loop, finish: finish)
            let listener = try loop.listenTCP(on: loopbackIPv4) { socket in
                transfer.add(socket, sending: toClient, receiving: toServer)
            }
            loop.connectTCP(to: listener.localAddress) { result in
                guard case .success(let socket) = result else {
                    Issue.record("connect failed: \(result)")
                    return
                }
                transfer.add(socket, sending: toServer, receiving: toClient)
            }
        }
        #expect(report.received == [TransferSide.total, TransferSide.total])
        #expect(report.intact == [true, true])
        #expect(report.pauses == [15, 15])
        // Each writer outran the kernel buffers and waited for onWritable.
        #expect(report.timesNotWritable.allSatisfy { $0 > 0 })
        #expect(report.writableCalls.allSatisfy { $0 > 0 })
    }
}
