/// Limits and timers of a Yamux session. The defaults follow go-yamux and rust-yamux where
/// they agree, and are chosen to bound what a misbehaving peer can make us hold.
public struct YamuxConfiguration: Sendable {
    /// The window every stream starts with (the spec's 256 KiB; both sides assume it).
    public static let initialWindow: UInt32 = 256 * 1024

    /// The largest receive window auto-tuning grows a stream to (16 MiB, as go-yamux and
    /// rust-yamux).
    public var maximumReceiveWindow: UInt32 = 16 * 1024 * 1024

    /// The most receive window, summed over all streams, granted beyond the initial windows:
    /// auto-tuning stops growing windows past it.
    public var connectionReceiveWindowBudget: UInt64 = 64 * 1024 * 1024

    /// The most streams open at once, both directions together; a SYN past it is reset.
    public var maximumStreams = 512

    /// The most streams this side opens that the peer has not yet acknowledged (the spec's
    /// ACK backlog of 256); `openStream` refuses past it.
    public var maximumAckBacklog = 256

    /// The largest payload of a Data frame this side sends. 65507 makes header and payload
    /// fill one Noise frame (65519 bytes of plaintext).
    public var maximumFramePayload = 65_507

    /// How many bytes of data frames may wait for `pollTransmit`; writes beyond it are short
    /// and the writer hears `writable` when room frees up. Control frames are not counted.
    public var maximumPendingTransmit = 1024 * 1024

    /// How many ping replies may wait for `pollTransmit` before a peer that floods pings
    /// while not reading is treated as a protocol violation.
    public var maximumPendingPingReplies = 64

    /// The idle time after which a keepalive ping is sent (`nil`: no keepalive).
    public var keepaliveInterval: Duration? = .seconds(30)

    /// How long a ping may wait for its reply before the session is closed.
    public var pingTimeout: Duration = .seconds(10)

    /// Whether to send a ping when the session starts, to measure the round-trip time that
    /// window auto-tuning needs.
    public var measuresRoundTripAtStart = true

    /// The defaults.
    public init() {}
}

/// A Yamux configuration held once and shared by reference by the sessions made with it.
public final class SharedYamuxConfiguration: Sendable {
    /// The configuration.
    public let value: YamuxConfiguration

    /// Shares `value`.
    public init(_ value: YamuxConfiguration) { self.value = value }
}

