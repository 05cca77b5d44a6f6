import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the node benchmarks run: the `traverse` executable beside `traverse-bench`, and
/// py-libp2p's peer when its Python is installed; plus a directory for keys and logs.
struct NodeBenchmarkEnvironment: Sendable {
    /// The `traverse` executable.
    let traverse: String
    /// py-libp2p 0.8.1's Python and `Interop/py/peer.py`, or `nil` when either is missing.
    let python: (interpreter: String, peerScript: String)?
    /// A fresh directory for key files and the children's stderr.
    let workDirectory: String

    /// Finds the programs and makes the directory; throws a message saying how to build
    /// `traverse` when it is not beside this executable.
    static func locate() throws -> NodeBenchmarkEnvironment {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        let traverse = directory.appendingPathComponent("traverse").path
        guard FileManager.default.isExecutableFile(atPath: traverse) else {
            throw BenchmarkFailure(
                "the node benchmarks run the `traverse` executable from the same build directory, "
                    + "and \(traverse) is missing: build it first with "
                    + "`swift build -c release --product traverse` (or run `--suite machines`)")
        }
        var template = Array("/tmp/traverse-bench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw BenchmarkFailure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        return NodeBenchmarkEnvironment(traverse: traverse, python: locatePython(), workDirectory: String(cString: made))
    }

    /// `$TRAVERSE_PY`, else the venv `scripts/setup-interop.sh` makes; with `peer.py` of this
    /// source tree.
    private static func locatePython() -> (interpreter: String, peerScript: String)? {
        let environment = ProcessInfo.processInfo.environment
        let interpreter = environment["TRAVERSE_PY"]
            ?? ((environment["HOME"] ?? "") + "/.cache/traverse/py-libp2p-0.8.1/bin/python")
        let peerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/py/peer.py").path
        guard FileManager.default.isExecutableFile(atPath: interpreter),
              FileManager.default.fileExists(atPath: peerScript)
        else { return nil }
        return (interpreter, peerScript)
    }

    /// Removes the work directory.
    func removeWorkDirectory() {
        try? FileManager.default.removeItem(atPath: workDirectory)
    }

    /// Runs a program to its end and returns its stdout lines and the CPU time it used
    /// (`name` names its stderr log).
    func run(
        _ executable: String, _ arguments: [String], name: String, timeout: Double
    ) throws -> (lines: [String], cpuSeconds: Double) {
        let child = try ChildProcess(
            executable: executable, arguments: arguments, stderrPath: "\(workDirectory)/\(name).stderr")
        let lines = try child.output(timeout: timeout)
        return (lines, child.cpuSeconds ?? 0)
    }

    /// Starts `traverse listen` on a loopback port with a key of its own; returns the process
    /// and its full address (`/ip4/127.0.0.1/tcp/P/p2p/ID`), its first line of output.
    func startTraverseListener(_ name: String, extraArguments: [String] = []) throws -> (ChildProcess, String) {
        let child = try ChildProcess(
            executable: traverse,
            arguments: ["listen", "--quiet", "--listen", "/ip4/127.0.0.1/tcp/0", "--key", "\(workDirectory)/\(name).key"]
                + extraArguments,
            stderrPath: "\(workDirectory)/\(name).stderr")
        do {
            let line = try child.firstLine(timeout: 30)
            guard line.hasPrefix("/ip4/127.0.0.1/tcp/"), line.contains("/p2p/") else {
                throw BenchmarkFailure("\(child.commandLine): unexpected first line \(line)")
            }
            return (child, line)
        } catch {
            child.terminate()
            throw error
        }
    }

    /// Starts `peer.py listen --quiet` on a loopback port; returns the process and its address.
    func startPyListener(_ name: String) throws -> (ChildProcess, String) {
        guard let python else { throw BenchmarkFailure("py-libp2p is not installed") }
        let child = try ChildProcess(
            executable: python.interpreter,
            arguments: [python.peerScript, "listen", "--quiet", "--ignore-stdin", "--listen", "/ip4/127.0.0.1/tcp/0"],
            stderrPath: "\(workDirectory)/\(name).stderr")
        do {
            let line = try child.firstLine(timeout: 60)
            guard let object = jsonObject(line), let addresses = object["addrs"] as? [Any],
                  let address = addresses.first as? String
            else { throw BenchmarkFailure("\(child.commandLine): unexpected first line \(line)") }
            return (child, address)
        } catch {
            child.terminate()
            throw error
        }
    }
}

/// A line of JSON as a dictionary, or `nil`.
func jsonObject(_ line: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
}

/// A number field of a JSON object.
func jsonNumber(_ object: [String: Any], _ key: String) -> Double? {
    (object[key] as? NSNumber)?.doubleValue
}

/// The median of three or more values (the lower middle one for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[(sorted.count - 1) / 2]
}

/// Ends the benchmark (and every child) if it is not disarmed within `seconds`: a hung peer
/// must not hang the run.
final class Watchdog {
    private let item: DispatchWorkItem

    init(_ what: String, seconds: Double) {
        item = DispatchWorkItem {
            FileHandle.standardError.write(Data("benchmark failed: \(what) took more than \(Int(seconds)) s\n".utf8))
            ChildProcesses.terminateAll()
            exit(1)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
    }

    func disarm() { item.cancel() }
}

/// Process figures read from `/proc`.
enum ProcessFigures {
    /// The resident set size of `pid` (`"self"` for this process) in KiB, from
    /// `/proc/PID/status`.
    static func residentKiB(_ pid: String) throws -> Int {
        let path = "/proc/\(pid)/status"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchmarkFailure("cannot read \(path)")
        }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, let kib = Int(fields[1]) { return kib }
        }
        throw BenchmarkFailure("no VmRSS in \(path)")
    }

    /// The CPU time (user + system) `pid` (`"self"` for this process) has used, in seconds,
    /// from `/proc/PID/stat`.
    static func cpuSeconds(_ pid: String) -> Double {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return 0 }
        let text = String(decoding: data, as: UTF8.self)
        // The command name (field 2) may hold spaces; the fields after its ')' are plain.
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // Fields 3... follow: utime is field 14, stime field 15 (indices 11 and 12 here).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Raises this process's soft limit on open files to its hard limit; returns the limit.
    @discardableResult
    static func raiseDescriptorLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return UInt64(limit.rlim_cur)
    }
}
