import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The reference for loopback throughput: a plain TCP socket pair on 127.0.0.1 in this
/// process, one thread writing 256 KiB chunks, this one reading, for `seconds` after a
/// 0.2 s warm-up. No framing, no encryption: what the kernel moves between two sockets.
func rawTCPLoopback(seconds: Double) throws -> BenchmarkResult {
    let (writer, reader) = try connectedLoopbackPair()
    defer { close(reader) }
    let chunkSize = 256 * 1024
    let writerDone = DispatchSemaphore(value: 0)
    let writerThread = Thread {
        let chunk = [UInt8](repeating: 0x42, count: chunkSize)
        writing: while true {
            var offset = 0
            while offset < chunk.count {
                let sent = chunk.withUnsafeBytes { bytes in
                    guard let base = bytes.baseAddress else { return -1 }
                    return send(writer, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else { break writing }
                offset += sent
            }
        }
        close(writer)
        writerDone.signal()
    }
    writerThread.start()

    var buffer = [UInt8](repeating: 0, count: chunkSize)
    func receive() throws -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(reader, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw BenchmarkFailure("raw TCP: the reader saw the end of the stream") }
            return count
        }
    }
    let rate: Double
    do {
        let warmUpEnd = DispatchTime.now().uptimeNanoseconds + 200_000_000
        while DispatchTime.now().uptimeNanoseconds < warmUpEnd { _ = try receive() }
        var bytes = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed: UInt64 = 0
        repeat {
            bytes += try receive()
            elapsed = DispatchTime.now().uptimeNanoseconds - start
        } while Double(elapsed) < seconds * 1e9
        rate = Double(bytes) / (Double(elapsed) / 1e9)
    } catch {
        shutdown(reader, Int32(SHUT_RDWR))
        writerDone.wait()
        throw error
    }
    // Ends the writer: its next send fails.
    shutdown(reader, Int32(SHUT_RDWR))
    writerDone.wait()
    return BenchmarkResult(
        name: "raw-tcp-loopback", value: rate / 1e6, unit: "MB/s",
        note: "plain socket pair on 127.0.0.1, 256 KiB writes, one writer and one reader thread")
}

/// A connected pair of TCP sockets on 127.0.0.1: (the dialer's, the accepted one).
private func connectedLoopbackPair() throws -> (Int32, Int32) {
    func failure(_ what: String) -> BenchmarkFailure {
        BenchmarkFailure("raw TCP: \(what): \(String(cString: strerror(errno)))")
    }
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else { throw failure("socket") }
    defer { close(listener) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
    }
    guard bound == 0 else { throw failure("bind") }
    guard listen(listener, 1) == 0 else { throw failure("listen") }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
    }
    guard named == 0 else { throw failure("getsockname") }
    let dialer = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard dialer >= 0 else { throw failure("socket") }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(dialer, $0, length) }
    }
    guard connected == 0 else {
        close(dialer)
        throw failure("connect")
    }
    let accepted = accept(listener, nil, nil)
    guard accepted >= 0 else {
        close(dialer)
        throw failure("accept")
    }
    return (dialer, accepted)
}
