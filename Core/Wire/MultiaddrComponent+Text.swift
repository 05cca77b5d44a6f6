extension MultiaddrComponent {
    /// Parses and validates the component of a protocol that carries a value from the text of
    /// that value (`MultiaddrComponent(.tcp, value: "443")`).
    ///
    /// A protocol without a value is rejected with ``MultiaddrValueError/unexpectedValue``;
    /// use ``init(valueless:)`` for those.
    public init(_ protocol: MultiaddrProtocol, value: some StringProtocol) throws(MultiaddrError) {
        let component = try Self.parseValue(of: `protocol`, from: String(value))
        try component.validate()
        self = component
    }

    /// The text form of the value (`443`, `2001:db8::1`, the base58 peer ID, a `u…` multibase
    /// certificate hash, a unix path with its leading `/`); `nil` for a protocol without one.
    public var valueText: String? {
        switch self {
        case .ip4(let address): address.description
        case .ip6(let address): address.description
        case .tcp(let port), .udp(let port), .dccp(let port): String(port)
        case .memory(let number): String(number)
        case .ip6zone(let value), .dns(let value), .dns4(let value), .dns6(let value),
             .dnsaddr(let value), .sni(let value), .unix(let value):
            value
        case .p2p(let peer): peer.description
        case .certhash(let multihash): "u" + Base64URL.encode(multihash)
        case .p2pCircuit, .quic, .quicV1, .webtransport, .webrtcDirect, .webrtc, .ws, .wss, .tls,
             .noise, .http, .https:
            nil
        }
    }

    /// Builds the component of `kind` from the text of its value (not yet validated).
    private static func parseValue(
        of kind: MultiaddrProtocol, from value: String
    ) throws(MultiaddrError) -> MultiaddrComponent {
        switch kind {
        case .ip4:
            guard let address = IPv4Address(value) else { throw .invalidValue(kind, .notIPv4Address) }
            return .ip4(address)
        case .ip6:
            guard let address = IPv6Address(value) else { throw .invalidValue(kind, .notIPv6Address) }
            return .ip6(address)
        case .tcp:
            return .tcp(try port(kind, value))
        case .udp:
            return .udp(try port(kind, value))
        case .dccp:
            return .dccp(try port(kind, value))
        case .memory:
            guard let number = decimal(value, maximum: UInt64.max) else {
                throw .invalidValue(kind, .notNumber)
            }
            return .memory(number)
        case .ip6zone:
            return .ip6zone(value)
        case .dns:
            return .dns(value)
        case .dns4:
            return .dns4(value)
        case .dns6:
            return .dns6(value)
        case .dnsaddr:
            return .dnsaddr(value)
        case .sni:
            return .sni(value)
        case .unix:
            return .unix(value)
        case .p2p:
            do {
                return .p2p(try PeerID(value))
            } catch {
                throw .invalidPeerID(error)
            }
        case .certhash:
            guard let multihash = multibaseDecode(value) else { throw .invalidValue(kind, .notMultibase) }
            return .certhash(multihash)
        case .p2pCircuit, .quic, .quicV1, .webtransport, .webrtcDirect, .webrtc, .ws, .wss, .tls,
             .noise, .http, .https:
            throw .invalidValue(kind, .unexpectedValue)
        }
    }

    /// A decimal port 0–65535 (digits only; leading zeros allowed).
    private static func port(_ kind: MultiaddrProtocol, _ text: String) throws(MultiaddrError) -> UInt16 {
        guard let number = decimal(text, maximum: UInt64(UInt16.max)) else {
            throw .invalidValue(kind, .notPort)
        }
        return UInt16(truncatingIfNeeded: number)
    }

    /// A non-empty run of ASCII digits whose value is at most `maximum`; `nil` otherwise.
    static func decimal(_ text: String, maximum: UInt64) -> UInt64? {
        var number: UInt64 = 0
        var digits = 0
        for character in text.utf8 {
            guard character >= UInt8(ascii: "0"), character <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow) = number.multipliedReportingOverflow(by: 10)
            let (sum, carry) = shifted.addingReportingOverflow(UInt64(character - UInt8(ascii: "0")))
            guard !overflow, !carry, sum <= maximum else { return nil }
            number = sum
            digits += 1
        }
        return digits > 0 ? number : nil
    }

    /// Decodes multibase text in the encodings a certificate hash may arrive in: `u`
    /// (base64url, what go-multiaddr writes), `b`/`B` (base32), `z` (base58btc), `f`/`F` (hex).
    static func multibaseDecode(_ text: String) -> [UInt8]? {
        guard let prefix = text.utf8.first else { return nil }
        // Dropping one scalar (not one Character, which could swallow combining marks).
        let payload = Substring(text.unicodeScalars.dropFirst())
        switch prefix {
        case UInt8(ascii: "u"): return Base64URL.decode(payload)
        case UInt8(ascii: "b"), UInt8(ascii: "B"): return Base32.decode(payload)
        case UInt8(ascii: "z"): return Base58.decode(payload, maximumLength: Multiaddr.maximumBinaryLength * 2)
        case UInt8(ascii: "f"), UInt8(ascii: "F"): return Hex.decode(payload)
        default: return nil
        }
    }
}
