/// Why a request head was refused.
public enum HTTPRequestHeadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The head does not end with an empty line.
    case incomplete
    /// Bytes follow the empty line that ends the head.
    case bytesAfterHead
    /// The request line is not `method SP target SP HTTP/d.d`.
    case malformedRequestLine
    /// A header field line is malformed (or folded).
    case malformedHeaderField
    /// The HTTP major version is not 1.
    case unsupportedVersion
    /// An HTTP/1.1 request without `Host`.
    case missingHost
    /// More than one `Host` field.
    case duplicateHost

    public var description: String {
        switch self {
        case .incomplete: "incomplete request head"
        case .bytesAfterHead: "bytes after the request head"
        case .malformedRequestLine: "malformed request line"
        case .malformedHeaderField: "malformed header field"
        case .unsupportedVersion: "unsupported HTTP version"
        case .missingHost: "HTTP/1.1 request without Host"
        case .duplicateHost: "more than one Host field"
        }
    }
}
