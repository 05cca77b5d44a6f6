import ArgumentParser
import Foundation

/// Prints results as text lines or as one JSON object per line.
struct Output {
    let json: Bool

    /// Prints a result: `text` in text mode, `fields` as a JSON object in JSON mode.
    func emit(_ text: @autoclosure () -> String, fields: [String: any Sendable]) {
        let line = json ? Self.jsonLine(fields) : text()
        // Unbuffered, so a process reading our output sees each line as it is printed.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func jsonLine(_ fields: [String: any Sendable]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A failure reported as one line on stderr and a non-zero exit status.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension ParsableCommand {
    /// Runs `body`, turning any error into one line on stderr and exit status 1.
    func reportingFailures(json: Bool, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CommandFailure {
            Self.fail(error.message, json: json)
            throw ExitCode(1)
        } catch {
            Self.fail(String(describing: error), json: json)
            throw ExitCode(1)
        }
    }

    /// Runs `body`, turning any error into one line on stderr and exit status 1.
    func reportingFailures(json: Bool, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CommandFailure {
            Self.fail(error.message, json: json)
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch {
            Self.fail(String(describing: error), json: json)
            throw ExitCode(1)
        }
    }

    static func fail(_ message: String, json: Bool) {
        let line = json ? Output.jsonLine(["error": message]) : "error: \(message)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
