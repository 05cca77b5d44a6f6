import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A benchmark that could not run, with a one-line reason.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A child process of the benchmark: stdin from `/dev/null`, stdout on a pipe that a thread of
/// its own drains line by line (so a chatty child never blocks on a full pipe), stderr into a
/// file shown when something fails. Every child is registered in `ChildProcesses` until it is
/// reaped, so an error or a signal can end them all.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `lines`, `droppedLines`, `outputEnded`, `status` and `usedCPU` are guarded
    // by `condition`.
    let pid: pid_t
    /// The command line, for messages.
    let commandLine: String
    private let stderrPath: String
    private let condition = NSCondition()
    private var lines: [String] = []
    private var droppedLines = 0
    private var outputEnded = false
    private var status: Int32?
    private var usedCPU: Double?

    /// Lines of stdout kept; later ones are counted and dropped.
    static let keptLines = 256

    /// Starts `executable` with `arguments`; its stderr goes to `stderrPath`.
    init(executable: String, arguments: [String], stderrPath: String) throws {
        self.commandLine = ([executable] + arguments).joined(separator: " ")
        self.stderrPath = stderrPath
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            throw BenchmarkFailure("pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec, so no other child holds the write end open (the dup2 below gives this
        // child a copy without the flag).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment: [UnsafeMutablePointer<CChar>?] =
            ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            environment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environment)
        close(pipeEnds[1])
        guard result == 0 else {
            close(pipeEnds[0])
            throw BenchmarkFailure("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        ChildProcesses.register(self)
        let readEnd = pipeEnds[0]
        let reader = Thread { [self] in drain(readEnd) }
        reader.start()
    }

    /// The first line of stdout, waiting at most `timeout` seconds for it.
    func firstLine(timeout: Double) throws -> String {
        try firstLine(timeout: timeout) { _ in true }
    }

    /// The first line of stdout (of the first `keptLines`) that `predicate` accepts,
    /// waiting at most `timeout` seconds for it.
    func firstLine(timeout: Double, where predicate: (String) -> Bool) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        var checked = 0
        while true {
            if let line = lines[checked...].first(where: predicate) { return line }
            checked = lines.count
            if outputEnded || Date() >= deadline { break }
            _ = condition.wait(until: deadline)
        }
        throw BenchmarkFailure(
            "\(commandLine): \(outputEnded ? "ended" : "printed no awaited line in \(timeout) s")\(stderrTail())")
    }

    /// Waits at most `timeout` seconds for the process to exit (killing it after that) and
    /// returns its stdout lines; throws unless it exited with status 0.
    func output(timeout: Double) throws -> [String] {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while reap(blocking: false) == nil {
            guard DispatchTime.now().uptimeNanoseconds < deadline else {
                terminate()
                throw BenchmarkFailure("\(commandLine): no exit after \(timeout) s\(stderrTail())")
            }
            usleep(2000)
        }
        condition.lock()
        defer { condition.unlock() }
        while !outputEnded {
            if !condition.wait(until: Date(timeIntervalSinceNow: 5)) { break }
        }
        guard status == 0 else {
            throw BenchmarkFailure("\(commandLine): exit status \(status ?? -1)\(stderrTail())")
        }
        return lines
    }

    /// The CPU time (user + system) the process used, once it has been reaped.
    var cpuSeconds: Double? {
        condition.lock()
        defer { condition.unlock() }
        return usedCPU
    }

    /// Sends SIGTERM, waits up to 5 s, then SIGKILL; reaps the process. Idempotent.
    func terminate() {
        guard reap(blocking: false) == nil else { return }
        kill(pid, SIGTERM)
        for _ in 0..<2500 {
            if reap(blocking: false) != nil { return }
            usleep(2000)
        }
        kill(pid, SIGKILL)
        _ = reap(blocking: true)
    }

    /// The exit status (the code, or 128 + the signal), reaping the process if it ended.
    private func reap(blocking: Bool) -> Int32? {
        condition.lock()
        defer { condition.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        var usage = rusage()
        var result: pid_t
        repeat {
            result = wait4(pid, &raw, blocking ? 0 : WNOHANG, &usage)
        } while result < 0 && errno == EINTR
        guard result == pid else { return nil }
        usedCPU = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        let finished = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        status = finished
        ChildProcesses.unregister(pid)
        return finished
    }

    private func drain(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var partial: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            partial.append(contentsOf: buffer[0..<count])
            while let newline = partial.firstIndex(of: 0x0A) {
                keep(String(decoding: partial[..<newline], as: UTF8.self))
                partial.removeSubrange(...newline)
            }
            // A line longer than 1 MiB is no line we need.
            if partial.count > 1 << 20 { partial.removeAll() }
        }
        close(descriptor)
        if !partial.isEmpty { keep(String(decoding: partial, as: UTF8.self)) }
        condition.lock()
        outputEnded = true
        condition.broadcast()
        condition.unlock()
    }

    private func keep(_ line: String) {
        condition.lock()
        if lines.count < Self.keptLines { lines.append(line) } else { droppedLines += 1 }
        condition.broadcast()
        condition.unlock()
    }

    /// The end of the child's stderr, for an error message.
    private func stderrTail() -> String {
        guard let data = FileManager.default.contents(atPath: stderrPath), !data.isEmpty else { return "" }
        let text = String(decoding: data.suffix(600), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return "; stderr: " + text.replacingOccurrences(of: "\n", with: " | ")
    }
}

/// The running children, so every one of them can be ended on the way out.
enum ChildProcesses {
    private static let running = Mutex<[pid_t: ChildProcess]>([:])

    static func register(_ child: ChildProcess) {
        running.withLock { $0[child.pid] = child }
    }

    static func unregister(_ pid: pid_t) {
        _ = running.withLock { $0.removeValue(forKey: pid) }
    }

    /// Terminates (SIGTERM, then waits) every child still running.
    static func terminateAll() {
        let children = running.withLock { Array($0.values) }
        for child in children { child.terminate() }
    }

    /// Ends the children when the benchmark gets SIGINT or SIGTERM, then exits. Call once, at
    /// start-up.
    static func terminateOnSignals() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                terminateAll()
                exit(128 + signalNumber)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Kept alive for the life of the process; written only by `terminateOnSignals`, which
    /// runs once at start-up before any other thread exists.
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []
}
