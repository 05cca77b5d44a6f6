import Testing
@testable import TraverseCore

@Suite struct KeyTests {
    static func keyName(_ vector: TestVectors.KeyEncodings.Vector) -> String {
        String(vector.key.split(separator: " ")[0]).lowercased()
    }

    @Test func publicKeyVectorsRoundTripAndDerivePeerIDs() throws {
        let vectors = try TestVectors.keyEncodings().vectors.filter { $0.key.contains("public") }
        #expect(vectors.count == 4)
        for vector in vectors {
            let encoded = hex(vector.protobuf_hex)
            let key = try PublicKey(protobufEncoding: encoded)
            #expect(key.protobufEncoding == encoded, "\(vector.key) re-encodes identically")
            let peerID = key.peerID
            #expect(Hex.encode(peerID.bytes) == vector.derived_peer_id_multihash_hex)
            #expect(peerID.description == vector.derived_peer_id_base58btc)
            #expect(peerID.cidString == vector.derived_peer_id_cidv1_base32)
            #expect(try PeerID(#require(vector.derived_peer_id_base58btc)) == peerID)
            #expect(try PeerID(#require(vector.derived_peer_id_cidv1_base32)) == peerID)
            switch key.type {
            case .ed25519, .secp256k1:
                #expect(peerID.publicKey == key, "short keys are inlined in the peer ID")
            case .rsa, .ecdsa:
                #expect(peerID.publicKey == nil, "long keys are hashed")
            }
        }
    }

    @Test func privateKeyVectorsDeriveTheirPublicKeys() throws {
        let vectors = try TestVectors.keyEncodings().vectors
        for vector in vectors where vector.key.contains("private") {
            let name = Self.keyName(vector)
            let encoded = hex(vector.protobuf_hex)
            let key = try PrivateKey(protobufEncoding: encoded)
            #expect(key.protobufEncoding == encoded, "\(vector.key) re-encodes identically")
            let publicVector = try #require(vectors.first { Self.keyName($0) == name && $0.key.contains("public") })
            #expect(key.publicKey.protobufEncoding == hex(publicVector.protobuf_hex))
        }
    }

    @Test func signAndVerifyWithEveryKeyType() throws {
        let message = Array("a message to sign".utf8)
        for vector in try TestVectors.keyEncodings().vectors where vector.key.contains("private") {
            let key = try PrivateKey(protobufEncoding: hex(vector.protobuf_hex))
            let signature = try key.sign(message)
            #expect(key.publicKey.verify(signature: signature, for: message), "\(key.type) verifies")
            #expect(!key.publicKey.verify(signature: signature, for: message + [0]), "\(key.type) other message")
            var tampered = signature
            tampered[tampered.count / 2] ^= 0x01
            #expect(!key.publicKey.verify(signature: tampered, for: message), "\(key.type) tampered")
            #expect(!key.publicKey.verify(signature: [], for: message))
        }
    }

    @Test func verifiesSignaturesMadeByAnotherImplementation() throws {
        let vectors = try TestVectors.signatures()
        let keys = try TestVectors.keyEncodings().vectors
        let message = hex(vectors.message_hex)
        #expect(vectors.signatures.count == 4)
        for entry in vectors.signatures {
            let publicVector = try #require(keys.first { Self.keyName($0) == entry.key && $0.key.contains("public") })
            let key = try PublicKey(protobufEncoding: hex(publicVector.protobuf_hex))
            #expect(key.verify(signature: hex(entry.signature_hex), for: message), "\(entry.key)")
            #expect(!key.verify(signature: hex(entry.signature_hex), for: Array(message.dropLast())))
        }
        // Ed25519 and RSA PKCS #1 v1.5 are deterministic: Traverse produces the same bytes.
        for entry in vectors.signatures where entry.key == "ed25519" || entry.key == "rsa" {
            let privateVector = try #require(keys.first { Self.keyName($0) == entry.key && $0.key.contains("private") })
            let key = try PrivateKey(protobufEncoding: hex(privateVector.protobuf_hex))
            #expect(try key.sign(message) == hex(entry.signature_hex))
        }
    }

    @Test func ed25519FromSeedAndGenerated() throws {
        var generator = SeededGenerator(seed: 7)
        let generated = PrivateKey.generateEd25519(using: &generator)
        var again = SeededGenerator(seed: 7)
        #expect(PrivateKey.generateEd25519(using: &again) == generated, "generation is a function of the generator")
        let fromSeed = try PrivateKey(ed25519Seed: Array(generated.data[0..<32]))
        #expect(fromSeed == generated)
        #expect(generated.peerID.description.hasPrefix("12D3KooW"))
        let secp = PrivateKey.generateSecp256k1(using: &generator)
        #expect(secp.peerID.description.hasPrefix("16Uiu2HA"))
        #expect(try PrivateKey(protobufEncoding: secp.protobufEncoding) == secp)
    }

    @Test func rejectsMalformedKeys() throws {
        // Truncated, empty, garbage, missing required field.
        #expect(throws: KeyError.malformedEncoding) { try PublicKey(protobufEncoding: [0x08, 0x01, 0x12, 0x20, 0x01]) }
        #expect(throws: KeyError.malformedEncoding) { try PublicKey(protobufEncoding: []) }
        #expect(throws: KeyError.malformedEncoding) { try PublicKey(protobufEncoding: [0x08, 0x01]) }
        #expect(throws: KeyError.malformedEncoding) { try PublicKey(protobufEncoding: [0xFF, 0xFF, 0xFF]) }
        // Unknown key type number.
        #expect(throws: KeyError.malformedEncoding) { try PublicKey(protobufEncoding: [0x08, 0x09, 0x12, 0x00]) }
        // Wrong lengths and points that are not on the curve.
        #expect(throws: KeyError.invalidKeyData(.ed25519)) { try PublicKey(type: .ed25519, data: [1, 2, 3]) }
        #expect(throws: KeyError.invalidKeyData(.secp256k1)) {
            try PublicKey(type: .secp256k1, data: [0x02] + [UInt8](repeating: 0xFF, count: 32))
        }
        #expect(throws: KeyError.invalidKeyData(.ecdsa)) { try PublicKey(type: .ecdsa, data: [0x30, 0x00]) }
        #expect(throws: KeyError.invalidKeyData(.rsa)) { try PublicKey(type: .rsa, data: [0x30, 0x03, 0x02, 0x01, 0x01]) }
        #expect(throws: KeyError.invalidKeyData(.secp256k1)) {
            try PrivateKey(type: .secp256k1, data: [UInt8](repeating: 0, count: 32))
        }
        #expect(throws: KeyError.encodingTooLong(5000)) { try PublicKey(protobufEncoding: [UInt8](repeating: 0, count: 5000)) }
        // An Ed25519 private key whose public half does not match its seed.
        var mismatched = [UInt8](repeating: 1, count: 32) + [UInt8](repeating: 2, count: 32)
        #expect(throws: KeyError.inconsistentKeyPair(.ed25519)) { try PrivateKey(type: .ed25519, data: mismatched) }
        mismatched.removeLast()
        #expect(throws: KeyError.invalidKeyData(.ed25519)) { try PrivateKey(type: .ed25519, data: mismatched) }
    }

    @Test func rejectsRSAKeysBelow2048Bits() throws {
        let small = hex(try TestVectors.signatures().rsa1024_public_pkix_hex)
        #expect(throws: KeyError.rsaKeySizeOutOfRange(bits: 1024)) { try PublicKey(type: .rsa, data: small) }
    }

    @Test func secp256k1AcceptsUncompressedKeysAndStoresThemCompressed() throws {
        let uncompressed = hex(try TestVectors.signatures().secp256k1_public_uncompressed_hex)
        #expect(uncompressed.count == 65)
        let key = try PublicKey(type: .secp256k1, data: uncompressed)
        let vector = try #require(try TestVectors.keyEncodings().vectors.first { $0.key == "secp256k1 public key" })
        #expect(key.protobufEncoding == hex(vector.protobuf_hex), "re-encoded compressed, as go-libp2p does")
    }
}
