/// An IPv4 address: four bytes, written as a dotted quad (`192.0.2.42`).
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address as a big-endian 32-bit number (`192.0.2.42` is `0xC000_022A`).
    public let value: UInt32

    /// The length of the binary form.
    public static let byteCount = 4

    /// The address whose big-endian 32-bit number is `value`.
    public init(value: UInt32) {
        self.value = value
    }

    /// The address `a.b.c.d`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The address in these 4 bytes (network order); `nil` unless there are exactly 4.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        var value: UInt32 = 0
        for byte in bytes { value = value << 8 | UInt32(byte) }
        self.value = value
    }

    /// Parses a strict dotted quad: exactly four decimal octets 0–255 separated by `.`, with
    /// no sign, no spaces and no leading zeros (`0` itself is fine); `nil` otherwise.
    public init?(_ text: some StringProtocol) {
        guard let value = Self.parse(text.utf8) else { return nil }
        self.value = value
    }

    /// The 4 bytes in network order.
    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// Appends the 4 bytes in network order to `buffer`.
    public func append(to buffer: inout [UInt8]) {
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value))
    }

    /// The dotted-quad text form.
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// Parses a dotted quad from UTF-8 code units.
    static func parse(_ text: some Collection<UInt8>) -> UInt32? {
        // "255.255.255.255" is the longest valid form.
        guard text.count <= 15 else { return nil }
        var value: UInt32 = 0
        var octets = 0
        var octet: UInt32 = 0
        var digits = 0
        var firstDigit: UInt8 = 0
        for character in text {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 0 { firstDigit = character }
                // A second digit after a leading zero is a leading zero.
                guard digits < 3, !(digits > 0 && firstDigit == UInt8(ascii: "0")) else { return nil }
                octet = octet * 10 + UInt32(character - UInt8(ascii: "0"))
                digits += 1
            case UInt8(ascii: "."):
                guard digits > 0, octet <= 255, octets < 3 else { return nil }
                value = value << 8 | octet
                octets += 1
                octet = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, octet <= 255, octets == 3 else { return nil }
        return value << 8 | octet
    }
}

/// An IPv6 address: sixteen bytes, written in RFC 4291 text form and printed in the
/// canonical RFC 5952 form (`2001:db8::1`).
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 bytes as a big-endian number.
    public let high: UInt64
    /// The last 8 bytes as a big-endian number.
    public let low: UInt64

    /// The length of the binary form.
    public static let byteCount = 16

    /// The address whose first and last 8 bytes, read big-endian, are `high` and `low`.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address in these 16 bytes (network order); `nil` unless there are exactly 16.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.high = high
        self.low = low
    }

    /// The address made of these eight 16-bit groups; `nil` unless there are exactly 8.
    public init?(groups: [UInt16]) {
        guard groups.count == 8 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<4 {
            high = high << 16 | UInt64(groups[index])
            low = low << 16 | UInt64(groups[index + 4])
        }
        self.high = high
        self.low = low
    }

    /// The IPv4-mapped IPv6 address `::ffff:a.b.c.d`.
    public init(ipv4Mapped address: IPv4Address) {
        high = 0
        low = 0xFFFF_0000_0000 | UInt64(address.value)
    }

    /// Parses RFC 4291 text: up to eight groups of 1–4 hex digits (either case) separated by
    /// `:`, at most one `::` standing for one or more zero groups, and optionally a dotted
    /// quad in place of the last two groups (`::ffff:192.0.2.1`). Zones (`%eth0`) are not
    /// part of the address. `nil` on anything else.
    public init?(_ text: some StringProtocol) {
        guard let groups = Self.parse(Array(text.utf8)), let address = IPv6Address(groups: groups) else {
            return nil
        }
        self = address
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.byteCount)
        append(to: &buffer)
        return buffer
    }

    /// Appends the 16 bytes in network order to `buffer`.
    public func append(to buffer: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            buffer.append(UInt8(truncatingIfNeeded: high >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            buffer.append(UInt8(truncatingIfNeeded: low >> UInt64(shift)))
        }
    }

    /// The eight 16-bit groups.
    public var groups: [UInt16] {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        for shift in stride(from: 48, through: 0, by: -16) {
            groups.append(UInt16(truncatingIfNeeded: high >> UInt64(shift)))
        }
        for shift in stride(from: 48, through: 0, by: -16) {
            groups.append(UInt16(truncatingIfNeeded: low >> UInt64(shift)))
        }
        return groups
    }

    /// The embedded IPv4 address when this is an IPv4-mapped address (`::ffff:a.b.c.d`).
    public var ipv4Mapped: IPv4Address? {
        guard high == 0, low >> 32 == 0xFFFF else { return nil }
        return IPv4Address(value: UInt32(truncatingIfNeeded: low))
    }

    /// The canonical RFC 5952 text form: lowercase hex without leading zeros, the longest run
    /// of two or more zero groups (the first of equally long runs) written as `::`, and
    /// IPv4-mapped addresses as `::ffff:a.b.c.d` (RFC 5952 §5).
    public var description: String {
        if let mapped = ipv4Mapped { return "::ffff:\(mapped)" }
        let groups = self.groups
        // Find the longest run of zero groups (first one on a tie).
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength {
                    bestStart = runStart
                    bestLength = length
                }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }

    /// The longest RFC 4291 text form (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`).
    static let maximumTextLength = 45

    /// Parses RFC 4291 text into eight groups.
    static func parse(_ text: [UInt8]) -> [UInt16]? {
        guard !text.isEmpty, text.count <= maximumTextLength else { return nil }
        let colon = UInt8(ascii: ":")
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        // The number of groups written before `::`, once one was seen.
        var gapPosition: Int? = nil
        var index = 0
        if text[0] == colon {
            // Only `::` may start the text.
            guard text.count >= 2, text[1] == colon else { return nil }
            gapPosition = 0
            index = 2
        }
        while index < text.count {
            let start = index
            var group: UInt32 = 0
            while index < text.count, let digit = Hex.nibble(text[index]) {
                // Bounded: more than 4 digits is rejected below before the value can overflow.
                if index - start < 4 { group = group << 4 | UInt32(digit) }
                index += 1
            }
            if index < text.count && text[index] == UInt8(ascii: ".") {
                // A dotted quad: only as the last 32 bits.
                guard groups.count <= 6, let ipv4 = IPv4Address.parse(text[start...]) else { return nil }
                groups.append(UInt16(truncatingIfNeeded: ipv4 >> 16))
                groups.append(UInt16(truncatingIfNeeded: ipv4))
                index = text.count
                break
            }
            let digits = index - start
            guard digits >= 1, digits <= 4, groups.count < 8 else { return nil }
            groups.append(UInt16(truncatingIfNeeded: group))
            if index == text.count { break }
            guard text[index] == colon else { return nil }
            index += 1
            if index < text.count && text[index] == colon {
                guard gapPosition == nil else { return nil }
                gapPosition = groups.count
                index += 1
            } else if index == text.count {
                // A single trailing colon.
                return nil
            }
        }
        if let gapPosition {
            // `::` stands for at least one zero group.
            guard groups.count <= 7 else { return nil }
            let zeros = [UInt16](repeating: 0, count: 8 - groups.count)
            groups.insert(contentsOf: zeros, at: gapPosition)
        }
        guard groups.count == 8 else { return nil }
        return groups
    }
}
