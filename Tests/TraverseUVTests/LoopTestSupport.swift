import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

/// A scenario on the loop did not finish in time.
struct LoopScenarioTimedOut: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "the loop scenario did not finish within \(timeout)" }
}

/// Runs `scenario` on the loop thread and waits until it calls `finish`; throws if it does
/// not within `timeout` (so a broken scenario fails instead of hanging the suite).
func onLoop<Value: Sendable>(
    _ loop: EventLoop, timeout: Duration = .seconds(3),
    _ scenario: @escaping @Sendable (_ finish: @escaping (Value) -> Void) throws -> Void
) async throws -> Value {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
        loop.execute {
            var isFinished = false
            var watchdog: LoopTimer?
            watchdog = loop.scheduleTimer(at: loop.now() + timeout) {
                guard !isFinished else { return }
                isFinished = true
                continuation.resume(throwing: LoopScenarioTimedOut(timeout: timeout))
            }
            let finish: (Value) -> Void = { value in
                guard !isFinished else { return }
                isFinished = true
                watchdog?.cancel()
                continuation.resume(returning: value)
            }
            do {
                try scenario(finish)
            } catch {
                guard !isFinished else { return }
                isFinished = true
                watchdog?.cancel()
                continuation.resume(throwing: error)
            }
        }
    }
}

/// State that lives on the loop thread between scenarios of one test; the test thread only
/// touches it after the loop was shut down (the join orders those accesses).
final class LoopBound<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// A weak reference readable after the loop thread was joined.
final class WeakReference: @unchecked Sendable {
    weak var object: AnyObject?
    init(_ object: AnyObject?) { self.object = object }
}

let loopbackIPv4 = SocketAddress.ipv4(IPv4Address(127, 0, 0, 1), port: 0)
let loopbackIPv6 = SocketAddress.ipv6(IPv6Address(high: 0, low: 1), port: 0)

/// Whether this host can bind `[::1]` (some sandboxes have no IPv6 loopback).
let hasIPv6Loopback: Bool = {
    let descriptor = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    let result = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
    }
    return result == 0
}()

/// A repeating byte pattern standing for a long stream: the byte at stream offset `n` is
/// `bytes[n % period]`, with a prime period so it never lines up with chunk sizes.
struct StreamPattern {
    static let period = 65_521
    let bytes: [UInt8]

    init(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        bytes = (0..<Self.period).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The `count` stream bytes from `offset`.
    func chunk(from offset: Int, count: Int) -> [UInt8] {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(count)
        var position = offset % Self.period
        while chunk.count < count {
            let take = min(count - chunk.count, Self.period - position)
            chunk.append(contentsOf: bytes[position..<(position + take)])
            position = 0
        }
        return chunk
    }

    /// Whether `received` equals the stream bytes from `offset`.
    func matches(_ received: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var position = offset % Self.period
        var checked = 0
        return bytes.withUnsafeBytes { pattern in
            while checked < received.count {
                let take = min(received.count - checked, Self.period - position)
                guard let expected = pattern.baseAddress, let actual = received.baseAddress else { return false }
                if memcmp(expected + position, actual + checked, take) != 0 { return false }
                checked += take
                position = 0
            }
            return true
        }
    }
}

/// A small deterministic generator (SplitMix64) for test data.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
