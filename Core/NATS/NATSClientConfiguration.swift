/// Settings and limits of a `NATSClient`.
public struct NATSClientConfiguration: Hashable, Sendable {
    /// The client name sent in CONNECT (`name`).
    public var name: String = "traverse"
    /// The client version sent in CONNECT (`version`).
    public var version: String = "0.1.0"
    /// The time from the start to the server's PONG for the first PING (INFO, CONNECT,
    /// PING, PONG): past it the connection fails with `connectTimeout`.
    public var connectTimeout: Duration = .seconds(5)
    /// How often the client sends its keepalive PING once connected.
    public var pingInterval: Duration = .seconds(30)
    /// Keepalive PINGs left unanswered when the next one is due: at this many the
    /// connection fails with `staleConnection` (nats.go: 2).
    public var maximumOutstandingPings: Int = 2
    /// The longest control line read from the server, CRLF excluded (INFO included).
    public var maximumControlLineLength: Int = 16 * 1024
    /// The largest MSG payload kept; larger ones are skipped and reported as
    /// `messageDropped` (the connection stays up: anyone may publish to a subject).
    public var maximumMessagePayload: Int = NATSServerInfo.defaultMaximumPayload
    /// The most bytes waiting in `pollTransmit`; `publish` refuses what would go past it,
    /// and a server that makes the client queue more PONGs than that is cut off.
    public var maximumPendingOutput: Int = 4 * 1024 * 1024
    /// The most subscriptions at once.
    public var maximumSubscriptions: Int = 1024
    /// The longest subject or queue group a command accepts.
    public var maximumSubjectLength: Int = 1024

    /// The defaults.
    public init() {}
}
