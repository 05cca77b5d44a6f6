import Foundation
import Testing

/// A py-libp2p 0.8.1 peer (`Interop/py/peer.py`) in a child process, read line by line.
///
/// The python is `$TRAVERSE_PY`, or the venv `scripts/setup-interop.sh` makes by default.
final class PyPeerProcess: @unchecked Sendable {
    // @unchecked: `lines` and `finished` are guarded by `condition`.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's python, if it exists.
    static var python: String? {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["TRAVERSE_PY"]
            ?? (environment["HOME"] ?? "/root") + "/.cache/traverse/py-libp2p-0.8.1/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Whether interop tests can run. Under CI a missing peer is a failure, not a skip.
    static var isAvailable: Bool {
        if python != nil { return true }
        return ProcessInfo.processInfo.environment["CI"] != nil
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var buffer: [UInt8] = []
    private var finished = false

    init(_ arguments: [String]) throws {
        guard let python = Self.python else {
            throw PyPeerError("no py-libp2p venv: run scripts/setup-interop.sh or set TRAVERSE_PY")
        }
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.repository.appendingPathComponent("Interop/py/peer.py").path] + arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        let thread = Thread { [weak self] in
            while true {
                let data = reader.availableData
                self?.append(data)
                if data.isEmpty { return }
            }
        }
        thread.start()
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

    /// The next line as a JSON object, waiting up to `timeout` seconds.
    func nextObject(timeout: Double = 30) throws -> [String: Any] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty {
            if finished { throw PyPeerError("py peer ended its output") }
            guard condition.wait(until: deadline) else { throw PyPeerError("no line from the py peer in \(timeout) s") }
        }
        let line = lines.removeFirst()
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw PyPeerError("not a JSON object: \(line)")
        }
        return object
    }

    /// The next object that has `key` equal to `value`, skipping others.
    func nextObject(where key: String, is value: String, timeout: Double = 30) throws -> [String: Any] {
        while true {
            let object = try nextObject(timeout: timeout)
            if object[key] as? String == value { return object }
        }
    }

    /// Every remaining line, once the process has ended its output, and its exit status.
    func finish(timeout: Double = 60) throws -> (objects: [[String: Any]], status: Int32) {
        var objects: [[String: Any]] = []
        while true {
            do {
                objects.append(try nextObject(timeout: timeout))
            } catch let error as PyPeerError where error.message == "py peer ended its output" {
                break
            }
        }
        process.waitUntilExit()
        return (objects, process.terminationStatus)
    }

    /// Closes stdin (the listener's signal to stop) and waits for the process.
    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date(timeIntervalSinceNow: 5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

struct PyPeerError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
