import ArgumentParser
import TraverseCore

/// `traverse`: the command-line front of Traverse.
@main
struct TraverseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traverse",
        abstract: "libp2p NAT traversal in Swift: direct, relayed, hole-punched and NATS-tunnelled connections.",
        subcommands: [
            KeygenCommand.self, IdCommand.self, InspectCommand.self, ListenCommand.self, PingCommand.self,
            PerfCommand.self, EchoCommand.self, RelayCommand.self, DemoCommand.self,
        ])
}

/// Options of the commands that run a node until a signal (`listen`, `relay`).
struct ServingOptions: ParsableArguments {
    @Option(name: .long, help: "Address to listen on (repeatable). Default: port 4001 of every interface.")
    var listen: [String] = []

    @Flag(name: .long, help: "Print only addresses (listen, circuit, metrics), not a line per event.")
    var quiet = false
}

/// Which addresses a node command treats as public (hole punching, AutoNAT, observers).
struct HolePunchOptions: ParsableArguments {
    @Option(
        name: [.customLong("public-scope"), .customLong("hole-punch-scope")],
        help: ArgumentHelp(
            "Treat addresses of this scope as public (repeatable): documentation, private, cgnat, loopback. Default: public only.",
            discussion: """
                For NAT labs, whose 'public' side uses the documentation ranges (RFC 5737): hole punching dials \
                such addresses, AutoNAT asks to be dialed back at them and serves peers on them, and observers \
                on them count toward confirming observed addresses and the NAT type.
                """))
    var holePunchScope: [String] = []

    /// Applies the options to `configuration`.
    func apply(to configuration: inout SwarmConfiguration) throws {
        for name in holePunchScope {
            let scope: IPAddressScope
            switch name {
            case "documentation": scope = .documentation
            case "private": scope = .privateNetwork
            case "cgnat": scope = .carrierGradeNAT
            case "loopback": scope = .loopback
            default: throw CommandFailure("--public-scope: expected documentation, private, cgnat or loopback, got \(name)")
            }
            configuration.holePunch.exchange.addressSelection.acceptedScopes.insert(scope)
            configuration.autoNAT.publicScopes.insert(scope)
        }
    }
}

/// Options every command shares.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object per line instead of text.")
    var json = false
}
