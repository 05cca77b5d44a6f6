import ArgumentParser
import Foundation

/// `traverse demo`: the whole story on this machine, narrated.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show NAT traversal end to end: a relay, two peers behind NATs, a reservation, a relayed connection, the hole punch to direct, and the NATS tier when direct and relay paths are blocked.",
        discussion: """
            As root on a machine with network namespaces, it builds the NAT lab of \
            Interop/natlab/natlab.sh (a relay on a public subnet, hosts A and B each behind its own Linux \
            NAT) and removes it afterwards; otherwise it runs on loopback and says what that cannot show. \
            Every peer is a `traverse` process (and Debian's nats-server for the NATS tier).
            """)

    @Option(name: .long, help: "Where to run: auto (the lab when root, else loopback), lab or loopback.")
    var mode = "auto"

    @Option(name: .long, help: "Pings in each part.")
    var pings = 10

    @Option(name: .long, help: "Seconds between pings.")
    var interval = 0.3

    @Option(name: .long, help: "The NAT lab script (default: Interop/natlab/natlab.sh, found from here or the executable).")
    var labScript: String?

    func run() throws {
        guard pings > 0, interval >= 0 else { throw CommandFailure("--pings must be positive, --interval not negative") }
        try reportingFailures(json: false) {
            let (network, reason) = try DemoNetwork.choose(mode: mode, script: labScript)
            let story = try DemoStory(network: network, pings: pings, interval: interval)
            story.cleanUpOnSignals()
            defer { story.cleanUp() }
            try story.tell(reason: reason)
        }
    }
}

/// The demo's parts, the processes it started and what it measured.
final class DemoStory: @unchecked Sendable {
    // @unchecked: used from the main thread, and once from a signal handler that cleans up
    // and exits (`cleanUp` is guarded by `lock`).
    let network: DemoNetwork
    let pings: Int
    let interval: Double
    private let traverse = DemoNetwork.executablePath
    private let directory: String
    private let start = ContinuousClock.now
    private let lock = NSLock()
    private var running: [DemoProcess] = []
    private var cleanedUp = false
    private var signalSources: [any DispatchSourceSignal] = []
    private var findings: [(String, String)] = []
    private var notShown: [String] = []

    init(network: DemoNetwork, pings: Int, interval: Double) throws {
        self.network = network
        self.pings = pings
        self.interval = interval
        directory = NSTemporaryDirectory() + "traverse-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    // MARK: Narration

    private func say(_ text: String) {
        let elapsed = (ContinuousClock.now - start).seconds
        write(String(format: "[%6.2f s] ", elapsed) + text)
    }

    /// One line to standard output, unbuffered (a reader sees it at once).
    private func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private func heading(_ text: String) {
        write("\n== \(text)")
    }

    // MARK: The story

    func tell(reason: String) throws {
        if network.isLab {
            heading("Traverse demo in the NAT lab (\(reason))")
            write("""
                  the internet  203.0.113.0/24: relay 203.0.113.10 (Circuit Relay v2; later also a NATS server)
                  host A        192.168.1.2 behind NAT A (203.0.113.20)
                  host B        192.168.2.2 behind NAT B (203.0.113.30)
                  Linux MASQUERADE NATs in network namespaces; unsolicited packets to a NAT are dropped.
                """)
        } else {
            heading("Traverse demo on loopback (\(reason))")
            write("  Everything runs on 127.0.0.1: there are no NATs, so what the lab would prove is only shown.")
            notShown.append("no real NAT: the hole punch is a TCP simultaneous open between two loopback ports")
            notShown.append("nothing is blocked: the NATS part uses a peer with no address but its peer ID")
        }
        try relayThenDirect()
        try natsWhenBlocked()
        summary()
    }

    /// Part 1: B reserves on the relay; A reaches B through it; DCUtR turns the relayed
    /// connection into a direct one while A keeps pinging.
    private func relayThenDirect() throws {
        heading("Part 1: relayed connection, then the hole punch to direct")
        try network.up("cone")
        let relay = try spawn("relay", on: .relay, [
            traverse, "relay", "--key", "\(directory)/relay.key", "--listen", network.listenAddress(.relay), "--json",
        ])
        let relayAddress = try relay.waitFor("its address", timeout: .seconds(20)) { line -> String? in
            guard let address = line.demoJSONObject?["address"] as? String, address.hasPrefix(network.relayAddressPrefix) else { return nil }
            return address
        }
        say("relay up at \(relayAddress)")
        var observers: [String] = []
        for (index, listen) in network.observerListenAddresses.enumerated() {
            let observer = try spawn("observer", on: .obs, [
                traverse, "listen", "--key", "\(directory)/observer\(index).key", "--listen", listen,
                "--public-scope", network.publicScope, "--json",
            ])
            observers.append(try observer.waitFor("its address", timeout: .seconds(20)) { line -> String? in
                line.demoJSONObject?["address"] as? String
            })
        }
        if !observers.isEmpty {
            say("two observers up on other public networks (198.51.100.11, 192.0.2.11): B connects to them and to the relay, and identify tells B where each sees it")
        }
        let b = try spawn("B", on: .hostB, [
            traverse, "listen", "--key", "\(directory)/b.key", "--listen", network.listenAddress(.hostB),
            "--relay", relayAddress, "--hole-punch-scope", network.publicScope, "--json",
        ] + observers.flatMap { ["--connect", $0] })
        let circuit = try b.waitFor("a reservation", timeout: .seconds(20)) { line -> String? in
            guard let address = line.demoJSONObject?["address"] as? String, address.hasPrefix(network.relayAddressPrefix),
                  address.contains("/p2p-circuit/") else { return nil }
            return address
        }
        say("B holds a reservation on the relay; its circuit address is\n             \(circuit)")
        if network.isLab {
            say("A cannot dial B: NAT B drops unsolicited connections. A dials the circuit address.")
        } else {
            say("A is given only B's circuit address, so it starts through the relay.")
        }
        let a = try spawn("A", on: .hostA, [
            traverse, "ping", circuit, "--count", "\(pings)", "--interval", "\(interval)", "--listen",
            network.listenAddress(.hostA), "--hole-punch-scope", network.publicScope, "--json", "--timeout", "30",
        ])
        var tiers: [String] = [], times: [String: [Double]] = [:]
        var holePunch: String?
        var natType: String?
        var finalMetrics: String?
        follow(a, alongside: [b, relay]) { process, object in
            switch (process.label, object["event"] as? String) {
            case ("A", "metrics"):
                finalMetrics = Self.metricsSummary(object)
            case ("A", _):
                guard let tier = object["tier"] as? String, let rtt = object["rtt_ms"] as? Double, let seq = object["seq"] as? Int else {
                    return
                }
                tiers.append(tier)
                times[tier, default: []].append(rtt)
                say(String(format: "A: ping %d answered in %.2f ms over the %@ connection", seq, rtt, tier))
            case ("B", "hole_punch_succeeded"):
                let ms = object["time_to_direct_ms"] as? Double ?? .nan
                let attempt = object["attempt"] as? Int ?? 0
                holePunch = String(format: "%.1f ms after the relayed connection opened, attempt %d", ms, attempt)
                say(String(format: "B: DCUtR hole punch succeeded: direct connection %.1f ms after the relayed one (attempt %d); the relayed connection closes after a 2 s grace", ms, attempt))
            case ("B", "reachability_changed"):
                natType = object["nat_type"] as? String
                let addresses = (object["public_addresses"] as? [String]) ?? []
                say("B's status: NAT \(object["nat_type"] as? String ?? "?"), reachability \(object["reachability"] as? String ?? "?")"
                    + (addresses.isEmpty ? "" : ", public address \(addresses.joined(separator: ", "))")
                    + ((object["relay_required"] as? Bool) == true ? ", relay required" : ""))
            case ("B", "hole_punch_failed"):
                say("B: hole punch failed: \(object["reason"] as? String ?? "?"); traffic stays on the relay")
            case ("B", "connected") where object["tier"] as? String == "relay":
                say("B: relayed connection from \(object["peer_id"] as? String ?? "A") (A)")
            case ("relay", "circuit_opened"):
                say("relay: circuit opened A -> B")
            case ("relay", "circuit_closed"):
                let forth = object["bytes_to_target"] as? Int ?? 0, back = object["bytes_to_source"] as? Int ?? 0
                say("relay: circuit closed (\(object["reason"] as? String ?? "?")), \(forth) B relayed to B, \(back) B back")
            default:
                break
            }
        }
        findings.append(("pings in part 1", "\(tiers.count)/\(pings) answered: " + tierCounts(tiers)))
        for tier in ["relay", "direct"] {
            if let median = median(times[tier]) { findings.append(("median RTT over \(tier)", String(format: "%.2f ms", median))) }
        }
        findings.append(("relayed -> direct", holePunch ?? "no hole punch"))
        if let natType { findings.append(("B's NAT type (observers)", natType)) }
        if let finalMetrics { findings.append(("A's metrics for B (part 1)", finalMetrics)) }
        guard tiers.count == pings else { throw CommandFailure("part 1: only \(tiers.count) of \(pings) pings were answered") }
        stop(processes)
    }

    /// Part 2: only the NATS server is reachable; A reaches B through it.
    private func natsWhenBlocked() throws {
        heading("Part 2: direct and relay paths blocked, the NATS tier")
        guard let natsServer = DemoNetwork.natsServerPath else {
            say("nats-server is not installed (apt-get install nats-server): part 2 skipped")
            notShown.append("the NATS tier (nats-server missing)")
            return
        }
        try network.up("blocked")
        if network.isLab {
            say("lab rebuilt: the NATs now let the hosts reach only the NATS server's port on 203.0.113.10")
        }
        let nats = try spawn("nats", on: .relay, [natsServer] + network.natsServerArguments, readsStandardError: true)
        let natsAddress = try nats.waitFor("the NATS server", timeout: .seconds(10)) { line -> String? in
            guard let range = line.range(of: "Listening for client connections on ") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        let natsURL = "nats://\(natsAddress)"
        say("NATS server up at \(natsURL)")
        let b = try spawn("B", on: .hostB, [
            traverse, "listen", "--key", "\(directory)/b2.key", "--listen", network.listenAddress(.hostB),
            "--nats", natsURL, "--hole-punch-scope", network.publicScope, "--json",
        ])
        let bAddress = try b.waitFor("B's address", timeout: .seconds(20)) { line -> String? in
            guard let object = line.demoJSONObject, object["event"] as? String == "listening",
                  let address = object["address"] as? String, address.contains("/p2p/") else { return nil }
            return address
        }
        let bPeer = String(bAddress[bAddress.range(of: "/p2p/")!.upperBound...])
        _ = try b.waitFor("B's NATS connection", timeout: .seconds(20)) { line -> Bool? in
            line.demoJSONObject?["event"] as? String == "nats_connected" ? true : nil
        }
        say("B is connected to the NATS server and subscribed to its peer ID's subject")
        say("A knows only B's peer ID; every other path is closed, so the dial ends in a NATS pipe (Noise and Yamux inside it: the server sees ciphertext)")
        let a = try spawn("A", on: .hostA, [
            traverse, "ping", "/p2p/\(bPeer)", "--nats", natsURL, "--count", "\(pings)", "--interval", "\(interval)",
            "--json", "--timeout", "30",
        ])
        var tiers: [String] = [], times: [Double] = []
        var finalMetrics: String?
        follow(a, alongside: [b]) { process, object in
            if process.label == "A", object["event"] as? String == "metrics" { finalMetrics = Self.metricsSummary(object) }
            guard process.label == "A", let tier = object["tier"] as? String, let rtt = object["rtt_ms"] as? Double,
                  let seq = object["seq"] as? Int else { return }
            tiers.append(tier)
            times.append(rtt)
            say(String(format: "A: ping %d answered in %.2f ms over the %@ connection", seq, rtt, tier))
        }
        findings.append(("pings in part 2", "\(tiers.count)/\(pings) answered: " + tierCounts(tiers)))
        if let median = median(times) { findings.append(("median RTT over nats", String(format: "%.2f ms", median))) }
        if let finalMetrics { findings.append(("A's metrics for B (part 2)", finalMetrics)) }
        guard tiers.count == pings else { throw CommandFailure("part 2: only \(tiers.count) of \(pings) pings were answered") }
        stop(processes)
    }

    private func summary() {
        heading("Summary")
        let width = findings.map(\.0.count).max() ?? 0
        for (name, value) in findings {
            write("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
        if !notShown.isEmpty {
            write("  Not shown here:")
            for item in notShown { write("    - \(item)") }
        }
    }

    // MARK: Processes

    private func spawn(_ label: String, on host: DemoHost, _ arguments: [String], readsStandardError: Bool = false) throws -> DemoProcess {
        let process = try DemoProcess(label, network.command(on: host, arguments), readsStandardError: readsStandardError)
        lock.lock()
        running.append(process)
        lock.unlock()
        return process
    }

    /// Hands every JSON line of `main` and `others` to `handle` until `main`'s output
    /// ends, then what the others print in the next half second.
    private func follow(_ main: DemoProcess, alongside others: [DemoProcess], _ handle: (DemoProcess, [String: Any]) -> Void) {
        // Lines are handled in the order they were read, whichever process printed them.
        func drain() -> Bool {
            var fresh: [(at: ContinuousClock.Instant, process: DemoProcess, text: String)] = []
            for process in [main] + others {
                fresh += process.newLines().map { ($0.at, process, $0.text) }
            }
            for line in fresh.sorted(by: { $0.at < $1.at }) {
                if let object = line.text.demoJSONObject { handle(line.process, object) }
            }
            return !fresh.isEmpty
        }
        while !main.isDone {
            if !drain() { Thread.sleep(forTimeInterval: 0.02) }
        }
        let end = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < end {
            if !drain() { Thread.sleep(forTimeInterval: 0.02) }
        }
    }

    /// Every process of the part so far (its peers, servers and observers).
    private var processes: [DemoProcess] {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    /// Stops the part's processes and removes the lab.
    private func stop(_ stopping: [DemoProcess]) {
        for process in stopping.reversed() { process.terminate() }
        lock.lock()
        running.removeAll { process in stopping.contains { $0 === process } }
        lock.unlock()
        network.down()
    }

    /// Stops every process, removes the lab and the demo's files. Idempotent.
    func cleanUp() {
        lock.lock()
        guard !cleanedUp else {
            lock.unlock()
            return
        }
        cleanedUp = true
        let left = running
        running.removeAll()
        lock.unlock()
        for process in left.reversed() { process.terminate() }
        network.down()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Ctrl-C or SIGTERM clean up before exiting.
    func cleanUpOnSignals() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                cleanUp()
                Foundation.exit(130)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    // MARK: Figures

    /// `traverse ping`'s closing metrics line, in a few words.
    private static func metricsSummary(_ object: [String: Any]) -> String {
        var text = "tier \(object["tier"] as? String ?? "?")"
        if let average = object["rtt_average_ms"] as? Double { text += String(format: ", latency %.2f ms (EMA)", average) }
        text += ", \(object["requests"] as? Int ?? 0) requests, \(object["requests_failed"] as? Int ?? 0) failed"
        if let rate = object["success_rate"] as? Double { text += String(format: ", success %.0f %%", rate * 100) }
        let punches = object["hole_punches_succeeded"] as? Int ?? 0
        if punches > 0 { text += ", \(punches) hole punch" }
        return text
    }

    private func tierCounts(_ tiers: [String]) -> String {
        ["relay", "direct", "nats"].compactMap { tier in
            let count = tiers.filter { $0 == tier }.count
            return count > 0 ? "\(count) over \(tier)" : nil
        }.joined(separator: ", ")
    }

    private func median(_ values: [Double]?) -> Double? {
        guard let values, !values.isEmpty else { return nil }
        return values.sorted()[values.count / 2]
    }
}
