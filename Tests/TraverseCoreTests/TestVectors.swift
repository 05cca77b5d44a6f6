import Foundation
import TraverseCore

/// Reads the committed test vectors in `Tests/Vectors/`.
enum TestVectors {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    struct KeyEncodings: Decodable {
        struct Vector: Decodable {
            let key: String
            let protobuf_hex: String
            let derived_peer_id_multihash_hex: String?
            let derived_peer_id_base58btc: String?
            let derived_peer_id_cidv1_base32: String?
        }
        let vectors: [Vector]
    }

    struct Signatures: Decodable {
        struct Signature: Decodable {
            let key: String
            let signature_hex: String
        }
        let message_hex: String
        let signatures: [Signature]
        let rsa1024_public_pkix_hex: String
        let secp256k1_public_uncompressed_hex: String
    }

    static func keyEncodings() throws -> KeyEncodings {
        try JSONDecoder().decode(KeyEncodings.self, from: data("key-encodings.json"))
    }

    static func signatures() throws -> Signatures {
        try JSONDecoder().decode(Signatures.self, from: data("signatures.json"))
    }
}

/// Decodes hex that a test supplies itself (a bad literal is a bug in the test).
func hex(_ text: String) -> [UInt8] {
    guard let bytes = Hex.decode(text) else { fatalError("bad hex literal in test: \(text)") }
    return bytes
}

/// The tests' deterministic generator.
typealias SeededGenerator = SeededRandomNumberGenerator

extension TestVectors {
    /// A file of Noise test vectors in the Noise-wiki format (cacophony, snow).
    struct NoiseVectors: Decodable {
        struct Message: Decodable {
            let payload: String
            let ciphertext: String
        }
        struct Vector: Decodable {
            let protocol_name: String
            let init_prologue: String?
            let init_static: String?
            let init_ephemeral: String?
            let resp_prologue: String?
            let resp_static: String?
            let resp_ephemeral: String?
            let handshake_hash: String?
            let messages: [Message]
        }
        let vectors: [Vector]
    }

    static func noiseVectors(_ name: String) throws -> NoiseVectors {
        try JSONDecoder().decode(NoiseVectors.self, from: data(name))
    }

    /// The private keys of `key-encodings.json`, by the vector's name.
    static func privateKey(named name: String) throws -> PrivateKey {
        guard let vector = try keyEncodings().vectors.first(where: { $0.key == name }) else {
            fatalError("no key vector named \(name)")
        }
        return try PrivateKey(protobufEncoding: hex(vector.protobuf_hex))
    }
}
