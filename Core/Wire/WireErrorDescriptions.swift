/// Human-readable forms of the wire-format errors, for logs and the CLI.

extension VarintError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated: "varint truncated"
        case .notMinimal: "varint not minimally encoded"
        case .tooLong: "varint longer than 9 bytes"
        }
    }
}

extension LengthPrefixError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .malformedLength(let error): "malformed length prefix: \(error)"
        case .tooLong(let length, let maximum): "message of \(length) bytes exceeds the limit of \(maximum)"
        }
    }
}

extension MultihashError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .malformedVarint(let error): "malformed multihash: \(error)"
        case .unsupportedCode(let code): "unsupported multihash code 0x\(String(code, radix: 16))"
        case .wrongDigestLength(let code, let length):
            "multihash 0x\(String(code, radix: 16)) with a digest of \(length) bytes"
        }
    }
}

extension PeerIDError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidMultihash(let error): "invalid peer ID: \(error)"
        case .inlineKeyTooLong(let length): "invalid peer ID: inlined key of \(length) bytes (at most 42)"
        case .invalidText: "invalid peer ID text (expected base58btc or a CIDv1 in base32)"
        case .unsupportedCIDVersion(let version): "invalid peer ID: CID version \(version)"
        case .wrongCIDCodec(let codec): "invalid peer ID: CID codec 0x\(String(codec, radix: 16)), not libp2p-key"
        }
    }
}

extension MultiaddrValueError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notIPv4Address: "not an IPv4 address"
        case .notIPv6Address: "not an IPv6 address"
        case .notPort: "not a port (0-65535)"
        case .notNumber: "not a number"
        case .empty: "empty"
        case .containsSlash: "contains '/'"
        case .notUTF8: "not UTF-8"
        case .notMultibase: "not multibase text"
        case .notMultihash: "not a multihash"
        case .notAbsolutePath: "not an absolute path"
        case .trailingSlash: "ends in '/'"
        case .unexpectedValue: "takes no value"
        }
    }
}

extension MultiaddrError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .empty: "empty multiaddr"
        case .binaryTooLong(let length): "multiaddr of \(length) bytes exceeds \(Multiaddr.maximumBinaryLength)"
        case .textTooLong(let length): "multiaddr text of \(length) characters exceeds \(Multiaddr.maximumTextLength)"
        case .missingLeadingSlash: "multiaddr text must start with '/'"
        case .malformedVarint(let error): "malformed multiaddr: \(error)"
        case .unknownProtocolCode(let code): "unknown multiaddr protocol code \(code)"
        case .unknownProtocolName(let name): "unknown multiaddr protocol '\(name)'"
        case .truncatedValue(let proto): "multiaddr truncated inside /\(proto.name)"
        case .missingValue(let proto): "/\(proto.name) needs a value"
        case .valueTooLong(let proto, let length): "/\(proto.name) value of \(length) bytes is too long"
        case .invalidValue(let proto, let error): "invalid /\(proto.name) value: \(error)"
        case .invalidPeerID(let error): "invalid /p2p value: \(error)"
        case .componentAfterPath(let proto): "nothing may follow /\(proto.name)"
        }
    }
}
