import Foundation

/// py-libp2p 0.8.1 against itself, the figures Traverse's are quoted beside: `peer.py dial
/// --perf-upload/--perf-download` (64 MiB, 256 KiB writes) against a `peer.py listen`, median
/// of three; MB/s from peer.py's `mb_per_s` (bytes / the time from stream open to the
/// server's end of stream). Compared with the one-core crypto limit like Traverse's.
func pyPerf(_ environment: NodeBenchmarkEnvironment, limit: BenchmarkResult) throws -> [BenchmarkResult] {
    guard let python = environment.python else { return [] }
    let (listener, address) = try environment.startPyListener("py-perf-listener")
    defer { listener.terminate() }
    let bytes = 64 << 20
    var run = 0
    func perf(upload: Bool) throws -> Double {
        run += 1
        let lines = try environment.run(
            python.interpreter,
            [python.peerScript, "dial", address, "--perf-upload", upload ? "\(bytes)" : "0",
             "--perf-download", upload ? "0" : "\(bytes)", "--timeout", "120"],
            name: "py-perf-\(run)", timeout: 150).lines
        guard let object = lines.compactMap(jsonObject).first(where: { $0["op"] as? String == "perf" }),
              let rate = jsonNumber(object, "mb_per_s"), rate > 0
        else { throw BenchmarkFailure("peer.py dial --perf: unexpected output \(lines)") }
        return rate
    }
    var results: [BenchmarkResult] = []
    for upload in [true, false] {
        var rates: [Double] = []
        for _ in 0..<3 { rates.append(try perf(upload: upload)) }
        results.append(compared(
            BenchmarkResult(
                name: "perf-\(upload ? "upload" : "download")-py-py", value: median(rates), unit: "MB/s",
                note: "two py-libp2p 0.8.1 processes, one stream, 64 MiB, median of 3 "
                    + "(\(rates.map { String(format: "%.0f", $0) }.joined(separator: ", ")))"),
            with: limit))
    }
    return results
}

/// py-libp2p's sequential setups: `peer.py bench-setups --count 200` (TCP, Noise, Yamux, a
/// ping on a first stream, the connection dropped in the background) against a `peer.py
/// listen`.
func pySetups(_ environment: NodeBenchmarkEnvironment) throws -> BenchmarkResult? {
    guard let python = environment.python else { return nil }
    let (listener, address) = try environment.startPyListener("py-setups-listener")
    defer { listener.terminate() }
    let count = 200
    let lines = try environment.run(
        python.interpreter, [python.peerScript, "bench-setups", address, "--count", "\(count)", "--timeout", "120"],
        name: "py-setups", timeout: 150).lines
    guard let object = lines.compactMap(jsonObject).first(where: { $0["op"] as? String == "bench-setups" }),
          let rate = jsonNumber(object, "per_second"), rate > 0
    else { throw BenchmarkFailure("peer.py bench-setups: unexpected output \(lines)") }
    return BenchmarkResult(
        name: "connection-setups-py", value: rate, unit: "setups/s",
        note: "peer.py bench-setups → peer.py listen, \(count) setups, py-libp2p 0.8.1")
}
