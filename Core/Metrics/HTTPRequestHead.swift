/// An HTTP/1.x request head (request line and header fields), parsed strictly after
/// RFC 9112: what the metrics endpoint needs to route a request.
///
/// Lines end with CRLF or a bare LF; empty lines before the request line are skipped. The
/// request line is `method SP target SP HTTP/d.d` with single spaces, the method a token,
/// the target visible ASCII. Header fields are `name: value`, the name a token with no
/// space before the colon, the value without control characters other than tab; folded
/// lines are refused. An HTTP/1.1 request needs exactly one `Host` field, and no request
/// may have two.
public struct HTTPRequestHead: Hashable, Sendable {
    /// The method, case-sensitive (`GET`).
    public let method: String
    /// The request target as sent (`/metrics?x=1`).
    public let target: String
    /// The path of an origin-form or absolute-form target, without query
    /// (`/metrics`); `nil` for the authority and asterisk forms.
    public let path: String?
    /// The HTTP version.
    public let version: HTTPVersion
    /// The header fields in order, names as sent, values without surrounding whitespace.
    public let headerFields: [HTTPHeaderField]

    /// Parses `head`: optional empty lines, the request line, the header fields and the
    /// empty line that ends the head, with nothing after it.
    ///
    /// - Throws: `HTTPRequestHeadError`.
    public init(parsing bytes: Span<UInt8>) throws(HTTPRequestHeadError) {
        var head: [UInt8] = []
        head.append(bytes)
        var lines = HTTPLines(head)
        var requestLine: Range<Int>?
        while requestLine == nil {
            guard let line = lines.next() else { throw .incomplete }
            if !line.isEmpty { requestLine = line }
        }
        guard let requestLine else { throw .incomplete }
        let parts = Self.splitRequestLine(head, requestLine)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { throw .malformedRequestLine }
        guard let version = Self.parseVersion(head, parts[2]) else { throw .malformedRequestLine }
        guard version.major == 1 else { throw .unsupportedVersion }
        guard Self.all(head, parts[0], satisfy: HTTPBytes.isTokenCharacter),
              Self.all(head, parts[1], satisfy: { $0 > 0x20 && $0 < 0x7F })
        else { throw .malformedRequestLine }

        var fields: [HTTPHeaderField] = []
        var hostCount = 0
        while true {
            guard let line = lines.next() else { throw .incomplete }
            if line.isEmpty { break }
            let field = try Self.parseField(head, line)
            if field.name.lowercased() == "host" { hostCount += 1 }
            fields.append(field)
        }
        guard lines.isAtEnd else { throw .bytesAfterHead }
        if hostCount > 1 { throw .duplicateHost }
        if hostCount == 0 && version.minor >= 1 { throw .missingHost }

        method = Self.string(head, parts[0])
        target = Self.string(head, parts[1])
        path = Self.path(ofTarget: target)
        self.version = version
        headerFields = fields
    }

    /// The value of the first field named `name` (case-insensitive), or `nil`.
    public func value(ofField name: String) -> String? {
        let lowered = name.lowercased()
        return headerFields.first { $0.name.lowercased() == lowered }?.value
    }

    // MARK: Parsing

    private static func splitRequestLine(_ bytes: [UInt8], _ line: Range<Int>) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = line.lowerBound
        for index in line where bytes[index] == UInt8(ascii: " ") {
            parts.append(start..<index)
            start = index + 1
            if parts.count > 3 { return parts }
        }
        parts.append(start..<line.upperBound)
        return parts
    }

    /// `HTTP/d.d`.
    private static func parseVersion(_ bytes: [UInt8], _ range: Range<Int>) -> HTTPVersion? {
        let prefix = Array("HTTP/".utf8)
        guard range.count == prefix.count + 3 else { return nil }
        for (offset, byte) in prefix.enumerated() where bytes[range.lowerBound + offset] != byte { return nil }
        let major = bytes[range.lowerBound + 5], dot = bytes[range.lowerBound + 6], minor = bytes[range.lowerBound + 7]
        guard HTTPBytes.isDigit(major), dot == UInt8(ascii: "."), HTTPBytes.isDigit(minor) else { return nil }
        return HTTPVersion(major: major - UInt8(ascii: "0"), minor: minor - UInt8(ascii: "0"))
    }

    private static func parseField(_ bytes: [UInt8], _ line: Range<Int>) throws(HTTPRequestHeadError) -> HTTPHeaderField {
        var colon: Int?
        for index in line where bytes[index] == UInt8(ascii: ":") {
            colon = index
            break
        }
        guard let colon, colon > line.lowerBound,
              all(bytes, line.lowerBound..<colon, satisfy: HTTPBytes.isTokenCharacter)
        else { throw .malformedHeaderField }
        var valueStart = colon + 1
        var valueEnd = line.upperBound
        while valueStart < valueEnd, HTTPBytes.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, HTTPBytes.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        guard all(bytes, valueStart..<valueEnd, satisfy: HTTPBytes.isFieldValueCharacter) else {
            throw .malformedHeaderField
        }
        return HTTPHeaderField(
            name: string(bytes, line.lowerBound..<colon), value: string(bytes, valueStart..<valueEnd))
    }

    private static func all(_ bytes: [UInt8], _ range: Range<Int>, satisfy test: (UInt8) -> Bool) -> Bool {
        for index in range where !test(bytes[index]) { return false }
        return true
    }

    private static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// The path of an origin-form (`/p?q`) or absolute-form (`http://host/p?q`) target.
    static func path(ofTarget target: String) -> String? {
        var rest = Substring(target)
        if rest.first != "/" {
            let lowered = rest.prefix(8).lowercased()
            if lowered.hasPrefix("http://") {
                rest = rest.dropFirst(7)
            } else if lowered.hasPrefix("https://") {
                rest = rest.dropFirst(8)
            } else {
                return nil
            }
            guard let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) else { return "/" }
            rest = rest[pathStart...]
            if rest.first != "/" { return "/" }
        }
        let end = rest.firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
        return String(rest[..<end])
    }
}

/// An HTTP version: `HTTP/major.minor`.
public struct HTTPVersion: Hashable, Sendable {
    /// The major digit.
    public let major: UInt8
    /// The minor digit.
    public let minor: UInt8

    /// `HTTP/major.minor`.
    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }
}

/// One header field of a request.
public struct HTTPHeaderField: Hashable, Sendable {
    /// The field name as sent (compare case-insensitively).
    public let name: String
    /// The field value without leading or trailing whitespace.
    public let value: String

    /// A field called `name` with `value`.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
