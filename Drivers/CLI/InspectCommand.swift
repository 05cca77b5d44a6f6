import ArgumentParser
import TraverseCore

/// `traverse inspect`: decodes a multiaddr (text or hex binary) or a peer ID and shows
/// what is in it — the wire formats at work.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode a multiaddr (text, or binary as hex with --hex) or a peer ID.")

    @Argument(help: "A multiaddr such as /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…, or a peer ID.")
    var value: String

    @Flag(name: .long, help: "The value is a binary multiaddr in hex.")
    var hex = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingFailures(json: output.json) {
            let printer = Output(json: output.json)
            if hex {
                guard let bytes = Hex.decode(value) else { throw CommandFailure("not hex: \(value)") }
                try inspect(Multiaddr(bytes: bytes), printer: printer)
            } else if value.hasPrefix("/") {
                try inspect(Multiaddr(value), printer: printer)
            } else {
                try inspect(PeerID(value), printer: printer)
            }
        }
    }

    func inspect(_ address: Multiaddr, printer: Output) {
        var fields: [String: any Sendable] = [
            "multiaddr": address.description, "hex": Hex.encode(address.bytes),
            "protocols": address.protocols.map(\.name),
        ]
        var lines = ["multiaddr  \(address)", "binary     \(Hex.encode(address.bytes))"]
        for component in address.components {
            lines.append("  \(component.protocol.name)\(component.valueText.map { " \($0)" } ?? "")")
        }
        if let peer = address.peerID {
            fields["peer_id"] = peer.description
            lines.append("peer       \(peer)")
        }
        if let circuit = address.splitCircuit() {
            fields["relay"] = circuit.relay.description
            lines.append("relay      \(circuit.relay)")
            if let target = circuit.target {
                fields["target"] = target.description
                lines.append("target     \(target)")
            }
        }
        printer.emit(lines.joined(separator: "\n"), fields: fields)
    }

    func inspect(_ peer: PeerID, printer: Output) {
        var fields: [String: any Sendable] = [
            "peer_id": peer.description, "peer_id_cid": peer.cidString, "multihash": Hex.encode(peer.bytes),
        ]
        var lines = ["peer id    \(peer)", "cid        \(peer.cidString)", "multihash  \(Hex.encode(peer.bytes))"]
        if let key = peer.publicKey {
            fields["key_type"] = key.type.description
            fields["public_key"] = Hex.encode(key.protobufEncoding)
            lines.append("key        \(key.type) \(Hex.encode(key.data)) (inlined)")
        } else {
            lines.append("key        hashed (SHA-256): the key is not in the ID")
        }
        printer.emit(lines.joined(separator: "\n"), fields: fields)
    }
}
