extension KeyError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .malformedEncoding: "malformed key protobuf"
        case .encodingTooLong(let length): "key encoding of \(length) bytes is too long"
        case .invalidKeyData(let type): "invalid \(type) key bytes"
        case .rsaKeySizeOutOfRange(let bits): "RSA key of \(bits) bits (libp2p accepts 2048 to 8192)"
        case .inconsistentKeyPair(let type): "\(type) private key does not match its public key"
        case .signingFailed(let type): "\(type) signing failed"
        }
    }
}
