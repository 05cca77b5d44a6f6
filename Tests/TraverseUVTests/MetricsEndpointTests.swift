import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

@Suite struct MetricsEndpointTests {
    /// What a client read before the server closed, and how it closed.
    struct Reply: Sendable {
        var bytes: [UInt8]
        var closeError: SocketError?
        var text: String { String(decoding: bytes, as: UTF8.self) }
        var statusLine: Substring? { text.split(separator: "\r\n", maxSplits: 1).first }
        var headers: [Substring] {
            guard let head = text.components(separatedBy: "\r\n\r\n").first else { return [] }
            return Array(head.split(separator: "\r\n").dropFirst())
        }
        var body: String? {
            guard let range = text.range(of: "\r\n\r\n") else { return nil }
            return String(text[range.upperBound...])
        }
    }

    static func exposition(scrapes: Int) -> String {
        var exposition = PrometheusExposition()
        try? exposition.append(MetricFamily(
            name: "traverse_test_scrapes_total", help: "Scrapes \"served\".", kind: .counter, value: .unsigned(UInt64(scrapes))))
        return exposition.text
    }

    @Test func servesMetricsOnGetAndHeadAndNotFoundElsewhere() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let replies: [Reply] = try await onLoop(loop) { finish in
            var scrapes = 0
            let endpoint = try MetricsEndpoint.start(on: loopbackIPv4, eventLoop: loop) {
                scrapes += 1
                return Self.exposition(scrapes: scrapes)
            }
            #expect(endpoint.localAddress.port != 0)
            #expect(endpoint.localAddress == loopbackIPv4.with(port: endpoint.localAddress.port))
            let address = endpoint.localAddress
            sendRequest("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", to: address, on: loop) { get in
                sendRequest("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", to: address, on: loop) { notFound in
                    #expect(scrapes == 1, "a 404 does not ask for the metrics")
                    sendRequest("HEAD /metrics HTTP/1.0\r\n\r\n", to: address, on: loop) { head in
                        #expect(scrapes == 2)
                        waitOnLoop(on: loop, until: { endpoint.openConnectionCount == 0 }) {
                            endpoint.close()
                            endpoint.close()
                            loop.connectTCP(to: address) { afterClose in
                                #expect(afterClose.map(\.remoteAddress) == .failure(.connectionRefused))
                                finish([get, notFound, head])
                            }
                        }
                    }
                }
            }
        }
        let get = replies[0], notFound = replies[1], head = replies[2]
        let body = Self.exposition(scrapes: 1)
        #expect(get.closeError == nil, "the server closes cleanly after the response")
        #expect(get.statusLine == "HTTP/1.1 200 OK")
        #expect(get.headers.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(get.headers.contains("Content-Length: \(body.utf8.count)"))
        #expect(get.headers.contains("Connection: close"))
        #expect(get.body == body)
        #expect(body.contains("traverse_test_scrapes_total 1\n"))

        #expect(notFound.statusLine == "HTTP/1.1 404 Not Found")
        #expect(notFound.body == "404 Not Found\n")

        #expect(head.statusLine == "HTTP/1.1 200 OK")
        #expect(head.headers.contains("Content-Length: \(Self.exposition(scrapes: 2).utf8.count)"))
        #expect(head.body == "")
    }

    @Test func connectionsBeyondTheLimitAreClosedAtOnce() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let limits = {
            var limits = MetricsEndpoint.Limits()
            limits.maximumConnections = 2
            return limits
        }()
        let (refused, served): (Reply, Reply) = try await onLoop(loop, timeout: .seconds(5)) { finish in
            let endpoint = try MetricsEndpoint.start(on: loopbackIPv4, eventLoop: loop, limits: limits) { "up 1\n" }
            let address = endpoint.localAddress
            var idle: [TCPSocket] = []
            for _ in 0..<2 {
                loop.connectTCP(to: address) { result in
                    if case .success(let socket) = result { idle.append(socket) }
                }
            }
            waitOnLoop(on: loop, until: { idle.count == 2 && endpoint.openConnectionCount == 2 }) {
                sendRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", to: address, on: loop) { refused in
                    #expect(endpoint.openConnectionCount == 2)
                    idle[0].close()
                    waitOnLoop(on: loop, until: { endpoint.openConnectionCount == 1 }) {
                        sendRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", to: address, on: loop) { served in
                            idle[1].close()
                            endpoint.close()
                            finish((refused, served))
                        }
                    }
                }
            }
        }
        #expect(refused.bytes.isEmpty, "the connection over the limit gets no answer")
        #expect(served.statusLine == "HTTP/1.1 200 OK")
        #expect(served.body == "up 1\n")
    }

    @Test func aHeadThatDoesNotArriveInTimeIsClosedWithoutAnswer() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let limits = {
            var limits = MetricsEndpoint.Limits()
            limits.headTimeout = .milliseconds(150)
            return limits
        }()
        let (reply, elapsed): (Reply, Duration) = try await onLoop(loop) { finish in
            let endpoint = try MetricsEndpoint.start(on: loopbackIPv4, eventLoop: loop, limits: limits) { "up 1\n" }
            let start = loop.now()
            sendRequest("GET /metrics HTTP/1.1\r\nHost:", to: endpoint.localAddress, on: loop) { reply in
                let elapsed = loop.now() - start
                waitOnLoop(on: loop, until: { endpoint.openConnectionCount == 0 }) {
                    endpoint.close()
                    finish((reply, elapsed))
                }
            }
        }
        #expect(reply.bytes.isEmpty)
        #expect(elapsed >= .milliseconds(150))
    }

    @Test func aClientThatNeverReadsIsClosedAtTheEndOfTheLifetime() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let limits = {
            var limits = MetricsEndpoint.Limits()
            limits.connectionLifetime = .milliseconds(300)
            return limits
        }()
        // Far more than the loopback socket buffers hold, so the response cannot drain.
        let body = String(decoding: [UInt8](repeating: UInt8(ascii: "x"), count: 32 << 20), as: UTF8.self)
        let (heldWhileFlushing, elapsed): (Bool, Duration) = try await onLoop(loop, timeout: .seconds(10)) { finish in
            let endpoint = try MetricsEndpoint.start(on: loopbackIPv4, eventLoop: loop, limits: limits) { body }
            let start = loop.now()
            loop.connectTCP(to: endpoint.localAddress) { result in
                guard case .success(let client) = result else {
                    Issue.record("connect failed")
                    return
                }
                client.write(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                // Never reads.
                loop.scheduleTimer(at: loop.now() + .milliseconds(150)) {
                    let held = endpoint.openConnectionCount == 1
                    waitOnLoop(on: loop, until: { endpoint.openConnectionCount == 0 }) {
                        let elapsed = loop.now() - start
                        client.close()
                        endpoint.close()
                        finish((held, elapsed))
                    }
                }
            }
        }
        #expect(heldWhileFlushing, "a response still flushing holds its slot")
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(5))
    }
}

/// Connects to `address`, writes `request` and reads until the server closes.
private func sendRequest(_ request: String, to address: SocketAddress, on loop: EventLoop, _ done: @escaping (MetricsEndpointTests.Reply) -> Void) {
    loop.connectTCP(to: address) { result in
        guard case .success(let client) = result else {
            Issue.record("connect failed: \(result)")
            return done(MetricsEndpointTests.Reply(bytes: [], closeError: .connectionRefused))
        }
        var bytes: [UInt8] = []
        client.onRead = { bytes.append(contentsOf: $0) }
        client.onClose = { error in done(MetricsEndpointTests.Reply(bytes: bytes, closeError: error)) }
        client.startReading()
        client.write(Array(request.utf8))
    }
}

/// Calls `then` on the loop once `condition` holds (checked every 5 ms).
private func waitOnLoop(on loop: EventLoop, until condition: @escaping () -> Bool, then: @escaping () -> Void) {
    if condition() { return then() }
    loop.scheduleTimer(at: loop.now() + .milliseconds(5)) { waitOnLoop(on: loop, until: condition, then: then) }
}
