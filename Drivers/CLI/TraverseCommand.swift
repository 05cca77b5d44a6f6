import ArgumentParser

/// `traverse`: the command-line front of Traverse.
@main
struct TraverseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traverse",
        abstract: "libp2p NAT traversal in Swift: direct, relayed, hole-punched and NATS-tunnelled connections.",
        subcommands: [
            KeygenCommand.self, IdCommand.self, InspectCommand.self, ListenCommand.self, PingCommand.self,
            PerfCommand.self, EchoCommand.self, RelayCommand.self,
        ])
}

/// Options every command shares.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object per line instead of text.")
    var json = false
}
