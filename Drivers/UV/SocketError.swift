import CUV

/// Why a socket, connect, name lookup or datagram exchange failed: the libuv error codes a
/// caller can act on, by name, and every other code as `other`.
public enum SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing listens at the address (`ECONNREFUSED`).
    case connectionRefused
    /// The operation took too long (`ETIMEDOUT`, or a datagram exchange got no answer).
    case timedOut
    /// No route to the host (`EHOSTUNREACH`).
    case hostUnreachable
    /// No route to the network (`ENETUNREACH`).
    case networkUnreachable
    /// The peer reset the connection (`ECONNRESET`).
    case connectionReset
    /// Another socket holds the address (`EADDRINUSE`).
    case addressInUse
    /// The local address is not one of this host's (`EADDRNOTAVAIL`).
    case addressNotAvailable
    /// The name has no address of the asked family (`EAI_NONAME`, `EAI_NODATA`).
    case nameNotFound
    /// The operation was cancelled because its loop shut down (`ECANCELED`).
    case cancelled
    /// Any other libuv error: its code and its name (`EPIPE`, `EMFILE`…).
    case other(code: Int32, name: String)

    /// The error for a negative libuv status code.
    init(code: Int32) {
        switch code {
        case UV_ECONNREFUSED.rawValue: self = .connectionRefused
        case UV_ETIMEDOUT.rawValue: self = .timedOut
        case UV_EHOSTUNREACH.rawValue: self = .hostUnreachable
        case UV_ENETUNREACH.rawValue: self = .networkUnreachable
        case UV_ECONNRESET.rawValue: self = .connectionReset
        case UV_EADDRINUSE.rawValue: self = .addressInUse
        case UV_EADDRNOTAVAIL.rawValue: self = .addressNotAvailable
        case UV_EAI_NONAME.rawValue, UV_EAI_NODATA.rawValue: self = .nameNotFound
        case UV_ECANCELED.rawValue, UV_EAI_CANCELED.rawValue: self = .cancelled
        default: self = .other(code: code, name: Self.name(of: code))
        }
    }

    /// One line in libuv's words, such as "connection refused".
    public var description: String {
        switch self {
        case .connectionRefused: "connection refused"
        case .timedOut: "connection timed out"
        case .hostUnreachable: "host is unreachable"
        case .networkUnreachable: "network is unreachable"
        case .connectionReset: "connection reset by peer"
        case .addressInUse: "address already in use"
        case .addressNotAvailable: "address not available"
        case .nameNotFound: "unknown node or service"
        case .cancelled: "operation canceled"
        case .other(let code, _): Self.message(of: code)
        }
    }

    /// libuv's name for `code` (`EPIPE`), without leaking for unknown codes.
    private static func name(of code: Int32) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            guard let base = buffer.baseAddress else { return "E\(code)" }
            return String(cString: uv_err_name_r(code, base, buffer.count))
        }
    }

    /// libuv's message for `code` ("broken pipe"), without leaking for unknown codes.
    private static func message(of code: Int32) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buffer in
            guard let base = buffer.baseAddress else { return "error \(code)" }
            return String(cString: uv_strerror_r(code, base, buffer.count))
        }
    }
}
