import Foundation
import TraverseCore

/// Relay perf runs per direction and path; the median is reported.
private let relayPerfRuns = 3

/// The relay suite: `traverse relay` processes over loopback, with `traverse listen --relay`
/// and `traverse perf` for throughput, and thousands of client swarms in this process (one
/// thread, `EpollSwarmDriver`) for reservations and circuits. Each step has a watchdog.
func relayBenchmarks(_ environment: NodeBenchmarkEnvironment, seconds: Double) throws -> [BenchmarkResult] {
    func guarded<T>(_ what: String, seconds limit: Double, _ body: () throws -> T) rethrows -> T {
        let watchdog = Watchdog(what, seconds: limit)
        defer { watchdog.disarm() }
        return try body()
    }
    var results = try guarded("relayed perf", seconds: 120 + 40 * seconds) { try relayedPerf(environment, seconds: seconds) }
    #if os(Linux)
    let descriptors = ProcessFigures.raiseDescriptorLimit()
    results.append(try guarded("reservations per second", seconds: 120 + 10 * seconds) {
        try reservationRate(environment, seconds: seconds)
    })
    results += try guarded("reservation memory", seconds: 240) {
        try reservationMemory(environment, reservations: 10_000, descriptorLimit: descriptors)
    }
    results += try guarded("active circuits", seconds: 180) {
        try activeCircuits(environment, circuits: 1_000, targets: 100)
    }
    #else
    FileHandle.standardError.write(Data("the relay suite's reservation and circuit figures need Linux (epoll)\n".utf8))
    #endif
    return results
}

/// `traverse perf` through a `traverse relay` (unshaped, no data or duration limit) to a
/// `traverse listen --relay` target, beside the same perf straight to the target in the same
/// run. Each path is sized by a 64 MiB upload so a run takes about `seconds`; the runs of the
/// two paths alternate, three per direction each, and the medians are reported, the relayed
/// one compared with the direct one (target ≥ 25 %). Notes give each process's busy cores.
func relayedPerf(_ environment: NodeBenchmarkEnvironment, seconds: Double) throws -> [BenchmarkResult] {
    let relay = try environment.startRelay("perf-relay", arguments: [
        "--bandwidth-per-circuit", "0", "--bandwidth-total", "0", "--limit-data", "0", "--limit-duration", "0",
    ])
    defer { relay.child.terminate() }
    let (target, direct, circuit) = try environment.startRelayedListener("perf-relay-target", relay: relay)
    defer { target.terminate() }
    var run = 0
    /// One run: MB/s of the direction (the perf phase alone) and the cores the sender, the
    /// relay and the receiver kept busy (CPU time over the run's wall time).
    func perf(_ address: String, upload: Bool, bytes: UInt64) throws -> PerfRun {
        run += 1
        let relayCPU = relay.cpuSeconds()
        let targetCPU = ProcessFigures.cpuSeconds("\(target.pid)")
        let (lines, clientCPU) = try environment.run(
            environment.traverse,
            ["perf", address, "--upload-bytes", upload ? "\(bytes)" : "0", "--download-bytes", upload ? "0" : "\(bytes)",
             "--timeout", "300"],
            name: "relay-perf-\(run)", timeout: 330)
        let relayCores = relay.cpuSeconds() - relayCPU
        let targetCores = ProcessFigures.cpuSeconds("\(target.pid)") - targetCPU
        let key = upload ? "uploadSeconds" : "downloadSeconds"
        guard let line = lines.last, let object = jsonObject(line), let phase = jsonNumber(object, key), phase > 0,
              let wall = jsonNumber(object, "timeSeconds"), wall > 0
        else {
            throw BenchmarkFailure("traverse perf \(address): unexpected output \(lines)")
        }
        return PerfRun(
            rate: Double(bytes) / phase / 1e6, senderCores: (upload ? clientCPU : targetCores) / wall,
            relayCores: relayCores / wall, receiverCores: (upload ? targetCores : clientCPU) / wall)
    }
    /// About `seconds` per run at `rate` MB/s, in whole MiB, between 64 MiB and 8 GiB.
    func mebibytes(at rate: Double) -> UInt64 {
        UInt64(min(max(rate * 1e6 * seconds / Double(1 << 20), 64), 8192))
    }
    let directSize = mebibytes(at: try perf(direct, upload: true, bytes: 64 << 20).rate)
    let relayedSize = mebibytes(at: try perf(circuit, upload: true, bytes: 64 << 20).rate)
    var results: [BenchmarkResult] = []
    for upload in [true, false] {
        var directRuns: [PerfRun] = []
        var relayedRuns: [PerfRun] = []
        for _ in 0..<relayPerfRuns {
            directRuns.append(try perf(direct, upload: upload, bytes: directSize << 20))
            relayedRuns.append(try perf(circuit, upload: upload, bytes: relayedSize << 20))
        }
        let direction = upload ? "upload" : "download"
        let directResult = BenchmarkResult(
            name: "relay-perf-\(direction)-direct", value: median(directRuns.map(\.rate)), unit: "MB/s",
            note: "traverse perf → the relay suite's target straight, one stream, \(directSize) MiB, "
                + "median of \(relayPerfRuns) (\(PerfRun.rates(directRuns))); busy cores: \(PerfRun.cores(directRuns, relayed: false))")
        let relayed = BenchmarkResult(
            name: "relay-perf-\(direction)-relayed", value: median(relayedRuns.map(\.rate)), unit: "MB/s",
            note: "traverse perf → traverse relay (unshaped, no limits) → traverse listen --relay, one stream "
                + "in a relayed Noise+Yamux connection, \(relayedSize) MiB, median of \(relayPerfRuns) "
                + "(\(PerfRun.rates(relayedRuns))); busy cores: \(PerfRun.cores(relayedRuns, relayed: true)); target ≥ 25 % of direct")
        results += [compared(relayed, with: directResult), directResult]
    }
    return results
}

/// One `traverse perf` run of the relay suite.
private struct PerfRun {
    /// MB/s of the perf phase.
    let rate: Double
    /// Cores each process kept busy over the run.
    let senderCores: Double
    let relayCores: Double
    let receiverCores: Double

    /// The runs' rates, for a note.
    static func rates(_ runs: [PerfRun]) -> String {
        runs.map { String(format: "%.0f", $0.rate) }.joined(separator: ", ")
    }

    /// The median busy cores of each process, for a note.
    static func cores(_ runs: [PerfRun], relayed: Bool) -> String {
        String(format: "sender %.2f, ", median(runs.map(\.senderCores)))
            + (relayed ? String(format: "relay %.2f, ", median(runs.map(\.relayCores))) : "")
            + String(format: "receiver %.2f", median(runs.map(\.receiverCores)))
    }
}
