/// A NATS server URL as the command line takes it: `nats://HOST[:PORT]`, where HOST is an
/// IPv4 address, a bracketed IPv6 address or a host name, and PORT defaults to 4222.
/// Anything else (another scheme, credentials, a path, a query) is refused: this client
/// speaks plain NATS without authentication.
public struct NATSServerURL: Hashable, Sendable, CustomStringConvertible {
    /// The host as written (without brackets for IPv6).
    public let host: String
    /// The port.
    public let port: UInt16
    /// The socket address when the host is an IP address literal; `nil` for a name.
    public let socketAddress: SocketAddress?

    /// NATS's default port.
    public static let defaultPort: UInt16 = 4222
    /// The longest host name taken (DNS's limit).
    public static let maximumHostLength = 253

    /// Parses `text`.
    public init(_ text: String) throws(NATSServerURLError) {
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { throw .missingScheme(text) }
        let scheme = parts[0]
        guard scheme.lowercased() == "nats" else { throw .unsupportedScheme(String(scheme)) }
        var rest = parts[1]
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            let tail = rest[slash...]
            guard tail == "/" else { throw .unexpectedPath(String(tail)) }
            rest = rest[..<slash]
        }
        guard !rest.contains("@") else { throw .credentialsNotSupported }
        var hostText: Substring
        var portText: Substring?
        var literal: SocketAddress?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidHost(String(rest)) }
            hostText = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost(String(rest)) }
                portText = after.dropFirst()
            }
            guard let address = IPv6Address(hostText) else { throw .invalidHost(String(hostText)) }
            host = String(hostText)
            literal = .ipv6(address, port: 0)
        } else {
            if let colon = rest.firstIndex(of: ":") {
                hostText = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                hostText = rest
            }
            guard !hostText.isEmpty else { throw .emptyHost }
            if let address = IPv4Address(hostText) {
                literal = .ipv4(address, port: 0)
            } else {
                guard hostText.utf8.count <= Self.maximumHostLength,
                      hostText.utf8.allSatisfy({ $0.isASCIIHostCharacter }),
                      !hostText.hasPrefix("."), !hostText.hasPrefix("-"), !hostText.contains("..")
                else { throw .invalidHost(String(hostText)) }
            }
            host = String(hostText)
        }
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = UInt16(portText), value > 0
            else { throw .invalidPort(String(portText)) }
            port = value
        } else {
            port = Self.defaultPort
        }
        socketAddress = literal?.with(port: port)
    }

    public var description: String {
        host.contains(":") ? "nats://[\(host)]:\(port)" : "nats://\(host):\(port)"
    }
}

/// Why a NATS server URL was refused.
public enum NATSServerURLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No `scheme://`.
    case missingScheme(String)
    /// A scheme other than `nats` (`tls://` included: TLS is not supported).
    case unsupportedScheme(String)
    /// `user:password@` or a token: authentication is not supported.
    case credentialsNotSupported
    /// No host.
    case emptyHost
    /// Not an IP address or a host name.
    case invalidHost(String)
    /// Not a port number from 1 to 65535.
    case invalidPort(String)
    /// A path, query or fragment after the host and port.
    case unexpectedPath(String)

    public var description: String {
        switch self {
        case .missingScheme(let text): "not a NATS URL (nats://HOST:PORT): \(text)"
        case .unsupportedScheme(let scheme): "unsupported URL scheme \(scheme)://; only nats:// is supported"
        case .credentialsNotSupported: "credentials in the NATS URL are not supported"
        case .emptyHost: "the NATS URL has no host"
        case .invalidHost(let host): "invalid host in the NATS URL: \(host)"
        case .invalidPort(let port): "invalid port in the NATS URL: \(port) (1-65535)"
        case .unexpectedPath(let path): "unexpected \(path) after the host and port of the NATS URL"
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIHostCharacter: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
            || self == 0x2D || self == 0x2E
    }
}
