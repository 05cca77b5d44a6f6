/// The statuses the metrics endpoint answers with.
public enum MetricsHTTPStatus: UInt16, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The metrics, as the owner gave them.
    case ok = 200
    /// The request head is not valid HTTP/1.x.
    case badRequest = 400
    /// A path other than `/metrics`.
    case notFound = 404
    /// A method other than GET and HEAD.
    case methodNotAllowed = 405
    /// The request head is longer than the exchange accepts.
    case requestHeaderFieldsTooLarge = 431
    /// An HTTP major version other than 1.
    case httpVersionNotSupported = 505

    /// The status code.
    public var code: UInt16 { rawValue }

    /// The reason phrase of the status line.
    public var reasonPhrase: String {
        switch self {
        case .ok: "OK"
        case .badRequest: "Bad Request"
        case .notFound: "Not Found"
        case .methodNotAllowed: "Method Not Allowed"
        case .requestHeaderFieldsTooLarge: "Request Header Fields Too Large"
        case .httpVersionNotSupported: "HTTP Version Not Supported"
        }
    }

    public var description: String { "\(code) \(reasonPhrase)" }
}

/// The bytes of a response that ends the connection.
enum MetricsHTTPResponse {
    /// `HTTP/1.1 <status>` with `Content-Type`, `Content-Length` (the body's length, also
    /// for HEAD), `Connection: close`, `Allow` for 405, then the body unless `omitsBody`.
    static func encode(
        _ status: MetricsHTTPStatus, contentType: String, body: String, omitsBody: Bool
    ) -> [UInt8] {
        var body = body
        return body.withUTF8 { bodyBytes in
            var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
            head += "Content-Type: \(contentType)\r\n"
            head += "Content-Length: \(bodyBytes.count)\r\n"
            if status == .methodNotAllowed { head += "Allow: GET, HEAD\r\n" }
            head += "Connection: close\r\n\r\n"
            var bytes: [UInt8] = []
            bytes.reserveCapacity(head.utf8.count + (omitsBody ? 0 : bodyBytes.count))
            bytes.append(contentsOf: head.utf8)
            if !omitsBody { bytes.append(contentsOf: bodyBytes) }
            return bytes
        }
    }

    /// A response without metrics: the status as a one-line plain-text body.
    static func error(_ status: MetricsHTTPStatus, omitsBody: Bool) -> [UInt8] {
        encode(status, contentType: "text/plain; charset=utf-8", body: "\(status)\n", omitsBody: omitsBody)
    }
}
