import ArgumentParser
import TraverseCore
import TraverseUV

/// `traverse keygen`: creates an identity key file and prints its peer ID.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Create an identity key file (mode 0600) and print its peer ID.")

    enum GeneratedKeyType: String, ExpressibleByArgument, CaseIterable {
        case ed25519, secp256k1
    }

    @Option(name: .long, help: "Where to write the key.")
    var out: String

    @Option(name: .long, help: "Key type: ed25519 (default) or secp256k1.")
    var type: GeneratedKeyType = .ed25519

    @Flag(name: .long, help: "Replace an existing file.")
    var force = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingFailures(json: output.json) {
            if !force, (try? IdentityKeyFile.load(from: out)) != nil {
                throw CommandFailure("\(out) already holds a key; pass --force to replace it")
            }
            var generator = SecureRandomNumberGenerator()
            let key: PrivateKey = switch type {
            case .ed25519: PrivateKey.generateEd25519(using: &generator)
            case .secp256k1: PrivateKey.generateSecp256k1(using: &generator)
            }
            try IdentityKeyFile.save(key, to: out)
            Output(json: output.json).emit(
                key.peerID.description,
                fields: ["peer_id": key.peerID.description, "key_type": key.type.description, "path": out])
        }
    }
}

/// `traverse id`: prints the peer ID of an identity key file.
struct IdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id", abstract: "Print the peer ID of an identity key file.")

    @Option(name: .long, help: "The key file.")
    var key: String

    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingFailures(json: output.json) {
            let privateKey = try IdentityKeyFile.load(from: key)
            Output(json: output.json).emit(
                privateKey.peerID.description,
                fields: [
                    "peer_id": privateKey.peerID.description, "peer_id_cid": privateKey.peerID.cidString,
                    "key_type": privateKey.type.description,
                    "public_key": Hex.encode(privateKey.publicKey.protobufEncoding),
                ])
        }
    }
}
