/// Names one request a `MultiaddrResolution` made of the driver; the driver quotes it in
/// the input that answers the request. Unique within one resolution.
public struct ResolutionRequestID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The number, counting from 0 in the order the requests were made.
    public let rawValue: UInt32

    /// The request numbered `rawValue`.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Earlier requests order first.
    public static func < (lhs: ResolutionRequestID, rhs: ResolutionRequestID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// `request N`.
    public var description: String { "request \(rawValue)" }
}

/// What a `MultiaddrResolution` asks the driver to do. The driver drains them with
/// `pollRequest()` after every input.
public enum MultiaddrResolutionRequest: Hashable, Sendable {
    /// Look up the addresses of host `name` (getaddrinfo, with the system's search list
    /// and hosts file), of `family` only, and answer with `hostLookupCompleted`. The name
    /// holds no control characters and no `/`.
    case lookUpHost(ResolutionRequestID, name: String, family: IPAddressFamily)
    /// Send `bytes` (one DNS query) as one UDP datagram from a fresh socket on a random
    /// port to `server`, then hand every datagram that comes back from `server` to
    /// `queryAnswered` (or a socket error to `queryFailed`) until `cancel` names this
    /// request. Replies can be up to 65535 bytes (no EDNS is sent, so servers keep to 512).
    case sendQuery(ResolutionRequestID, server: SocketAddress, bytes: [UInt8])
    /// The resolution no longer needs this request: close its socket, or drop the host
    /// lookup's answer when it comes. Every `sendQuery` ends with one; a host lookup gets
    /// one only when the resolution ends before its answer.
    case cancel(ResolutionRequestID)
}

/// What the driver reports when it could not do what a request asked.
public enum ResolverDriverError: Error, Hashable, Sendable {
    /// The host lookup found no such name, or no address of the family asked for
    /// (getaddrinfo's `EAI_NONAME`, `EAI_NODATA`).
    case nameNotFound
    /// The host lookup failed for now (`EAI_AGAIN`).
    case temporaryFailure
    /// Any other error, with the system's code (a getaddrinfo or errno code, as the
    /// driver's library reports it), for example an ICMP "port unreachable" on the query
    /// socket.
    case system(code: Int32)
}
