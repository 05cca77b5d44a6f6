import Foundation
import TraverseCore
import TraverseUV

/// Perf runs per direction; the median is reported.
private let perfRuns = 3

/// `traverse perf` against a `traverse listen` process: one stream's upload and download
/// throughput over loopback (MB/s = bytes / the phase's time, connection set-up excluded).
/// A 64 MiB run first sizes the runs so each takes about `seconds`; each figure is the median
/// of three, compared with the one-core crypto limit, and its share of raw TCP in the note.
func traversePerf(
    _ environment: NodeBenchmarkEnvironment, limit: BenchmarkResult, rawTCP: BenchmarkResult, seconds: Double
) throws -> [BenchmarkResult] {
    let (listener, address) = try environment.startTraverseListener("perf-listener")
    defer { listener.terminate() }
    var run = 0
    /// One run: MB/s of the direction, and the cores each side kept busy (CPU time over the
    /// run's wall time), which shows when other work on the machine took their share.
    func perf(upload: Bool, bytes: UInt64) throws -> (rate: Double, senderCores: Double, receiverCores: Double) {
        run += 1
        let listenerCPU = ProcessFigures.cpuSeconds("\(listener.pid)")
        let (lines, clientCPU) = try environment.run(
            environment.traverse,
            ["perf", address, "--upload-bytes", upload ? "\(bytes)" : "0", "--download-bytes", upload ? "0" : "\(bytes)",
             "--timeout", "300"],
            name: "perf-\(run)", timeout: 330)
        let listenerCores = ProcessFigures.cpuSeconds("\(listener.pid)") - listenerCPU
        let key = upload ? "uploadSeconds" : "downloadSeconds"
        guard let line = lines.last, let object = jsonObject(line), let phase = jsonNumber(object, key), phase > 0,
              let wall = jsonNumber(object, "timeSeconds"), wall > 0
        else {
            throw BenchmarkFailure("traverse perf: unexpected output \(lines)")
        }
        let clientCores = clientCPU / wall
        return (Double(bytes) / phase / 1e6, upload ? clientCores : listenerCores / wall,
                upload ? listenerCores / wall : clientCores)
    }
    let calibration = try perf(upload: true, bytes: 64 << 20).rate
    // About `seconds` per run, in whole MiB, between 64 MiB and 8 GiB.
    let mebibytes = UInt64(min(max(calibration * 1e6 * seconds / Double(1 << 20), 64), 8192))
    let bytes = mebibytes << 20
    var results: [BenchmarkResult] = []
    for upload in [true, false] {
        var runs: [(rate: Double, senderCores: Double, receiverCores: Double)] = []
        for _ in 0..<perfRuns { runs.append(try perf(upload: upload, bytes: bytes)) }
        let rates = runs.map(\.rate)
        let rate = median(rates)
        let share = String(format: "%.1f %% of ", rate / rawTCP.value * 100) + rawTCP.name
        let cores = String(
            format: "busy cores: sender %.2f, receiver %.2f", median(runs.map(\.senderCores)),
            median(runs.map(\.receiverCores)))
        results.append(compared(
            BenchmarkResult(
                name: "perf-\(upload ? "upload" : "download")-traverse-traverse", value: rate, unit: "MB/s",
                note: "two traverse processes, one stream, \(mebibytes) MiB, median of \(perfRuns) "
                    + "(\(rates.map { String(format: "%.0f", $0) }.joined(separator: ", "))); \(share); \(cores)"),
            with: limit))
    }
    return results
}

/// Sequential connection setups from a `Node` in this process to a `traverse listen`
/// process: each dials a new connection (TCP, multistream-select, Noise XX, Yamux), pings
/// over a first stream, and disconnects. Setups per second over `seconds`, after 20 warm-up
/// setups; the note gives each side's CPU time per setup.
func traverseSetups(_ environment: NodeBenchmarkEnvironment, seconds: Double) async throws -> BenchmarkResult {
    let (listener, address) = try environment.startTraverseListener("setups-listener")
    defer { listener.terminate() }
    let target = try Multiaddr(address)
    var generator = SecureRandomNumberGenerator()
    let node = try Node(identityKey: PrivateKey.generateEd25519(using: &generator))
    func setup() async throws {
        let connection = try await node.dial(target, reusingConnection: false)
        _ = try await node.ping(connection.peer)
        try await node.disconnect(connection.peer)
    }
    do {
        for _ in 0..<20 { try await setup() }
        let clientCPU = ProcessFigures.cpuSeconds("self")
        let listenerCPU = ProcessFigures.cpuSeconds("\(listener.pid)")
        let start = ContinuousClock.now
        var count = 0
        var elapsed: Duration = .zero
        repeat {
            try await setup()
            count += 1
            elapsed = ContinuousClock.now - start
        } while elapsed < .seconds(seconds)
        let clientMilliseconds = (ProcessFigures.cpuSeconds("self") - clientCPU) * 1000 / Double(count)
        let listenerMilliseconds = (ProcessFigures.cpuSeconds("\(listener.pid)") - listenerCPU) * 1000 / Double(count)
        await node.stop()
        let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return BenchmarkResult(
            name: "connection-setups-traverse", value: Double(count) / total, unit: "setups/s",
            note: "Node dialer in-process → traverse listen; TCP+Noise+Yamux+ping stream, then disconnect; "
                + String(format: "%d setups; CPU per setup: dialer %.2f ms, listener %.2f ms",
                         count, clientMilliseconds, listenerMilliseconds))
    } catch {
        await node.stop()
        throw error
    }
}

/// Resident memory per idle connection: a `traverse listen` process takes 1,000 connections
/// from a `Node` in this process (after one warm-up connection); the listener's VmRSS before
/// and one second after, divided by 1,000. The dialer's own growth is a second figure.
func idleConnectionMemory(_ environment: NodeBenchmarkEnvironment) async throws -> [BenchmarkResult] {
    let connections = 1000
    let descriptors = ProcessFigures.raiseDescriptorLimit()
    guard descriptors > UInt64(connections + 100) else {
        throw BenchmarkFailure("memory per connection: the open-file limit is \(descriptors), too low for \(connections) connections")
    }
    let (listener, address) = try environment.startTraverseListener(
        "memory-listener", extraArguments: ["--max-connections-per-peer", "\(2 * connections)"])
    defer { listener.terminate() }
    let target = try Multiaddr(address)
    var generator = SecureRandomNumberGenerator()
    var configuration = SwarmConfiguration()
    configuration.maximumConnectionsPerPeer = 2 * connections
    let node = try Node(identityKey: PrivateKey.generateEd25519(using: &generator), configuration: configuration)
    do {
        _ = try await node.dial(target, reusingConnection: false)
        try await Task.sleep(for: .milliseconds(500))
        let listenerBefore = try ProcessFigures.residentKiB("\(listener.pid)")
        let dialerBefore = try ProcessFigures.residentKiB("self")
        for _ in 0..<connections { _ = try await node.dial(target, reusingConnection: false) }
        try await Task.sleep(for: .seconds(1))
        let listenerAfter = try ProcessFigures.residentKiB("\(listener.pid)")
        let dialerAfter = try ProcessFigures.residentKiB("self")
        let open = try await node.connections().count
        await node.stop()
        guard open == connections + 1 else {
            throw BenchmarkFailure("memory per connection: \(open) connections open, expected \(connections + 1)")
        }
        return [
            BenchmarkResult(
                name: "memory-per-idle-connection", value: Double(listenerAfter - listenerBefore) / Double(connections),
                unit: "KiB", note: "traverse listen VmRSS \(listenerBefore) → \(listenerAfter) KiB over \(connections) connections; target ≤ 64 KiB"),
            BenchmarkResult(
                name: "memory-per-idle-connection-dialer", value: Double(dialerAfter - dialerBefore) / Double(connections),
                unit: "KiB", note: "the dialing Node in traverse-bench, VmRSS \(dialerBefore) → \(dialerAfter) KiB"),
        ]
    } catch {
        await node.stop()
        throw error
    }
}
