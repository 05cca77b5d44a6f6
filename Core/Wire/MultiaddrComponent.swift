/// One protocol of a multiaddr with its typed value, such as `/tcp/443` or `/p2p-circuit`.
///
/// Components compare equal when their binary forms are equal (so two strings that Swift
/// considers canonically equivalent but that differ in bytes are different components).
/// A component built directly may hold a value no multiaddr accepts (an empty DNS name, say);
/// ``Multiaddr/init(components:)`` checks every value.
public enum MultiaddrComponent: Hashable, Sendable, CustomStringConvertible {
    /// `/ip4/<dotted quad>`.
    case ip4(IPv4Address)
    /// `/ip6/<RFC 5952 text>`.
    case ip6(IPv6Address)
    /// `/ip6zone/<zone>`: an RFC 4007 zone, non-empty, without `/`.
    case ip6zone(String)
    /// `/tcp/<port>`.
    case tcp(UInt16)
    /// `/udp/<port>`.
    case udp(UInt16)
    /// `/dccp/<port>`.
    case dccp(UInt16)
    /// `/dns/<name>`: non-empty, without `/`, at most 255 bytes.
    case dns(String)
    /// `/dns4/<name>`: non-empty, without `/`, at most 255 bytes.
    case dns4(String)
    /// `/dns6/<name>`: non-empty, without `/`, at most 255 bytes.
    case dns6(String)
    /// `/dnsaddr/<name>`: non-empty, without `/`, at most 255 bytes.
    case dnsaddr(String)
    /// `/p2p/<peer ID>` (text also `/ipfs/<peer ID>`, and the ID as a CIDv1).
    case p2p(PeerID)
    /// `/p2p-circuit`.
    case p2pCircuit
    /// `/quic` (draft-29).
    case quic
    /// `/quic-v1`.
    case quicV1
    /// `/webtransport`.
    case webtransport
    /// `/certhash/<multibase>`: the value is the multihash bytes; the text form is multibase,
    /// written as base64url (`u…`).
    case certhash([UInt8])
    /// `/webrtc-direct`.
    case webrtcDirect
    /// `/webrtc`.
    case webrtc
    /// `/ws`.
    case ws
    /// `/wss`.
    case wss
    /// `/tls`.
    case tls
    /// `/sni/<server name>`: non-empty, without `/`, at most 255 bytes.
    case sni(String)
    /// `/noise`.
    case noise
    /// `/http`.
    case http
    /// `/https`.
    case https
    /// `/unix/<path>`: the absolute path (starting with `/`, not ending with `/`) of a unix
    /// domain socket. It takes the rest of the text form, so it is always the last component.
    case unix(String)
    /// `/memory/<number>`.
    case memory(UInt64)

    /// The longest name `dns`, `dns4`, `dns6`, `dnsaddr` and `sni` accept, in bytes.
    public static let maximumDomainNameLength = 255

    /// The protocol of this component.
    public var `protocol`: MultiaddrProtocol {
        switch self {
        case .ip4: .ip4
        case .ip6: .ip6
        case .ip6zone: .ip6zone
        case .tcp: .tcp
        case .udp: .udp
        case .dccp: .dccp
        case .dns: .dns
        case .dns4: .dns4
        case .dns6: .dns6
        case .dnsaddr: .dnsaddr
        case .p2p: .p2p
        case .p2pCircuit: .p2pCircuit
        case .quic: .quic
        case .quicV1: .quicV1
        case .webtransport: .webtransport
        case .certhash: .certhash
        case .webrtcDirect: .webrtcDirect
        case .webrtc: .webrtc
        case .ws: .ws
        case .wss: .wss
        case .tls: .tls
        case .sni: .sni
        case .noise: .noise
        case .http: .http
        case .https: .https
        case .unix: .unix
        case .memory: .memory
        }
    }

    /// The component of a protocol that carries no value; `nil` for a protocol that has one.
    public init?(valueless protocol: MultiaddrProtocol) {
        switch `protocol` {
        case .p2pCircuit: self = .p2pCircuit
        case .quic: self = .quic
        case .quicV1: self = .quicV1
        case .webtransport: self = .webtransport
        case .webrtcDirect: self = .webrtcDirect
        case .webrtc: self = .webrtc
        case .ws: self = .ws
        case .wss: self = .wss
        case .tls: self = .tls
        case .noise: self = .noise
        case .http: self = .http
        case .https: self = .https
        case .ip4, .ip6, .ip6zone, .tcp, .udp, .dccp, .dns, .dns4, .dns6, .dnsaddr, .p2p,
             .certhash, .sni, .unix, .memory:
            return nil
        }
    }

    /// The string value of a component whose value is a string.
    var stringValue: String? {
        switch self {
        case .ip6zone(let value), .dns(let value), .dns4(let value), .dns6(let value),
             .dnsaddr(let value), .sni(let value), .unix(let value):
            value
        default:
            nil
        }
    }

    /// Checks what the enum's types cannot: string values are non-empty, have no `/` and
    /// (for names) fit 255 bytes; unix paths are absolute without a trailing `/`; a
    /// certificate hash is a well-formed multihash.
    public func validate() throws(MultiaddrError) {
        let kind = self.protocol
        if case .certhash(let multihash) = self {
            guard Self.isMultihash(multihash) else { throw .invalidValue(kind, .notMultihash) }
            return
        }
        guard let value = stringValue else { return }
        let utf8 = value.utf8
        if kind == .unix {
            guard utf8.count >= 2, utf8.first == UInt8(ascii: "/") else {
                throw .invalidValue(kind, .notAbsolutePath)
            }
            guard utf8.last != UInt8(ascii: "/") else { throw .invalidValue(kind, .trailingSlash) }
            return
        }
        guard !utf8.isEmpty else { throw .invalidValue(kind, .empty) }
        if let maximum = kind.maximumValueLength, utf8.count > maximum {
            throw .valueTooLong(kind, length: UInt64(utf8.count))
        }
        guard !utf8.contains(UInt8(ascii: "/")) else { throw .invalidValue(kind, .containsSlash) }
    }

    /// The binary form of this component.
    public var bytes: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// The text form of this component, such as `/tcp/443` or `/unix/tmp/socket`.
    public var description: String {
        let name = self.protocol.name
        guard let value = valueText else { return "/" + name }
        // A unix path starts with its own `/`.
        if case .unix = self { return "/" + name + value }
        return "/" + name + "/" + value
    }

    /// Components are equal when their binary forms are.
    public static func == (lhs: MultiaddrComponent, rhs: MultiaddrComponent) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Hashes the binary form.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
    }

    /// Whether `bytes` is `uvarint(code) ‖ uvarint(length) ‖ length bytes` for any code.
    static func isMultihash(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        let length: UInt64
        do {
            _ = try Varint.decode(bytes.span, at: &offset)
            length = try Varint.decode(bytes.span, at: &offset)
        } catch {
            return false
        }
        return UInt64(bytes.count - offset) == length
    }
}
