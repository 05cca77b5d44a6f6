import TraverseCore

extension FuzzTarget {
    /// `PublicKey` and `PrivateKey` protobuf decoding.
    public static let keyProtobuf = FuzzTarget(name: "key-protobuf") { input in
        let bytes = input.array
        if let key = try? PublicKey(protobufEncoding: bytes) {
            let again = try? PublicKey(protobufEncoding: key.protobufEncoding)
            precondition(again == key, "public key re-encoding round trip")
            _ = key.peerID
            precondition(!key.verify(signature: Array(bytes.prefix(64)), for: bytes) || bytes.count < 64)
        }
        if let key = try? PrivateKey(protobufEncoding: bytes) {
            let again = try? PrivateKey(protobufEncoding: key.protobufEncoding)
            precondition(again == key, "private key re-encoding round trip")
            if let signature = try? key.sign(bytes) {
                precondition(key.publicKey.verify(signature: signature, for: bytes), "own signature verifies")
            }
        }
    }
}
