import Foundation
import Testing

/// `traverse demo` as the README runs it, on loopback (the lab variant needs root and is
/// run by `NATLabTests.theDemoRunsInTheLab`): real processes, real sockets, a real
/// nats-server.
@Suite(.enabled(if: NATLab.traverse != nil, "needs the traverse executable"))
struct DemoTests {
    /// Runs `traverse demo ARGUMENTS`; returns its exit status and output.
    static func demo(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(NATLab.traverse))
        process.arguments = ["demo"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func theLoopbackDemoTellsTheWholeStory() throws {
        let (status, output) = try Self.demo(["--mode", "loopback", "--pings", "4", "--interval", "0.1"])
        #expect(status == 0, "\(output)")
        // Part 1: relayed first, then direct after B's hole punch.
        #expect(output.contains("B holds a reservation on the relay"))
        #expect(output.contains("A: ping 1 answered in"))
        #expect(output.contains("B: DCUtR hole punch succeeded"))
        let part1 = try #require(output.components(separatedBy: "\n").first { $0.contains("pings in part 1") })
        #expect(part1.contains("4/4 answered"))
        #expect(part1.contains("over direct"))
        // Part 2: every ping over NATS, when nats-server is installed.
        if FileManager.default.isExecutableFile(atPath: "/usr/sbin/nats-server") {
            let part2 = try #require(output.components(separatedBy: "\n").first { $0.contains("pings in part 2") })
            #expect(part2.contains("4/4 answered: 4 over nats"))
        }
        #expect(output.contains("Not shown here:"))
        // A wrong mode is a clear error.
        let wrong = try Self.demo(["--mode", "nonsense"])
        #expect(wrong.status != 0 && wrong.output.contains("--mode"))
    }
}
