import Foundation

/// A child process of `traverse demo` (a `traverse` node, or `nats-server`), its standard
/// output (and, when asked, standard error) read line by line on a thread of its own.
final class DemoProcess: @unchecked Sendable {
    // @unchecked: `lines`, `cursor` and `finished` are guarded by `lock`.
    let label: String
    private let process = Process()
    private let lock = NSLock()
    private var lines: [(at: ContinuousClock.Instant, text: String)] = []
    private var cursor = 0
    private var finished = false
    private var pending: [UInt8] = []

    /// The most lines kept; a process that prints more (a very long run) loses its oldest.
    private static let maximumLines = 10_000
    /// The longest line kept whole.
    private static let maximumLineLength = 64 * 1024

    /// Starts `arguments[0]` with the rest as its arguments.
    init(_ label: String, _ arguments: [String], readsStandardError: Bool = false) throws {
        self.label = label
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = output
        process.standardError = readsStandardError ? output : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
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
        lock.lock()
        defer { lock.unlock() }
        if data.isEmpty {
            if !pending.isEmpty { lines.append((.now, String(decoding: pending, as: UTF8.self))) }
            pending.removeAll()
            finished = true
            return
        }
        pending.append(contentsOf: data)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append((.now, String(decoding: pending[..<newline], as: UTF8.self)))
            pending.removeSubrange(...newline)
        }
        if pending.count > Self.maximumLineLength {
            // A line without an end: cut it, as a line of its own.
            lines.append((.now, String(decoding: pending, as: UTF8.self)))
            pending.removeAll()
        }
        if lines.count > Self.maximumLines {
            let dropped = lines.count - Self.maximumLines
            lines.removeFirst(dropped)
            cursor = max(0, cursor - dropped)
        }
    }

    /// The lines printed since the last call, with when each was read.
    func newLines() -> [(at: ContinuousClock.Instant, text: String)] {
        lock.lock()
        defer { lock.unlock() }
        let fresh = Array(lines[cursor...])
        cursor = lines.count
        return fresh
    }

    /// The next line not taken yet, or `nil`.
    func nextLine() -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard cursor < lines.count else { return nil }
        cursor += 1
        return lines[cursor - 1].text
    }

    /// Whether the output ended (the process exited or closed it) and every line was taken.
    var isDone: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished && cursor == lines.count
    }

    /// Takes lines until `match` returns a value, handing every line to `each` first;
    /// throws when the output ends or `timeout` passes first.
    func waitFor<Value>(
        _ what: String, timeout: Duration, each: (String) -> Void = { _ in }, _ match: (String) -> Value?
    ) throws -> Value {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            while let line = nextLine() {
                each(line)
                if let value = match(line) { return value }
            }
            if isDone { throw CommandFailure("\(label) ended before \(what)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw CommandFailure("\(label): no \(what) within \(timeout)")
    }

    /// Stops the process (SIGTERM, then SIGKILL after a second) and waits for it.
    func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(1)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

extension String {
    /// The line as a JSON object, or `nil`.
    var demoJSONObject: [String: Any]? {
        guard first == "{", let data = data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
