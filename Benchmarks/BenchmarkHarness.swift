import Foundation

/// One measured figure.
struct BenchmarkResult {
    let name: String
    let value: Double
    let unit: String
    /// The figure this one is compared with, and the ratio value / reference value.
    var reference: String?
    var ratio: Double?
    var note: String?

    var jsonLine: String {
        var fields: [String: Any] = ["name": name, "value": value, "unit": unit]
        if let reference { fields["reference"] = reference }
        if let ratio { fields["ratio"] = (ratio * 1000).rounded() / 1000 }
        if let note { fields["note"] = note }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs a body repeatedly for at least `seconds` of wall time (after a warm-up) and returns
/// the units of work done per second. `body` returns how many units it did.
func measureRate(seconds: Double, warmUp: Double = 0.2, _ body: () -> Int) -> Double {
    let warmUpEnd = DispatchTime.now().uptimeNanoseconds + UInt64(warmUp * 1e9)
    while DispatchTime.now().uptimeNanoseconds < warmUpEnd { _ = body() }
    var units = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed: UInt64 = 0
    repeat {
        units += body()
        elapsed = DispatchTime.now().uptimeNanoseconds - start
    } while Double(elapsed) < seconds * 1e9
    return Double(units) / (Double(elapsed) / 1e9)
}

/// Prints results as an aligned table.
func printTable(_ results: [BenchmarkResult]) {
    let nameWidth = max(4, results.map(\.name.count).max() ?? 0)
    func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
    print(pad("name", nameWidth) + "  " + pad("value", 14) + "  " + pad("unit", 14) + "  ratio to reference")
    for result in results {
        let value = result.value >= 100 ? String(format: "%.0f", result.value) : String(format: "%.3f", result.value)
        var line = pad(result.name, nameWidth) + "  " + pad(value, 14) + "  " + pad(result.unit, 14)
        if let ratio = result.ratio, let reference = result.reference {
            line += "  " + String(format: "%.1f%%", ratio * 100) + " of " + reference
        }
        if let note = result.note { line += "  (\(note))" }
        print(line)
    }
}
