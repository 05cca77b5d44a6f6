#if os(Linux)
import Foundation
import TraverseCore

/// Reservations per second on a `traverse relay` process: fresh client swarms (made as they
/// are needed) each dial the relay (TCP, Noise XX, Yamux, identify) and reserve once, 32 at a
/// time, from source addresses spread over 127.20.0.0/16 (50 per address; the relay allows
/// 100). After 50 warm-up reservations, clients start for `seconds`; the rate is the started
/// clients' reservations over the time until the last was granted. The note gives each
/// side's CPU time per reservation (the clients' includes making their identities).
func reservationRate(_ environment: NodeBenchmarkEnvironment, seconds: Double) throws -> BenchmarkResult {
    let relay = try environment.startRelay("reservations-relay", arguments: [
        "--max-reservations", "100000", "--max-connections", "12000", "--max-reservations-per-ip", "100",
        "--reservation-rate", "1000000",
    ])
    defer { relay.child.terminate() }
    let relayAddress = try Multiaddr(relay.address)
    let clients = try RelayClients(clientsPerAddress: 50)
    defer { clients.driver.closeAll() }
    let warmUp = 50
    try clients.reserve(
        "warm-up reservations", on: relayAddress, concurrency: 32, timeout: .seconds(60),
        next: { clients.driver.swarms.count < warmUp ? try clients.add() : nil }
    ).requireSuccess("warm-up reservations")
    let relayCPU = relay.cpuSeconds()
    let ownCPU = ProcessFigures.cpuSeconds("self")
    let windowEnd = clients.driver.now() + .seconds(seconds)
    let report = try clients.reserve(
        "reservations", on: relayAddress, concurrency: 32, timeout: .seconds(60 + 4 * seconds),
        next: { clients.driver.now() < windowEnd ? try clients.add() : nil })
    try report.requireSuccess("reservations")
    let relayMilliseconds = (relay.cpuSeconds() - relayCPU) * 1000 / Double(report.started)
    let ownMilliseconds = (ProcessFigures.cpuSeconds("self") - ownCPU) * 1000 / Double(report.started)
    let active = Int(try relay.metric("traverse_relay_reservations_active"))
    guard active == report.started + warmUp else {
        throw BenchmarkFailure("reservations: the relay reports \(active) active, expected \(report.started + warmUp)")
    }
    guard clients.closures.isEmpty else {
        throw BenchmarkFailure("reservations: connections closed: \(clients.closures.prefix(3))")
    }
    return BenchmarkResult(
        name: "relay-reservations", value: report.rate, unit: "reservations/s",
        note: "\(report.started) fresh client swarms (one thread in traverse-bench) → traverse relay, each TCP+Noise+Yamux+"
            + "identify+RESERVE, 32 at a time, in \(String(format: "%.2f", report.elapsed.seconds)) s; "
            + String(format: "CPU per reservation: relay %.2f ms, clients %.2f ms; ", relayMilliseconds, ownMilliseconds)
            + "relay reports \(active) active")
}

/// The relay's resident memory with `count` reservations held: one client swarm per
/// reservation (50 per source address), each first connected to the relay (TCP, Noise,
/// Yamux, identify), then reserving on that connection, 64 at a time. The relay's VmRSS with
/// none, with the connections, and with the reservations too; the figure is (RSS with N −
/// RSS with 0) / N, and a second one the reservation alone. With `--max-reservations` N, one
/// client more must be refused.
func reservationMemory(
    _ environment: NodeBenchmarkEnvironment, reservations count: Int, descriptorLimit: UInt64
) throws -> [BenchmarkResult] {
    guard descriptorLimit > UInt64(count + 200) else {
        throw BenchmarkFailure("reservation memory: the open-file limit is \(descriptorLimit), too low for \(count) connections")
    }
    let relay = try environment.startRelay("memory-relay", arguments: [
        "--max-reservations", "\(count)", "--max-connections", "\(count + 2000)", "--max-reservations-per-ip", "100",
        "--reservation-rate", "1000000",
    ])
    defer { relay.child.terminate() }
    let relayAddress = try Multiaddr(relay.address)
    let clients = try RelayClients(clientsPerAddress: 50)
    defer { clients.driver.closeAll() }
    let holders = try (0..<count).map { _ in try clients.add() }
    try clients.idle(for: .milliseconds(500))
    let before = try relay.residentKiB()
    let relayCPU = relay.cpuSeconds()
    let ownCPU = ProcessFigures.cpuSeconds("self")
    let connecting = try clients.dial(
        "connections to the relay", concurrency: 64, timeout: .seconds(150), next: RelayClients.sequence(holders)
    ) { _ in relayAddress }
    try connecting.requireSuccess("reservation memory: dials to the relay")
    let relayMilliseconds = (relay.cpuSeconds() - relayCPU) * 1000 / Double(count)
    let ownMilliseconds = (ProcessFigures.cpuSeconds("self") - ownCPU) * 1000 / Double(count)
    try clients.idle(for: .seconds(1))
    let connected = try relay.residentKiB()
    let reserving = try clients.reserve(
        "reservations", on: relayAddress, concurrency: 64, timeout: .seconds(120), next: RelayClients.sequence(holders))
    try reserving.requireSuccess("reservation memory: reservations")
    try clients.idle(for: .seconds(1))
    let reserved = try relay.residentKiB()
    let metrics = try relay.metrics()
    let active = Int(metrics["traverse_relay_reservations_active"] ?? -1)
    let connections = Int(metrics["traverse_connections"] ?? -1)
    guard active == count else {
        throw BenchmarkFailure("reservation memory: the relay reports \(active) reservations, expected \(count)")
    }
    // The limit holds: one client more is refused.
    let extra = try clients.add()
    let refused = try clients.reserve(
        "reservation past the limit", on: relayAddress, concurrency: 1, timeout: .seconds(30),
        next: RelayClients.sequence([extra]))
    let refusals = Int(try relay.metric("traverse_relay_refusals_total{reason=\"reservations_total\"}"))
    guard refused.failures.count == 1, refusals == 1 else {
        throw BenchmarkFailure(
            "reservation memory: reservation \(count + 1) was not refused as over the total "
                + "(\(refused.failures), refusals \(refusals))")
    }
    guard clients.closures.isEmpty else {
        throw BenchmarkFailure("reservation memory: connections closed: \(clients.closures.prefix(3))")
    }
    let thousand = min(1000, count / 2)
    let slowing = connecting.rates(ofFirstAndLast: thousand).map {
        String(format: "the first %d at %.0f/s, the last %d at %.0f/s; ", thousand, $0.first, thousand, $0.last)
    } ?? ""
    let perReservation = Double(reserved - before) / Double(count)
    let perConnection = Double(connected - before) / Double(count)
    let reservationOnly = Double(reserved - connected) / Double(count)
    return [
        BenchmarkResult(
            name: "relay-memory-per-reservation", value: perReservation, unit: "KiB",
            note: "traverse relay VmRSS \(before) → \(connected) KiB with \(count) client connections "
                + "(TCP+Noise+Yamux, identified) → \(reserved) KiB with a reservation on each (relay reports \(active) "
                + "reservations, \(connections) connections); "
                + String(format: "%.1f KiB the connection + %.1f KiB the reservation; ", perConnection, reservationOnly)
                + String(format: "connected at %.0f/s (64 at a time; ", connecting.rate) + slowing
                + String(format: "CPU per connection: relay %.2f ms, clients %.2f ms), ", relayMilliseconds, ownMilliseconds)
                + String(format: "reserved at %.0f/s; ", reserving.rate)
                + "reservation \(count + 1) refused (reservations_total); target ≤ 8 KiB; py-libp2p ~94 KiB (not measured here)"),
        BenchmarkResult(
            name: "relay-memory-per-reservation-state", value: reservationOnly, unit: "KiB",
            note: "the reservation alone: relay VmRSS growth from reserving on \(count) open connections, per reservation"),
    ]
}

/// `count` circuits open at once through a `traverse relay` process, every byte intact:
/// `targetCount` client swarms reserve, `count` dialer swarms (50 per source address)
/// connect to the relay, then each dials one target's circuit address (`count / targetCount`
/// per target, within the default 16 circuits per peer) and, with every circuit open,
/// echoes 8 KiB of random bytes over `/traverse/echo/1.0.0` (checked byte for byte). The relay
/// keeps its default shaping (1 MiB/s per circuit, 10 MiB/s in all) with `--max-circuits`
/// `count`, and one circuit more must be refused. The figure is the relay's VmRSS growth
/// from the dialers' connections to the circuits after two rounds of echoes, per circuit
/// (buffers keep the capacity a burst gave them: the first round grows the relay, the
/// second a little, later ones hardly).
func activeCircuits(_ environment: NodeBenchmarkEnvironment, circuits count: Int, targets targetCount: Int) throws -> [BenchmarkResult] {
    let echoBytes: UInt64 = 8192
    let relay = try environment.startRelay("circuits-relay", arguments: [
        "--max-circuits", "\(count)", "--max-circuits-per-ip", "100", "--circuit-rate", "1000000",
        "--max-reservations", "\(2 * targetCount)", "--max-reservations-per-ip", "100", "--reservation-rate", "1000000",
        "--max-connections", "\(2 * count + 2 * targetCount + 100)",
    ])
    defer { relay.child.terminate() }
    let relayAddress = try Multiaddr(relay.address)
    let clients = try RelayClients(clientsPerAddress: 50)
    defer { clients.driver.closeAll() }
    let targets = try (0..<targetCount).map { _ in try clients.add() }
    let dialers = try (0...count).map { _ in try clients.add() }
    // The last dialer tries the circuit past the limit.
    let extra = dialers[count]
    let holders = Array(dialers[..<count])
    var targetOfDialer: [Int: PeerID] = [:]
    var addressOfDialer: [Int: Multiaddr] = [:]
    for (position, dialer) in dialers.enumerated() {
        let target = clients.peer(targets[position % targetCount])
        targetOfDialer[dialer] = target
        addressOfDialer[dialer] = try relayAddress.encapsulate(.p2pCircuit).encapsulate(.p2p(target))
    }
    try clients.reserve(
        "target reservations", on: relayAddress, concurrency: 32, timeout: .seconds(60), next: RelayClients.sequence(targets)
    ).requireSuccess("active circuits: target reservations")
    try clients.dial(
        "dialer connections", concurrency: 64, timeout: .seconds(60), next: RelayClients.sequence(dialers)
    ) { _ in relayAddress }.requireSuccess("active circuits: dials to the relay")
    try clients.idle(for: .seconds(1))
    let connected = try relay.residentKiB()
    let opening = try clients.dial(
        "circuits", concurrency: 64, timeout: .seconds(90), next: RelayClients.sequence(holders)
    ) { addressOfDialer[$0]! }
    try opening.requireSuccess("active circuits: circuit dials")
    try clients.idle(for: .seconds(1))
    let opened = try relay.residentKiB()
    let openBefore = Int(try relay.metric("traverse_relay_circuits_active"))
    guard openBefore == count else {
        throw BenchmarkFailure("active circuits: the relay reports \(openBefore) circuits open, expected \(count)")
    }
    let echoing = try clients.echo(
        "echoes", byteCount: echoBytes, concurrency: count, timeout: .seconds(120), next: RelayClients.sequence(holders)
    ) { targetOfDialer[$0]! }
    try clients.idle(for: .milliseconds(500))
    let echoed = try relay.residentKiB()
    // A second round on the same circuits: growth again would be a leak, none means the
    // first round's buffers are kept and reused.
    let echoingAgain = try clients.echo(
        "echoes again", byteCount: echoBytes, concurrency: count, timeout: .seconds(120), next: RelayClients.sequence(holders)
    ) { targetOfDialer[$0]! }
    try clients.idle(for: .milliseconds(500))
    let echoedAgain = try relay.residentKiB()
    let metrics = try relay.metrics()
    let openAfter = Int(metrics["traverse_relay_circuits_active"] ?? -1)
    let bytesRelayed = metrics["traverse_relay_bytes_relayed_total"] ?? 0
    // The limit holds: a circuit past it is refused, and the open ones stay.
    let refused = try clients.dial(
        "circuit past the limit", concurrency: 1, timeout: .seconds(30), next: RelayClients.sequence([extra])
    ) { addressOfDialer[$0]! }
    let refusals = Int(try relay.metric("traverse_relay_refusals_total{reason=\"circuits_total\"}"))
    let openAtEnd = Int(try relay.metric("traverse_relay_circuits_active"))
    for round in [echoing, echoingAgain] where !round.failures.isEmpty {
        throw BenchmarkFailure(
            "active circuits: \(round.failures.count) of \(count) echoes failed: \(round.failures.prefix(3))")
    }
    guard openAfter == count, openAtEnd == count else {
        throw BenchmarkFailure("active circuits: \(openAfter) circuits open after the echoes, \(openAtEnd) at the end, expected \(count)")
    }
    guard bytesRelayed >= Double(4 * UInt64(count) * echoBytes) else {
        throw BenchmarkFailure("active circuits: the relay counts \(bytesRelayed) bytes relayed, fewer than the echoes")
    }
    guard refused.failures.count == 1, refusals == 1 else {
        throw BenchmarkFailure(
            "active circuits: circuit \(count + 1) was not refused as over the total (\(refused.failures), refusals \(refusals))")
    }
    guard clients.closures.isEmpty else {
        throw BenchmarkFailure("active circuits: \(clients.closures.count) connections closed: \(clients.closures.prefix(3))")
    }
    let perCircuit = Double(echoedAgain - connected) / Double(count)
    return [
        BenchmarkResult(
            name: "relay-memory-per-circuit", value: perCircuit, unit: "KiB",
            note: "traverse relay VmRSS \(connected) KiB with \(targetCount) reservations and \(count) dialer connections → "
                + "\(opened) KiB with \(count) circuits open (\(count / targetCount) per target, relay reports \(openBefore)) → "
                + "\(echoed) KiB after every circuit echoed \(echoBytes) B → \(echoedAgain) KiB after a second round; "
                + String(format: "per circuit %.1f KiB open, %.1f KiB after one round; ", Double(opened - connected) / Double(count),
                         Double(echoed - connected) / Double(count))
                + String(format: "circuits opened at %.0f/s (64 at a time); ", opening.rate)
                + "default shaping (1 MiB/s per circuit, 10 MiB/s in all); circuit \(count + 1) refused (circuits_total)"),
        BenchmarkResult(
            name: "relay-circuits-echoed-intact", value: Double(count - echoing.failures.count), unit: "circuits",
            note: "of \(count) open at once, each echoing \(echoBytes) random bytes at the same time, compared byte for byte, "
                + String(format: "all done in %.2f s (a second round: %.2f s, all intact); ", echoing.elapsed.seconds,
                         echoingAgain.elapsed.seconds)
                + "relay counted \(Int(bytesRelayed)) bytes relayed, \(openAfter) circuits open after"),
    ]
}
#endif
