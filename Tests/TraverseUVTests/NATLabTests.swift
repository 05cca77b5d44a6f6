import Foundation
import Testing

/// Hole punching through real Linux NATs (`Interop/natlab/natlab.sh`: a relay on a public
/// subnet, hosts A and B each behind its own NAT). Needs root and network namespaces; the
/// suite is skipped elsewhere (`scripts/test.sh` says so). Each test builds the lab and
/// removes it.
///
/// B runs `traverse listen` with a reservation on the relay; A runs `traverse ping` to B's
/// circuit address, listening on a port of its own (hole punching dials from it). The
/// lab's public side uses the documentation ranges, hence `--hole-punch-scope documentation`.
@Suite(.serialized, .enabled(if: NATLab.isAvailable, "needs root, ip netns and iptables (Interop/natlab/natlab.sh check)"))
struct NATLabTests {
    /// The two observers of the lab (198.51.100.11 and 192.0.2.11: with the relay, three
    /// observer groups) and their addresses.
    static func observers() throws -> (processes: [LabProcess], addresses: [String]) {
        var processes: [LabProcess] = [], addresses: [String] = []
        for (index, host) in ["198.51.100.11", "192.0.2.11"].enumerated() {
            let observer = try LabProcess(host: "obs", [
                "listen", "--key", "/tmp/tv-natlab-obs\(index).key", "--listen", "/ip4/\(host)/tcp/4001",
                "--public-scope", "documentation",
            ])
            processes.append(observer)
            addresses.append(try observer.first { $0.hasPrefix("/ip4/\(host)/") ? $0 : nil })
        }
        return (processes, addresses)
    }

    /// The relay, the observers and B in a fresh lab; returns them and B's circuit address.
    /// B connects to the observers at start, so it learns its NAT's mapping and type.
    static func relayAndListener(mode: String, extra: [String] = []) throws
        -> (relay: LabProcess, listener: LabProcess, circuit: String, observers: [LabProcess])
    {
        try NATLab.up(mode, extra)
        // Every A comes from natA's one address: the default per-IP circuit rate (8 a
        // minute) would refuse the later trials.
        let relay = try LabProcess(host: "relay", [
            "relay", "--key", "/tmp/tv-natlab-relay.key", "--listen", "/ip4/0.0.0.0/tcp/4001", "--circuit-rate", "1000",
            "--public-scope", "documentation",
        ])
        let relayAddress = try relay.first { $0.hasPrefix("/ip4/203.0.113.10/") ? $0 : nil }
        let (observers, observerAddresses) = try Self.observers()
        let listener = try LabProcess(host: "hostB", [
            "listen", "--key", "/tmp/tv-natlab-b.key", "--listen", "/ip4/0.0.0.0/tcp/4001", "--relay", relayAddress,
            "--hole-punch-scope", "documentation", "--json",
        ] + observerAddresses.flatMap { ["--connect", $0] })
        let circuit = try listener.first { line -> String? in
            guard let range = line.range(of: #"/ip4/203\.0\.113\.10/tcp/4001/p2p/\w+/p2p-circuit/p2p/\w+"#, options: .regularExpression)
            else { return nil }
            return String(line[range])
        }
        return (relay, listener, circuit, observers)
    }

    /// B's NAT type as its observers show it (the first `reachability_changed` with one).
    static func natType(of listener: LabProcess) throws -> String {
        try listener.first(timeout: 10) { line -> String? in
            guard let object = line.jsonObject, object["event"] as? String == "reachability_changed",
                  let type = object["nat_type"] as? String, type != "unknown" else { return nil }
            return type
        }
    }

    /// `traverse ping` from A: the tier of every ping, in order (nil: the command failed).
    static func pingFromA(_ circuit: String, port: Int, count: Int, interval: Double) throws -> [String]? {
        let ping = try LabProcess(host: "hostA", [
            "ping", circuit, "--count", "\(count)", "--interval", "\(interval)", "--listen", "/ip4/0.0.0.0/tcp/\(port)",
            "--hole-punch-scope", "documentation", "--json", "--timeout", "30",
        ])
        let lines = try ping.allLines(afterExit: 40)
        // One line per ping (with its sequence number), then the peer's metrics.
        let tiers = lines.compactMap(\.jsonObject).filter { $0["seq"] != nil }.compactMap { $0["tier"] as? String }
        guard tiers.count == count else {
            Issue.record("ping from A on port \(port): \(lines)")
            return nil
        }
        return tiers
    }

    @Test func coneNATsHolePunchToDirect() throws {
        defer { NATLab.down() }
        let (relay, listener, circuit, observers) = try Self.relayAndListener(mode: "cone")
        defer { listener.terminate(); relay.terminate(); observers.forEach { $0.terminate() } }
        // Three observer groups agree on NAT B's mapping of B's listening port.
        #expect(try Self.natType(of: listener) == "private")
        let confirmed = listener.currentLines.compactMap(\.jsonObject).contains { object in
            (object["public_addresses"] as? [String])?.contains("/ip4/203.0.113.30/tcp/4001") == true
        }
        #expect(confirmed)
        let trials = 20
        var direct = 0
        for trial in 0..<trials {
            // A fresh A each time (new key, new port, so no conntrack entry is reused).
            let tiers = try #require(try Self.pingFromA(circuit, port: 4200 + trial, count: 3, interval: 0.3))
            if tiers.last == "direct" { direct += 1 }
        }
        // B (the DCUtR initiator) logs each upgrade with its time from relayed to direct
        // (its line may come a little after A saw the direct ping).
        var upgrades: [[String: Any]] = []
        _ = try? listener.first(timeout: 10) { line -> Bool? in
            if let object = line.jsonObject, object["event"] as? String == "hole_punch_succeeded" { upgrades.append(object) }
            return upgrades.count >= trials ? true : nil
        }
        let times = upgrades.compactMap { $0["time_to_direct_ms"] as? Double }.sorted()
        let attempts = upgrades.compactMap { $0["attempt"] as? Int }
        let median = times.isEmpty ? .nan : times[times.count / 2]
        print("NAT lab cone: \(direct)/\(trials) direct; time to direct median \(String(format: "%.1f", median)) ms, "
              + "max \(String(format: "%.1f", times.last ?? .nan)) ms; attempts \(attempts)")
        #expect(direct == trials)
        #expect(upgrades.count == trials)
        #expect(attempts.allSatisfy { $0 == 1 })
    }

    @Test func symmetricNATsStayRelayedAndDeliver() throws {
        defer { NATLab.down() }
        let (relay, listener, circuit, observers) = try Self.relayAndListener(mode: "symmetric")
        defer { listener.terminate(); relay.terminate(); observers.forEach { $0.terminate() } }
        // The observers see a new port for each of B's connections: symmetric.
        #expect(try Self.natType(of: listener) == "symmetric")
        // Every ping is delivered through the relay, and B spends no attempt on a punch
        // that cannot meet.
        let tiers = try #require(try Self.pingFromA(circuit, port: 4300, count: 20, interval: 0.1))
        let failures = listener.currentLines.compactMap(\.jsonObject).filter { $0["event"] as? String == "hole_punch_failed" }
        print("NAT lab symmetric: \(tiers.count)/20 delivered, tiers \(Set(tiers)); B: \(failures.map { $0["reason"] ?? "" })")
        #expect(tiers.count == 20)
        #expect(tiers.allSatisfy { $0 == "relay" })
        #expect(!listener.currentLines.contains { $0.contains("hole_punch_succeeded") })
        #expect(failures.count == 1)
        #expect((failures.first?["reason"] as? String)?.contains("symmetric NAT") == true)
        #expect((failures.first?["reason"] as? String)?.contains("after 0 attempts") == true)
    }

    @Test func natsThatResetUnsolicitedSYNsStillDeliver() throws {
        defer { NATLab.down() }
        // NATs that answer an unsolicited SYN with a reset kill the simultaneous open
        // when one SYN arrives before the other side's has left (go and py: 0/3). Traffic
        // must go on through the relay, whatever the punch does.
        let (relay, listener, circuit, observers) = try Self.relayAndListener(mode: "cone", extra: ["--unsolicited", "rst"])
        defer { listener.terminate(); relay.terminate(); observers.forEach { $0.terminate() } }
        let tiers = try #require(try Self.pingFromA(circuit, port: 4400, count: 20, interval: 0.3))
        print("NAT lab cone with resets: \(tiers.count)/20 delivered; \(tiers.filter { $0 == "direct" }.count) over direct, "
              + "\(tiers.filter { $0 == "relay" }.count) over the relay")
        #expect(tiers.count == 20)
    }

    @Test func blockedPathsLeaveTheNATSTier() throws {
        defer { NATLab.down() }
        try NATLab.up("blocked")
        let server = NATSTierTests.serverPath
        try #require(FileManager.default.isExecutableFile(atPath: server), "nats-server is missing")
        let nats = try LabProcess(host: "relay", executable: server, ["-a", "203.0.113.10", "-p", "4222"], readsStandardError: true)
        defer { nats.terminate() }
        _ = try nats.first { $0.contains("Server is ready") ? true : nil }
        let url = "nats://203.0.113.10:4222"
        let listener = try LabProcess(host: "hostB", [
            "listen", "--key", "/tmp/tv-natlab-b.key", "--listen", "/ip4/0.0.0.0/tcp/4001", "--nats", url, "--json",
        ])
        defer { listener.terminate() }
        let address = try listener.first { line -> String? in
            guard let address = line.jsonObject?["address"] as? String, address.contains("/p2p/") else { return nil }
            return address
        }
        _ = try listener.first { $0.jsonObject?["event"] as? String == "nats_connected" ? true : nil }
        let peer = String(address[try #require(address.range(of: "/p2p/")).upperBound...])
        // A knows only B's peer ID; the NATs let nothing out but the NATS server's port.
        let started = ContinuousClock.now
        let ping = try LabProcess(host: "hostA", [
            "ping", "/p2p/\(peer)", "--nats", url, "--count", "20", "--interval", "0.1", "--json", "--timeout", "30",
        ])
        let lines = try ping.allLines(afterExit: 40)
        let pings = lines.compactMap(\.jsonObject).filter { $0["seq"] != nil }
        let metrics = lines.compactMap(\.jsonObject).first { $0["event"] as? String == "metrics" }
        let times = pings.compactMap { $0["rtt_ms"] as? Double }.sorted()
        print("NAT lab blocked: \(pings.count)/20 delivered over \(Set(pings.compactMap { $0["tier"] as? String })); "
              + "median RTT \(times.isEmpty ? "-" : String(format: "%.2f", times[times.count / 2])) ms; "
              + "all in \(ContinuousClock.now - started)")
        #expect(pings.count == 20, "\(lines)")
        #expect(pings.allSatisfy { $0["tier"] as? String == "nats" })
        // A's closing metrics: the NATS tier carried every request.
        #expect(metrics?["tier"] as? String == "nats")
        #expect(metrics?["requests"] as? Int == 20 && metrics?["requests_failed"] as? Int == 0)
    }

    @Test func aKilledRelayIsReplacedWithinTenSeconds() throws {
        defer { NATLab.down() }
        try NATLab.up("cone")
        // Three relays in the relay namespace; B names all three and keeps two reservations.
        var relays: [LabProcess] = []
        var addresses: [String] = []
        for port in 4001...4003 {
            let relay = try LabProcess(host: "relay", [
                "relay", "--key", "/tmp/tv-natlab-relay-\(port).key", "--listen", "/ip4/0.0.0.0/tcp/\(port)",
            ])
            relays.append(relay)
            addresses.append(try relay.first { $0.hasPrefix("/ip4/203.0.113.10/tcp/\(port)/") ? $0 : nil })
        }
        defer { relays.forEach { $0.terminate() } }
        let listener = try LabProcess(host: "hostB", [
            "listen", "--key", "/tmp/tv-natlab-b.key", "--listen", "/ip4/0.0.0.0/tcp/4001", "--json",
        ] + addresses.flatMap { ["--relay", $0] })
        defer { listener.terminate() }
        // (`first` hands each line to the closure under the process's lock: collect from it.)
        func circuit(in line: String) -> String? {
            guard let range = line.range(of: #"/ip4/203\.0\.113\.10/tcp/400[0-9]/p2p/\w+/p2p-circuit/p2p/\w+"#, options: .regularExpression)
            else { return nil }
            return String(line[range])
        }
        var first = Set<String>()
        _ = try listener.first { line -> Bool? in
            if let found = circuit(in: line) { first.insert(found) }
            return first.count >= 2 ? true : nil
        }
        let used = addresses.indices.filter { index in first.contains { $0.hasPrefix(addresses[index]) } }
        #expect(used.count == 2)
        // Kill one of the relays B uses: its reservation moves to the third.
        let victim = try #require(used.first)
        let killedAt = ContinuousClock.now
        relays[victim].terminate()
        let spare = try #require(addresses.indices.first { !used.contains($0) })
        let replacement = try listener.first(timeout: 10) { line in circuit(in: line).flatMap { $0.hasPrefix(addresses[spare]) ? $0 : nil } }
        let elapsed = ContinuousClock.now - killedAt
        print("NAT lab: relay killed, reservation on the spare relay after \(elapsed)")
        #expect(elapsed < .seconds(10))
        // A reaches B through the new relay.
        let tiers = try #require(try Self.pingFromA(replacement, port: 4800, count: 2, interval: 0.2))
        #expect(tiers.count == 2)
    }

    /// The README's first command, as root: the demo in the lab, both parts.
    @Test func theDemoRunsInTheLab() throws {
        defer { NATLab.down() }
        let (status, output) = try DemoTests.demo(["--mode", "lab", "--lab-script", NATLab.script, "--pings", "5", "--interval", "0.1"])
        print(output.components(separatedBy: "\n").filter { $0.hasPrefix("  ") }.joined(separator: "\n"))
        #expect(status == 0, "\(output)")
        #expect(output.contains("Traverse demo in the NAT lab"))
        let lines = output.components(separatedBy: "\n")
        #expect(lines.contains { $0.contains("pings in part 1") && $0.contains("5/5 answered") && $0.contains("over direct") })
        #expect(lines.contains { $0.contains("relayed -> direct") && $0.contains("attempt") })
        #expect(lines.contains { $0.contains("B's NAT type (observers)") && $0.contains("private") })
        #expect(lines.contains { $0.contains("pings in part 2") && $0.contains("5/5 answered: 5 over nats") })
        #expect(!output.contains("Not shown here"))
        // The demo removed the lab.
        let namespaces = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!namespaces.contains("/run/netns/tv-"))
    }

    // MARK: With py-libp2p 0.8.1

    /// py-libp2p's `peer.py` in lab host `host`.
    static func pyPeer(host: String, _ arguments: [String]) throws -> LabProcess {
        let python = try #require(PyPeerProcess.python, "no py-libp2p venv")
        return try LabProcess(
            host: host, executable: python,
            [PyPeerProcess.repository.appendingPathComponent("Interop/py/peer.py").path] + arguments)
    }

    @Test(.enabled(if: PyPeerProcess.isAvailable)) func traverseHolePunchesToPy() throws {
        defer { NATLab.down() }
        try NATLab.up("cone")
        let relay = try LabProcess(host: "relay", ["relay", "--key", "/tmp/tv-natlab-relay.key", "--listen", "/ip4/0.0.0.0/tcp/4001"])
        defer { relay.terminate() }
        let relayAddress = try relay.first { $0.hasPrefix("/ip4/203.0.113.10/") ? $0 : nil }
        // py (B) holds the reservation and runs its DCUtR service: it is the initiator.
        let py = try Self.pyPeer(host: "hostB", [
            "listen", "--listen", "/ip4/0.0.0.0/tcp/4001", "--relay", relayAddress, "--dcutr", "--ignore-stdin",
        ])
        defer { py.terminate() }
        let circuit = try py.first { line -> String? in
            guard let range = line.range(of: #"/ip4/203\.0\.113\.10/tcp/4001/p2p/\w+/p2p-circuit/p2p/\w+"#, options: .regularExpression)
            else { return nil }
            return String(line[range])
        }
        // py first dials the LAN address it learned (10 s in go's lab notes), then punches.
        let tiers = try #require(try Self.pingFromA(circuit, port: 4600, count: 50, interval: 0.5))
        let firstDirect = tiers.firstIndex(of: "direct")
        print("NAT lab, Traverse A -> py B: first direct ping \(firstDirect.map { "#\($0 + 1) (~\(Double($0) * 0.5) s)" } ?? "none") of \(tiers.count)")
        #expect(firstDirect != nil)
        #expect(tiers.last == "direct")
    }

    @Test(.enabled(if: PyPeerProcess.isAvailable)) func pyHolePunchesToTraverse() throws {
        defer { NATLab.down() }
        let (relay, listener, circuit, observers) = try Self.relayAndListener(mode: "cone")
        defer { listener.terminate(); relay.terminate(); observers.forEach { $0.terminate() } }
        // py (A) dials through the relay and serves DCUtR: Traverse (B) initiates.
        let py = try Self.pyPeer(host: "hostA", [
            "dial", circuit, "--listen", "/ip4/0.0.0.0/tcp/4700", "--dcutr", "--ping", "1", "--ping-rounds", "6",
            "--ping-interval", "0.5", "--timeout", "20",
        ])
        defer { py.terminate() }
        let pings = try py.allLines(afterExit: 60).compactMap(\.jsonObject).filter { $0["op"] as? String == "ping" }
        let relayed = pings.map { $0["relayed"] as? Bool ?? false }
        let upgrade = listener.currentLines.compactMap(\.jsonObject).first { $0["event"] as? String == "hole_punch_succeeded" }
        print("NAT lab, py A -> Traverse B: pings relayed \(relayed); time to direct \(upgrade?["time_to_direct_ms"] ?? "none") ms")
        #expect(pings.count == 7)
        #expect(pings.allSatisfy { $0["error"] == nil })
        #expect(relayed.last == false)
        #expect(upgrade?["attempt"] as? Int == 1)
    }
}
