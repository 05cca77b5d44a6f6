/// Settings of a connection's upgrade and of its streams.
public struct ConnectionConfiguration: Sendable {
    /// The security protocol negotiated on the raw byte stream.
    public static let noiseProtocol = "/noise"
    /// The stream multiplexer.
    public static let yamuxProtocol = "/yamux/1.0.0"

    /// The whole upgrade (security and muxer) must finish within this.
    public var handshakeTimeout: Duration = .seconds(10)
    /// An inbound or outbound stream must finish protocol negotiation within this.
    public var streamNegotiationTimeout: Duration = .seconds(10)
    /// The most inbound streams negotiating their protocol at once; more are reset.
    public var maximumNegotiatingInboundStreams = 64
    /// Whether to offer `/yamux/1.0.0` inside the Noise handshake (inlined muxer
    /// negotiation), saving a round trip with peers that offer it too.
    public var inlinesMuxerNegotiation = true
    /// multistream-select limits, for the upgrade and for every stream.
    public var multistream = MultistreamConfiguration()
    /// Yamux limits and timers.
    public var yamux = YamuxConfiguration()

    /// The defaults.
    public init() {}
}

/// Which side of the upgrade a connection plays: the client sends the multistream
/// proposals, is the Noise initiator and the Yamux client. Normally the dialer is the
/// client; in a hole punch the roles come from DCUtR instead.
public enum ConnectionRole: Sendable, Hashable {
    case client
    case server
}

/// Whether this side dialed the connection or accepted it (for reporting; the upgrade
/// role is `ConnectionRole`).
public enum ConnectionDirection: Sendable, Hashable {
    case outbound
    case inbound
}

/// Streams of a connection are its Yamux streams.
public typealias StreamID = YamuxStreamID

/// A connection configuration held once and shared by reference by every connection made
/// with it (and their Yamux sessions), so that thousands of connections do not each carry
/// a copy inline.
public final class SharedConnectionConfiguration: Sendable {
    /// The configuration.
    public let value: ConnectionConfiguration
    /// Its Yamux part, shared the same way by the sessions.
    public let yamux: SharedYamuxConfiguration

    /// Shares `value`.
    public init(_ value: ConnectionConfiguration) {
        self.value = value
        yamux = SharedYamuxConfiguration(value.yamux)
    }
}

