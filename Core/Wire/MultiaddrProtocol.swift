/// A protocol that can appear in a multiaddr, identified on the wire by its multicodec code
/// (`shared/specs/multiaddr/protocols.csv`).
///
/// Only the protocols Traverse reads are listed; any other code or name is rejected with
/// ``MultiaddrError/unknownProtocolCode(_:)`` or ``MultiaddrError/unknownProtocolName(_:)``.
public enum MultiaddrProtocol: UInt64, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// IPv4 address, 4 bytes.
    case ip4 = 4
    /// TCP port, 2 bytes big-endian.
    case tcp = 6
    /// DCCP port, 2 bytes big-endian.
    case dccp = 33
    /// IPv6 address, 16 bytes.
    case ip6 = 41
    /// IPv6 zone (RFC 4007), length-prefixed UTF-8.
    case ip6zone = 42
    /// Domain name resolvable to IPv4 and IPv6 addresses, length-prefixed UTF-8.
    case dns = 53
    /// Domain name resolvable to IPv4 addresses only.
    case dns4 = 54
    /// Domain name resolvable to IPv6 addresses only.
    case dns6 = 55
    /// Domain name whose `_dnsaddr` TXT records hold multiaddrs.
    case dnsaddr = 56
    /// UDP port, 2 bytes big-endian.
    case udp = 273
    /// WebRTC direct (ICE-lite) transport; no value.
    case webrtcDirect = 280
    /// WebRTC transport (W3C connection establishment); no value.
    case webrtc = 281
    /// Circuit relay; no value.
    case p2pCircuit = 290
    /// Unix domain socket path, length-prefixed UTF-8; a path protocol, always last.
    case unix = 400
    /// Peer ID, length-prefixed multihash. `/ipfs/` is accepted as a legacy text alias.
    case p2p = 421
    /// HTTPS (deprecated alias of `/tls/http`); no value.
    case https = 443
    /// TLS; no value.
    case tls = 448
    /// TLS Server Name Indication, length-prefixed UTF-8.
    case sni = 449
    /// Noise security; no value.
    case noise = 454
    /// QUIC draft-29; no value.
    case quic = 460
    /// QUIC version 1 (RFC 9000); no value.
    case quicV1 = 461
    /// WebTransport; no value.
    case webtransport = 465
    /// Certificate hash, length-prefixed multihash.
    case certhash = 466
    /// WebSocket; no value.
    case ws = 477
    /// Secure WebSocket (deprecated alias of `/tls/ws`); no value.
    case wss = 478
    /// HTTP; no value.
    case http = 480
    /// In-memory transport for tests, 8-byte big-endian number.
    ///
    /// `protocols.csv` marks its size `V`, but go-multiaddr and rust-multiaddr both encode a
    /// fixed 64-bit value with no length prefix; Traverse matches them.
    case memory = 777

    /// How a protocol's value is laid out in the binary form.
    public enum ValueSize: Hashable, Sendable {
        /// The protocol carries no value.
        case none
        /// The value has exactly this many bytes.
        case fixed(Int)
        /// The value is preceded by a uvarint byte length.
        case lengthPrefixed
    }

    /// The multicodec code.
    public var code: UInt64 { rawValue }

    /// The protocol with this multicodec code, if Traverse knows it.
    public init?(code: UInt64) {
        self.init(rawValue: code)
    }

    /// The canonical text name.
    public var name: String {
        switch self {
        case .ip4: "ip4"
        case .tcp: "tcp"
        case .dccp: "dccp"
        case .ip6: "ip6"
        case .ip6zone: "ip6zone"
        case .dns: "dns"
        case .dns4: "dns4"
        case .dns6: "dns6"
        case .dnsaddr: "dnsaddr"
        case .udp: "udp"
        case .webrtcDirect: "webrtc-direct"
        case .webrtc: "webrtc"
        case .p2pCircuit: "p2p-circuit"
        case .unix: "unix"
        case .p2p: "p2p"
        case .https: "https"
        case .tls: "tls"
        case .sni: "sni"
        case .noise: "noise"
        case .quic: "quic"
        case .quicV1: "quic-v1"
        case .webtransport: "webtransport"
        case .certhash: "certhash"
        case .ws: "ws"
        case .wss: "wss"
        case .http: "http"
        case .memory: "memory"
        }
    }

    /// The protocol with this text name; `ipfs` names ``p2p``.
    public init?(name: some StringProtocol) {
        guard let match = Self.byName[Array(name.utf8)] else { return nil }
        self = match
    }

    /// The canonical text name.
    public var description: String { name }

    /// The layout of the value in the binary form (`protocols.csv`, sizes converted to bytes).
    public var valueSize: ValueSize {
        switch self {
        case .ip4: .fixed(4)
        case .tcp, .udp, .dccp: .fixed(2)
        case .ip6: .fixed(16)
        case .memory: .fixed(8)
        case .ip6zone, .dns, .dns4, .dns6, .dnsaddr, .sni, .unix, .p2p, .certhash: .lengthPrefixed
        case .webrtcDirect, .webrtc, .p2pCircuit, .https, .tls, .noise, .quic, .quicV1,
             .webtransport, .ws, .wss, .http:
            .none
        }
    }

    /// Whether the protocol carries a value.
    public var hasValue: Bool { valueSize != .none }

    /// Whether the value is a path that takes up the rest of the text form (`/unix/a/b`), so
    /// that no component may follow it.
    public var isPath: Bool { self == .unix }

    /// The longest value this protocol accepts, in bytes, when it has its own limit (names:
    /// ``MultiaddrComponent/maximumDomainNameLength``).
    var maximumValueLength: Int? {
        switch self {
        case .dns, .dns4, .dns6, .dnsaddr, .sni: MultiaddrComponent.maximumDomainNameLength
        default: nil
        }
    }

    /// Text names (as UTF-8) to protocols, including the legacy `ipfs` for ``p2p``.
    static let byName: [[UInt8]: MultiaddrProtocol] = {
        var table: [[UInt8]: MultiaddrProtocol] = [:]
        for item in allCases { table[Array(item.name.utf8)] = item }
        table[Array("ipfs".utf8)] = .p2p
        return table
    }()
}
