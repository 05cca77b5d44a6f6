import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

@Suite struct EventLoopTests {
    @Test func executeRunsOnTheLoopThreadInSubmissionOrderFromManyThreads() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        #expect(!loop.inLoopThread)
        let record = LoopBound<[(thread: Int, sequence: Int)]>([])
        let onLoopThread = LoopBound(true)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for sequence in 0..<500 {
                loop.execute {
                    onLoopThread.value = onLoopThread.value && loop.inLoopThread
                    record.value.append((thread, sequence))
                }
            }
        }
        // FIFO: once this runs, everything submitted before it has run.
        let entries: [[Int]] = try await onLoop(loop) { finish in
            var perThread = [[Int]](repeating: [], count: 4)
            for entry in record.value { perThread[entry.thread].append(entry.sequence) }
            finish(perThread)
        }
        #expect(entries == [[Int]](repeating: Array(0..<500), count: 4))
        #expect(try await onLoop(loop) { finish in finish(onLoopThread.value) })
    }

    @Test func nowIsMonotonic() throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let first = loop.now()
        let second = loop.now()
        #expect(second >= first)
        #expect(first > .zero)
    }

    @Test func shutdownIsIdempotentAndDropsLaterWork() throws {
        let loop = try EventLoop()
        let ranBefore = LoopBound(false)
        let ranAfter = LoopBound(false)
        loop.execute { ranBefore.value = true }
        // Two threads racing to shut down both return once the thread is gone.
        DispatchQueue.concurrentPerform(iterations: 2) { _ in loop.shutdown() }
        loop.shutdown()
        loop.execute { ranAfter.value = true }
        #expect(ranBefore.value, "work accepted before shutdown runs")
        #expect(!ranAfter.value)
        #expect(loop.loopCloseStatus == 0)
        #expect(loop.strayHandleCount == 0)
    }

    @Test func shutdownClosesEverythingAndCancelsWhatIsPending() async throws {
        let loop = try EventLoop()
        struct Objects {
            var listener: TCPListener?
            var client: TCPSocket?
            var server: TCPSocket?
        }
        let objects = LoopBound(Objects())
        let closes = LoopBound<[String: [SocketError?]]>([:])
        // An established connection, its listener still open.
        _ = try await onLoop(loop) { (finish: @escaping (Bool) -> Void) in
            let listener = try loop.listenTCP(on: loopbackIPv4) { socket in
                objects.value.server = socket
                socket.onClose = { closes.value["server", default: []].append($0) }
                socket.startReading()
                if objects.value.client != nil { finish(true) }
            }
            objects.value.listener = listener
            loop.connectTCP(to: listener.localAddress) { result in
                guard case .success(let socket) = result else { return }
                objects.value.client = socket
                socket.onClose = { closes.value["client", default: []].append($0) }
                socket.startReading()
                if objects.value.server != nil { finish(true) }
            }
        }

        let pending = LoopBound<[String: [String]]>([:])
        let references = LoopBound<[WeakReference]>([])
        loop.execute {
            func record<Success>(_ name: String) -> (Result<Success, SocketError>) -> Void {
                { result in
                    let outcome = switch result {
                    case .success: "success"
                    case .failure(let error): "\(error)"
                    }
                    pending.value[name, default: []].append(outcome)
                }
            }
            let silent = try? loop.bindUDP(on: loopbackIPv4) { _, _ in }
            let timer = loop.scheduleTimer(at: loop.now() + .seconds(10)) { pending.value["timer", default: []].append("fired") }
            let attempt = loop.connectTCP(
                to: objects.value.listener?.localAddress ?? loopbackIPv4, completion: record("connect"))
            loop.resolveHost("localhost", completion: record("resolve"))
            loop.exchangeDatagram(
                with: silent?.localAddress ?? loopbackIPv4, payload: [1], timeout: .seconds(10),
                completion: record("datagram"))
            references.value = [
                WeakReference(objects.value.listener), WeakReference(objects.value.client),
                WeakReference(objects.value.server), WeakReference(silent), WeakReference(timer),
                WeakReference(attempt),
            ]
            objects.value = Objects()
            // From the loop thread this only starts the shutdown; it runs right after this
            // work, before the loop polls again, so everything above is still pending.
            loop.shutdown()
        }
        loop.shutdown()

        #expect(pending.value["connect"] == ["operation canceled"])
        #expect(pending.value["resolve"] == ["operation canceled"])
        #expect(pending.value["datagram"] == ["operation canceled"])
        #expect(pending.value["timer"] == nil)
        #expect(closes.value["client"] == [.cancelled])
        #expect(closes.value["server"] == [.cancelled])
        #expect(references.value.count == 6)
        for reference in references.value { #expect(reference.object == nil) }
        #expect(loop.loopCloseStatus == 0)
        #expect(loop.strayHandleCount == 0)
    }
}
