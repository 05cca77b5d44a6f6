import Testing
import TraverseCore
@testable import TraverseUV

@Suite struct NameAndDatagramTests {
    @Test func localhostResolvesToALoopbackAddress() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let result: Result<[SocketAddress], SocketError> = try await onLoop(loop) { finish in
            loop.resolveHost("localhost", port: 4001, completion: finish)
        }
        let addresses = try result.get()
        let loopbacks: Set<SocketAddress> = [
            loopbackIPv4.with(port: 4001), loopbackIPv6.with(port: 4001),
        ]
        #expect(!addresses.isEmpty)
        #expect(addresses.contains { loopbacks.contains($0) })
        #expect(Set(addresses).count == addresses.count, "no duplicates")
    }

    @Test func numericHostsResolveToThemselvesAndFamiliesFilter() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (numeric, ipv4Only): (Result<[SocketAddress], SocketError>, Result<[SocketAddress], SocketError>) =
            try await onLoop(loop) { finish in
                loop.resolveHost("192.0.2.7", port: 53) { numeric in
                    loop.resolveHost("localhost", family: .ipv4) { ipv4Only in finish((numeric, ipv4Only)) }
                }
            }
        #expect(numeric == .success([.ipv4(IPv4Address(192, 0, 2, 7), port: 53)]))
        let addresses = try ipv4Only.get()
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { !$0.isIPv6 })
    }

    @Test func malformedNamesFailWithoutALookup() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let results: [Result<[SocketAddress], SocketError>] = try await onLoop(loop) { finish in
            var results: [Result<[SocketAddress], SocketError>] = []
            for host in ["", "a\u{0}b", String(repeating: "a", count: 300)] {
                loop.resolveHost(host) { result in
                    results.append(result)
                    if results.count == 3 { finish(results) }
                }
            }
            // Completions never run inside the call.
            if !results.isEmpty { Issue.record("a completion ran inside resolveHost") }
        }
        #expect(results == [Result](repeating: .failure(.nameNotFound), count: 3))
    }

    @Test func exchangeReturnsTheFirstDatagramFromTheServerOnly() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (answer, decoysSent): (Result<[UInt8], SocketError>, Int) = try await onLoop(loop) { finish in
            var decoysSent = 0
            let decoy = try loop.bindUDP(on: loopbackIPv4) { _, _ in }
            var server: UDPSocket?
            server = try loop.bindUDP(on: loopbackIPv4) { bytes, sender in
                let reply = Array(bytes.reversed())
                // Another socket answers first; the server a little later.
                decoy.send([0xDE, 0xAD], to: sender)
                decoysSent += 1
                loop.scheduleTimer(at: loop.now() + .milliseconds(5)) { server?.send(reply, to: sender) }
            }
            guard let address = server?.localAddress else { return }
            loop.exchangeDatagram(with: address, payload: [1, 2, 3], timeout: .seconds(2)) { result in
                finish((result, decoysSent))
            }
        }
        #expect(answer == .success([3, 2, 1]))
        #expect(decoysSent == 1)
    }

    @Test func exchangeWithASilentServerTimesOut() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let (result, elapsed): (Result<[UInt8], SocketError>, Duration) = try await onLoop(loop) { finish in
            var heard = 0
            let silent = try loop.bindUDP(on: loopbackIPv4) { _, _ in heard += 1 }
            let start = loop.now()
            loop.exchangeDatagram(with: silent.localAddress, payload: [0x42], timeout: .milliseconds(50)) { result in
                if heard != 1 { Issue.record("the server heard \(heard) datagrams") }
                finish((result, loop.now() - start))
            }
        }
        #expect(result == .failure(.timedOut))
        #expect(elapsed >= .milliseconds(50))
    }

    @Test func oversizedDatagramsAreRefused() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let result: Result<[UInt8], SocketError> = try await onLoop(loop) { finish in
            loop.exchangeDatagram(
                with: loopbackIPv4.with(port: 53), payload: [UInt8](repeating: 0, count: 65_536),
                timeout: .seconds(1), completion: finish)
        }
        guard case .failure(.other(_, let name)) = result else {
            Issue.record("expected EMSGSIZE, got \(result)")
            return
        }
        #expect(name == "EMSGSIZE")
    }
}
