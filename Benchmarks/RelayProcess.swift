import Foundation
import TraverseCore

#if canImport(Glibc)
import Glibc
#endif

/// A `traverse relay` process on a loopback port, with its metrics endpoint.
struct RelayProcess {
    let child: ChildProcess
    /// Its address, `/ip4/127.0.0.1/tcp/P/p2p/RELAY`.
    let address: String
    /// The port of its metrics endpoint on 127.0.0.1.
    let metricsPort: UInt16

    /// Its resident set size now, in KiB.
    func residentKiB() throws -> Int { try ProcessFigures.residentKiB("\(child.pid)") }

    /// Its CPU time so far, in seconds.
    func cpuSeconds() -> Double { ProcessFigures.cpuSeconds("\(child.pid)") }

    /// Its metrics now (`GET /metrics`), by series: the metric name with its labels as
    /// written (`traverse_relay_refusals_total{reason="circuits_total"}`).
    func metrics() throws -> [String: Double] {
        let text = try httpGet(port: metricsPort, path: "/metrics")
        var series: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            series[String(line[..<space])] = value
        }
        return series
    }

    /// One metric's value, 0 when the relay does not report it (a counter with no samples).
    func metric(_ name: String) throws -> Double { try metrics()[name] ?? 0 }
}

extension NodeBenchmarkEnvironment {
    /// Starts `traverse relay --quiet` on a loopback port with a key of its own and metrics
    /// on another, with `arguments` (its limits).
    func startRelay(_ name: String, arguments: [String]) throws -> RelayProcess {
        let child = try ChildProcess(
            executable: traverse,
            arguments: [
                "relay", "--quiet", "--listen", "/ip4/127.0.0.1/tcp/0", "--key", "\(workDirectory)/\(name).key",
                "--metrics", "127.0.0.1:0",
            ] + arguments,
            stderrPath: "\(workDirectory)/\(name).stderr")
        do {
            let address = try child.firstLine(timeout: 30)
            guard address.hasPrefix("/ip4/127.0.0.1/tcp/"), address.contains("/p2p/") else {
                throw BenchmarkFailure("\(child.commandLine): unexpected first line \(address)")
            }
            let metricsLine = try child.firstLine(timeout: 30) { $0.hasPrefix("metrics http://127.0.0.1:") }
            let port = metricsLine.dropFirst("metrics http://127.0.0.1:".count).prefix { $0.isNumber }
            guard let metricsPort = UInt16(port) else {
                throw BenchmarkFailure("\(child.commandLine): unexpected metrics line \(metricsLine)")
            }
            return RelayProcess(child: child, address: address, metricsPort: metricsPort)
        } catch {
            child.terminate()
            throw error
        }
    }

    /// Starts `traverse listen --quiet --relay RELAY` on a loopback port; returns the process,
    /// its direct address and its circuit address (once the relay granted the reservation).
    func startRelayedListener(_ name: String, relay: RelayProcess) throws -> (ChildProcess, direct: String, circuit: String) {
        let (child, direct) = try startTraverseListener(name, extraArguments: ["--relay", relay.address])
        do {
            let circuit = try child.firstLine(timeout: 30) { $0.contains("/p2p-circuit/p2p/") }
            return (child, direct, circuit)
        } catch {
            child.terminate()
            throw error
        }
    }
}

/// The body of `GET path` from an HTTP server on 127.0.0.1:`port` (plain sockets, 10 s
/// timeouts), which must answer 200.
func httpGet(port: UInt16, path: String) throws -> String {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw BenchmarkFailure("socket: \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = IPv4Address(127, 0, 0, 1).value.bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw BenchmarkFailure("metrics: connect to port \(port): \(String(cString: strerror(errno)))") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
        throw BenchmarkFailure("metrics: cannot send the request")
    }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while response.count < 16 << 20 {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else {
            if count < 0 { throw BenchmarkFailure("metrics: read: \(String(cString: strerror(errno)))") }
            break
        }
        response += buffer[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard text.hasPrefix("HTTP/1.1 200"), let headEnd = text.range(of: "\r\n\r\n") else {
        throw BenchmarkFailure("metrics: unexpected response \(text.prefix(200))")
    }
    return String(text[headEnd.upperBound...])
}
