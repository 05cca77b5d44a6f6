// traverse-bench: Traverse's benchmarks, every figure measured in the same run.
//
//   swift build -c release --product traverse      # the node and relay suites run it
//   swift run -c release traverse-bench [--json] [--seconds S] [--suite machines|nodes|relay|all]
//
// Prints a table, or with --json one object per line: name, value, unit, and for figures
// compared with a reference, `reference` (its name) and `ratio` (value / reference value).
// `machines`: the sans-IO machines in memory (seconds). `nodes`: processes over loopback
// (`traverse` beside this executable, py-libp2p when installed; about a minute). `relay`:
// `traverse relay` processes with thousands of client swarms in this process (about two
// minutes; Linux). `all`: every suite.
import Foundation

enum Suite: String { case machines, nodes, relay, all }

var json = false
var seconds = 2.0
var suite = Suite.all
let usage = "usage: traverse-bench [--json] [--seconds S] [--suite machines|nodes|relay|all]\n"
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--json": json = true
    case "--seconds":
        guard let value = arguments.popFirst().flatMap(Double.init), value > 0 else {
            FileHandle.standardError.write(Data("--seconds needs a positive number\n".utf8))
            exit(2)
        }
        seconds = value
    case "--suite":
        guard let value = arguments.popFirst().flatMap(Suite.init(rawValue:)) else {
            FileHandle.standardError.write(Data(usage.utf8))
            exit(2)
        }
        suite = value
    default:
        FileHandle.standardError.write(Data(usage.utf8))
        exit(2)
    }
}

func compared(_ result: BenchmarkResult, with reference: BenchmarkResult, scale: Double = 1) -> BenchmarkResult {
    var result = result
    result.reference = reference.name
    result.ratio = result.value * scale / reference.value
    return result
}

/// The sans-IO machines in memory, against `limit` and the handshake bound.
func machineBenchmarks(limit: BenchmarkResult, seconds: Double) throws -> [BenchmarkResult] {
    let noise = compared(try noiseTransportThroughput(seconds: seconds), with: limit)
    // Yamux is reported in GB/s, the limit in MB/s.
    let yamuxOne = try yamuxThroughput(streams: 1, seconds: seconds)
    let yamuxMany = try yamuxThroughput(streams: 64, seconds: seconds)
    let connection = compared(try connectionThroughput(seconds: seconds), with: limit)
    let bound = noiseHandshakeBound(seconds: seconds)
    let handshakes = compared(try noiseHandshakeRate(seconds: seconds), with: bound)
    let setups = try swarmSetupsInMemory(seconds: seconds)
    return [noise, yamuxOne, yamuxMany, connection, bound, handshakes, setups]
}

/// Nodes over loopback: raw TCP, perf, setups and memory for Traverse, with py-libp2p's
/// figures beside them when it is installed. Each step has a watchdog, so a hung peer ends
/// the run (and its children) instead of hanging it.
func nodeBenchmarks(
    _ environment: NodeBenchmarkEnvironment, limit: BenchmarkResult, seconds: Double
) async throws -> [BenchmarkResult] {
    func guarded<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
        let watchdog = Watchdog(what, seconds: 60 + 20 * seconds)
        defer { watchdog.disarm() }
        return try body()
    }
    let rawTCP = try guarded("raw TCP") { try rawTCPLoopback(seconds: seconds) }
    var results = [rawTCP]
    results += try guarded("traverse perf") { try traversePerf(environment, limit: limit, rawTCP: rawTCP, seconds: seconds) }
    if environment.python == nil {
        let note = "py-libp2p not found ($TRAVERSE_PY or ~/.cache/traverse/py-libp2p-0.8.1/bin/python; "
            + "scripts/setup-interop.sh installs it): its figures are skipped\n"
        FileHandle.standardError.write(Data(note.utf8))
    }
    results += try guarded("py perf") { try pyPerf(environment, limit: limit) }
    let watchdog = Watchdog("traverse setups", seconds: 60 + 20 * seconds)
    var setups = try await traverseSetups(environment, seconds: seconds)
    watchdog.disarm()
    if let pyRate = try guarded("py setups", { try pySetups(environment) }) {
        setups = compared(setups, with: pyRate)
        results += [setups, pyRate]
    } else {
        results.append(setups)
    }
    let memoryWatchdog = Watchdog("memory per connection", seconds: 120)
    results += try await idleConnectionMemory(environment)
    memoryWatchdog.disarm()
    return results
}

ChildProcesses.terminateOnSignals()
var results: [BenchmarkResult] = []
var environment: NodeBenchmarkEnvironment?
do {
    // Fails at once, before any measuring, when `traverse` is not built.
    if suite != .machines { environment = try NodeBenchmarkEnvironment.locate() }
    let limit = chachaPolyLimit(seconds: seconds)
    results.append(limit)
    if suite == .machines || suite == .all { results += try machineBenchmarks(limit: limit, seconds: seconds) }
    if let environment, suite == .nodes || suite == .all {
        results += try await nodeBenchmarks(environment, limit: limit, seconds: seconds)
    }
    if let environment, suite == .relay || suite == .all {
        results += try relayBenchmarks(environment, seconds: seconds)
    }
} catch {
    ChildProcesses.terminateAll()
    environment?.removeWorkDirectory()
    if !results.isEmpty { json ? results.forEach { print($0.jsonLine) } : printTable(results) }
    FileHandle.standardError.write(Data("benchmark failed: \(error)\n".utf8))
    exit(1)
}
ChildProcesses.terminateAll()
environment?.removeWorkDirectory()
if json {
    for result in results { print(result.jsonLine) }
} else {
    printTable(results)
}
