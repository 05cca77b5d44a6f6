import Foundation
import Testing

/// The NAT lab of `Interop/natlab/natlab.sh` (root, network namespaces, iptables) and
/// `traverse` processes inside it, read line by line.
enum NATLab {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let script = repository.appendingPathComponent("Interop/natlab/natlab.sh").path

    /// The `traverse` executable built next to the test bundle.
    static var traverse: String? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory.appendingPathComponent("traverse").path, repository.appendingPathComponent(".build/debug/traverse").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether this machine can run the lab: root, `ip netns` and NAT in a namespace, and
    /// the executable. Asked once.
    static let isAvailable: Bool = {
        guard traverse != nil, getuid() == 0 else { return false }
        return (try? run([script, "check"])) == 0
    }()

    /// Builds the lab in `mode` (`cone`, `symmetric`, `blocked`), with `options` (e.g.
    /// `--unsolicited rst`).
    static func up(_ mode: String, _ options: [String] = []) throws {
        guard try run([script, "up", mode] + options) == 0 else { throw NATLabError("natlab.sh up \(mode) failed") }
    }

    /// Removes the lab and everything running in it.
    static func down() {
        _ = try? run([script, "down"])
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct NATLabError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A `traverse` command in a lab namespace, its standard output read line by line.
final class LabProcess: @unchecked Sendable {
    // @unchecked: `lines` and `finished` are guarded by `condition`.
    private let process = Process()
    private let output = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var buffer: [UInt8] = []
    private var finished = false

    /// Runs `traverse ARGUMENTS` (or `executable ARGUMENTS`) in the namespace of lab host
    /// `host` (`relay`, `hostA`, `hostB`, `obs`), reading its standard output (and its
    /// standard error too when asked).
    init(host: String, executable: String? = nil, _ arguments: [String], readsStandardError: Bool = false) throws {
        guard let program = executable ?? NATLab.traverse else { throw NATLabError("no traverse executable") }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", "tv-\(host)", program] + arguments
        process.standardOutput = output
        process.standardError = readsStandardError ? output : FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        Thread { [weak self] in
            while true {
                let data = reader.availableData
                self?.append(data)
                if data.isEmpty { return }
            }
        }.start()
    }

    private func append(_ data: Data) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if data.isEmpty {
            finished = true
            return
        }
        buffer.append(contentsOf: data)
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
            buffer.removeSubrange(...newline)
        }
    }

    /// Waits up to `timeout` seconds for a line `matching` returns a value for (every line
    /// from the first is handed to it, under the lock: it must not call back into this
    /// process object).
    func first<T>(timeout: Double = 30, _ matching: (String) -> T?) throws -> T {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var seen = 0
        condition.lock()
        defer { condition.unlock() }
        while true {
            while seen < lines.count {
                if let value = matching(lines[seen]) { return value }
                seen += 1
            }
            if finished { throw NATLabError("the process ended without the line expected") }
            guard condition.wait(until: deadline) else { throw NATLabError("no such line in \(timeout) s") }
        }
    }

    /// Every line so far, after the process ended (waiting up to `timeout` seconds).
    func allLines(afterExit timeout: Double) throws -> [String] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            guard condition.wait(until: deadline) else {
                process.terminate()
                throw NATLabError("the process did not end in \(timeout) s")
            }
        }
        return lines
    }

    /// The lines so far.
    var currentLines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// Stops the process: SIGTERM, then SIGKILL if it is still there after 5 s.
    func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date(timeIntervalSinceNow: 5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { terminate() }
}

extension String {
    /// The JSON object on this line, if it is one.
    var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(utf8))) as? [String: Any]
    }
}
