/// The line structure of a request head: ranges of the lines, each without its LF or the
/// CR before it.
struct HTTPLines {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether every byte was read as part of a line.
    var isAtEnd: Bool { position == bytes.count }

    /// The next complete line (ended by LF), or `nil` when none is left.
    mutating func next() -> Range<Int>? {
        var index = position
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                var end = index
                if end > position, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = position..<end
                position = index + 1
                return line
            }
            index += 1
        }
        return nil
    }
}

/// Byte classes of RFC 9110.
enum HTTPBytes {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `tchar`: the characters of a token (methods, field names).
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Space or horizontal tab.
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// A byte a field value may hold: tab, space, visible ASCII and obs-text (0x80-0xFF).
    static func isFieldValueCharacter(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }
}
