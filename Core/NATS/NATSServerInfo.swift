import FoundationEssentials

/// What a NATS server says about itself in `INFO {json}`: the fields this client uses.
public struct NATSServerInfo: Hashable, Sendable {
    /// The server's unique ID (`server_id`; empty when it sent none).
    public var serverID: String
    /// The server's name (`server_name`).
    public var serverName: String?
    /// The server's version (`version`), e.g. "2.9.10".
    public var version: String?
    /// The protocol level (`proto`): 1 means the server sends asynchronous INFO updates.
    public var protocolVersion: Int
    /// The largest payload the server accepts in one message (`max_payload`), in bytes.
    public var maximumPayload: Int
    /// Whether the server supports headers (`headers`; this client never asks for them).
    public var headers: Bool
    /// Whether the server wants credentials in CONNECT (`auth_required`).
    public var authRequired: Bool
    /// Whether the server wants TLS (`tls_required`; this client speaks plain TCP).
    public var tlsRequired: Bool
    /// Whether the server is in lame-duck mode and will close soon (`ldm`).
    public var lameDuckMode: Bool

    /// The default `max_payload` of nats-server (1 MiB), used when INFO has none.
    public static let defaultMaximumPayload = 1_048_576

    /// An info with the given values.
    public init(
        serverID: String, serverName: String? = nil, version: String? = nil, protocolVersion: Int = 1,
        maximumPayload: Int = Self.defaultMaximumPayload, headers: Bool = false, authRequired: Bool = false,
        tlsRequired: Bool = false, lameDuckMode: Bool = false
    ) {
        self.serverID = serverID
        self.serverName = serverName
        self.version = version
        self.protocolVersion = protocolVersion
        self.maximumPayload = maximumPayload
        self.headers = headers
        self.authRequired = authRequired
        self.tlsRequired = tlsRequired
        self.lameDuckMode = lameDuckMode
    }

    /// Decodes the JSON object of an INFO line. Unknown fields are ignored; a `max_payload`
    /// that is not positive, or JSON that does not decode as an object, is malformed.
    /// The caller bounds the size (the control line limit).
    public init(json: [UInt8]) throws(NATSProtocolError) {
        let wire: WireInfo
        do {
            wire = try JSONDecoder().decode(WireInfo.self, from: Data(json))
        } catch {
            throw .malformedInfo
        }
        let maximumPayload = wire.maximumPayload ?? Self.defaultMaximumPayload
        guard maximumPayload > 0 else { throw .malformedInfo }
        self.init(
            serverID: wire.serverID ?? "", serverName: wire.serverName, version: wire.version,
            protocolVersion: wire.proto ?? 0, maximumPayload: maximumPayload, headers: wire.headers ?? false,
            authRequired: wire.authRequired ?? false, tlsRequired: wire.tlsRequired ?? false,
            lameDuckMode: wire.lameDuckMode ?? false)
    }

    private struct WireInfo: Decodable {
        var serverID: String?
        var serverName: String?
        var version: String?
        var proto: Int?
        var maximumPayload: Int?
        var headers: Bool?
        var authRequired: Bool?
        var tlsRequired: Bool?
        var lameDuckMode: Bool?

        enum CodingKeys: String, CodingKey {
            case serverID = "server_id", serverName = "server_name", version, proto
            case maximumPayload = "max_payload", headers, authRequired = "auth_required"
            case tlsRequired = "tls_required", lameDuckMode = "ldm"
        }
    }
}
