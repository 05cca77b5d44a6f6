import ArgumentParser
import TraverseCore
import TraverseUV

/// `traverse relay`: a Circuit Relay v2 relay daemon with limits and Prometheus metrics.
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Run a Circuit Relay v2 relay: reservations, circuits within limits, metrics; stops on SIGINT/SIGTERM.")

    @Option(name: .long, help: "Identity key file (created if missing). Default: ~/.traverse/relay.key.")
    var key: String?

    @OptionGroup var serving: ServingOptions

    @Option(name: .long, help: "Reservations held at once, in total.")
    var maxReservations = RelayLimits().maximumReservations

    @Option(name: .long, help: "Circuits open at once, in total.")
    var maxCircuits = RelayLimits().maximumCircuitConnections

    @Option(name: .long, help: "The most connections in all.")
    var maxConnections = SwarmConfiguration().maximumConnections

    @Option(name: .long, help: "The longest a circuit stays open, in seconds (0: no limit).")
    var limitDuration: UInt32 = 3600

    @Option(name: .long, help: "The most bytes per direction of a circuit (0: no limit).")
    var limitData: UInt64 = 1 << 30

    @Option(name: .long, help: "Reservations per IP address.")
    var maxReservationsPerIp = RelayHopConfiguration().maximumReservationsPerIP

    @Option(name: .long, help: "Circuits per IP address.")
    var maxCircuitsPerIp = RelayHopConfiguration().maximumCircuitsPerIP

    @Option(name: .long, help: "Circuits from or to one peer.")
    var maxCircuitsPerPeer = RelayHopConfiguration().maximumCircuitsPerPeer

    @Option(name: .long, help: "Reservations one IP address may ask for per minute.")
    var reservationRate = RelayHopConfiguration().reservationRatePerIP

    @Option(name: .long, help: "Circuits one IP address may open per minute.")
    var circuitRate = RelayHopConfiguration().circuitRatePerIP

    @Option(name: .long, help: "Bytes per second one circuit may move (0: no limit).")
    var bandwidthPerCircuit = RelayHopConfiguration().maximumBandwidthPerCircuit

    @Option(name: .long, help: "Bytes per second all circuits together may move (0: no limit).")
    var bandwidthTotal = RelayHopConfiguration().maximumBandwidthTotal

    @Option(name: .long, help: "Reservation lifetime in seconds.")
    var reservationTtl: Int64 = 3600

    @Option(name: .long, help: "Serve Prometheus metrics at http://HOST:PORT/metrics.")
    var metrics: String?

    @OptionGroup var publicScope: HolePunchOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let out = Output(json: output.json)
        try await reportingFailures(json: output.json) {
            let identity = try NodeCommandSupport.loadOrCreateKey(at: key ?? NodeCommandSupport.defaultRelayKeyPath)
            let configuration = try swarmConfiguration()
            let metricsAddress = try metrics.map(Self.socketAddress)
            NodeCommandSupport.raiseDescriptorLimit()
            let node = try Node(identityKey: identity, configuration: configuration)
            try await NodeCommandSupport.listen(node, on: serving.listen, out: out, json: output.json)
            if let metricsAddress {
                let bound = try await node.serveMetrics(on: metricsAddress)
                let url = "http://\(bound)/metrics"
                out.emit("metrics \(url)", fields: ["event": "metrics", "url": url])
            }
            let logger = Task { await NodeEventLog(out: out, quiet: serving.quiet).run(node.events) }
            await NodeCommandSupport.waitForTerminationSignal()
            await node.stop()
            logger.cancel()
        }
    }

    /// The swarm settings the options describe: the hop role only.
    func swarmConfiguration() throws -> SwarmConfiguration {
        let counts = [
            maxReservations, maxCircuits, maxConnections, maxReservationsPerIp, maxCircuitsPerIp, maxCircuitsPerPeer,
            reservationRate, circuitRate,
        ]
        guard counts.allSatisfy({ $0 > 0 }), bandwidthPerCircuit >= 0, bandwidthTotal >= 0, reservationTtl > 0 else {
            throw CommandFailure("limits must be positive (bandwidths and per-circuit limits may be 0 for none)")
        }
        var configuration = SwarmConfiguration()
        try publicScope.apply(to: &configuration)
        configuration.maximumConnections = maxConnections
        configuration.relay.roles = [.hop]
        configuration.relay.hop = RelayHopConfiguration(
            limits: RelayLimits(
                duration: limitDuration == 0 ? nil : .seconds(Int64(limitDuration)), data: limitData == 0 ? nil : limitData,
                maximumCircuitConnections: maxCircuits, maximumReservations: maxReservations),
            maximumReservationsPerIP: maxReservationsPerIp, maximumCircuitsPerIP: maxCircuitsPerIp,
            maximumCircuitsPerPeer: maxCircuitsPerPeer,
            reservationRatePerIP: reservationRate, circuitRatePerIP: circuitRate,
            maximumBandwidthPerCircuit: bandwidthPerCircuit, maximumBandwidthTotal: bandwidthTotal,
            reservationTTL: .seconds(reservationTtl))
        return configuration
    }

    /// `HOST:PORT` or `[IPv6]:PORT` as a socket address.
    static func socketAddress(_ text: String) throws -> SocketAddress {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw CommandFailure("--metrics wants HOST:PORT, got \(text)")
        }
        var host = String(text[..<colon])
        let isIPv6 = host.hasPrefix("[") && host.hasSuffix("]")
        if isIPv6 { host = String(host.dropFirst().dropLast()) }
        guard let address = try? Multiaddr("/\(isIPv6 ? "ip6" : "ip4")/\(host)/tcp/\(port)"),
              let socket = SocketAddress(tcp: address)
        else { throw CommandFailure("--metrics wants an IP address and port, got \(text)") }
        return socket
    }
}
