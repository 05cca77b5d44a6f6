import Foundation

/// A host of the demo: the relay (and the NATS server) on the "internet", A and B each
/// behind its own NAT.
enum DemoHost: String {
    case relay, hostA, hostB
    /// Two observers on other public /24s (the lab only).
    case obs
}

/// Where `traverse demo` runs: the NAT lab (`Interop/natlab/natlab.sh`: network
/// namespaces and Linux NATs, root only), or loopback.
struct DemoNetwork {
    enum Kind {
        /// The lab, built and removed with this script.
        case lab(script: String)
        /// 127.0.0.1, no NAT.
        case loopback
    }

    let kind: Kind

    var isLab: Bool { if case .lab = kind { true } else { false } }

    /// The argument vector that runs `arguments` on `host`.
    func command(on host: DemoHost, _ arguments: [String]) -> [String] {
        switch kind {
        case .lab: ["/usr/bin/env", "ip", "netns", "exec", "tv-\(host.rawValue)"] + arguments
        case .loopback: arguments
        }
    }

    /// Where a host listens.
    func listenAddress(_ host: DemoHost) -> String {
        switch (kind, host) {
        case (.lab, .hostA): "/ip4/0.0.0.0/tcp/4002"
        case (.lab, _): "/ip4/0.0.0.0/tcp/4001"
        case (.loopback, _): "/ip4/127.0.0.1/tcp/0"
        }
    }

    /// The observers' listen addresses: with the relay, three observer groups (the lab only).
    var observerListenAddresses: [String] { isLab ? ["/ip4/198.51.100.11/tcp/4001", "/ip4/192.0.2.11/tcp/4001"] : [] }

    /// The prefix of the relay's address that others can reach.
    var relayAddressPrefix: String { isLab ? "/ip4/203.0.113.10/" : "/ip4/127.0.0.1/" }

    /// The scope the nodes must treat as public (`--hole-punch-scope`).
    var publicScope: String { isLab ? "documentation" : "loopback" }

    /// The NATS server's bind arguments (`-a HOST -p PORT`; port -1: any).
    var natsServerArguments: [String] { isLab ? ["-a", "203.0.113.10", "-p", "4222"] : ["-a", "127.0.0.1", "-p", "-1"] }

    /// Builds the lab in `mode` (`cone`, `blocked`); nothing on loopback.
    func up(_ mode: String) throws {
        guard case .lab(let script) = kind else { return }
        guard Self.run([script, "up", mode]) == 0 else { throw CommandFailure("natlab.sh up \(mode) failed") }
    }

    /// Removes the lab (and whatever still runs in it).
    func down() {
        guard case .lab(let script) = kind else { return }
        _ = Self.run([script, "down"])
    }

    /// The lab if this machine can run it (root, `ip netns`, iptables, the script), else
    /// loopback, and why.
    static func choose(mode: String, script: String?) throws -> (DemoNetwork, reason: String) {
        let found = script ?? labScript()
        switch mode {
        case "loopback":
            return (DemoNetwork(kind: .loopback), "--mode loopback")
        case "lab", "auto":
            guard getuid() == 0 else {
                if mode == "lab" { throw CommandFailure("--mode lab needs root (network namespaces and iptables)") }
                return (DemoNetwork(kind: .loopback), "not root: network namespaces and NATs need root")
            }
            guard let found else {
                if mode == "lab" { throw CommandFailure("natlab.sh not found: pass --lab-script Interop/natlab/natlab.sh") }
                return (DemoNetwork(kind: .loopback), "Interop/natlab/natlab.sh not found (run from the repository)")
            }
            guard run([found, "check"]) == 0 else {
                if mode == "lab" { throw CommandFailure("this machine cannot run the NAT lab (natlab.sh check failed)") }
                return (DemoNetwork(kind: .loopback), "this machine cannot run the NAT lab (ip netns or iptables missing)")
            }
            return (DemoNetwork(kind: .lab(script: found)), "root with network namespaces")
        default:
            throw CommandFailure("--mode: expected auto, lab or loopback, got \(mode)")
        }
    }

    /// `Interop/natlab/natlab.sh` under the working directory or above the executable.
    static func labScript() -> String? {
        let relative = "Interop/natlab/natlab.sh"
        var candidates = [FileManager.default.currentDirectoryPath + "/" + relative]
        var directory = URL(fileURLWithPath: executablePath).deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent(relative).path)
            directory.deleteLastPathComponent()
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// This executable's path (the link `/proc/self/exe` names).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// `nats-server` on the path or where Debian puts it.
    static var natsServerPath: String? {
        let candidates = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
