// traverse-bench: Traverse's benchmarks, every figure measured in the same run.
//
//   swift run -c release traverse-bench [--json] [--seconds S]
//
// Prints a table, or with --json one object per line: name, value, unit, and for figures
// compared with a reference, `reference` (its name) and `ratio` (value / reference value).
import Foundation

var json = false
var seconds = 2.0
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
    default:
        FileHandle.standardError.write(Data("usage: traverse-bench [--json] [--seconds S]\n".utf8))
        exit(2)
    }
}

func compared(_ result: BenchmarkResult, with reference: BenchmarkResult, scale: Double = 1) -> BenchmarkResult {
    var result = result
    result.reference = reference.name
    result.ratio = result.value * scale / reference.value
    return result
}

do {
    let limit = chachaPolyLimit(seconds: seconds)
    let noise = compared(try noiseTransportThroughput(seconds: seconds), with: limit)
    // Yamux is reported in GB/s, the limit in MB/s.
    let yamuxOne = try yamuxThroughput(streams: 1, seconds: seconds)
    let yamuxMany = try yamuxThroughput(streams: 64, seconds: seconds)
    let connection = compared(try connectionThroughput(seconds: seconds), with: limit)
    let bound = noiseHandshakeBound(seconds: seconds)
    let handshakes = compared(try noiseHandshakeRate(seconds: seconds), with: bound)
    let results = [limit, noise, yamuxOne, yamuxMany, connection, bound, handshakes]
    if json {
        for result in results { print(result.jsonLine) }
    } else {
        printTable(results)
    }
} catch {
    FileHandle.standardError.write(Data("benchmark failed: \(error)\n".utf8))
    exit(1)
}
