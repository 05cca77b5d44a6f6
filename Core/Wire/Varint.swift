/// Unsigned varints as multiformats defines them (`shared/specs/unsigned-varint`):
/// little-endian base-128 groups, the high bit of each byte set when another byte follows,
/// at most 9 bytes (63 bits of value), and minimally encoded.
public enum Varint {
    /// The longest encoding the spec allows.
    public static let maximumLength = 9
    /// The largest value a 9-byte varint can carry (2^63 − 1).
    public static let maximumValue: UInt64 = (1 << 63) - 1

    /// The number of bytes `value` takes when encoded.
    @inlinable
    public static func encodedLength(_ value: UInt64) -> Int {
        var length = 1
        var rest = value >> 7
        while rest != 0 {
            length += 1
            rest >>= 7
        }
        return length
    }

    /// Appends the encoding of `value` to `buffer`.
    ///
    /// - Precondition: `value <= Varint.maximumValue` (a local programming error otherwise:
    ///   no value that large can be represented on the wire).
    @inlinable
    public static func encode(_ value: UInt64, into buffer: inout [UInt8]) {
        precondition(value <= maximumValue, "varint value exceeds 63 bits")
        var rest = value
        while rest >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        buffer.append(UInt8(truncatingIfNeeded: rest))
    }

    /// The encoding of `value` as a new array.
    @inlinable
    public static func encode(_ value: UInt64) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(encodedLength(value))
        encode(value, into: &buffer)
        return buffer
    }

    /// Decodes one varint starting at `offset`, advancing `offset` past it.
    ///
    /// On `.truncated` the input ended inside the varint: a streaming caller waits for more
    /// bytes and tries again from the same offset (which is left unchanged on any error).
    @inlinable
    public static func decode(_ bytes: Span<UInt8>, at offset: inout Int) throws(VarintError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var index = offset
        while true {
            guard index < bytes.count else { throw .truncated }
            guard index - offset < maximumLength else { throw .tooLong }
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // A final zero byte after the first one means a shorter encoding existed.
                if byte == 0 && index - offset > 1 { throw .notMinimal }
                offset = index
                return value
            }
            shift += 7
        }
    }

    /// Decodes the varint at the start of `bytes`; returns the value and its encoded length.
    @inlinable
    public static func decode(_ bytes: [UInt8]) throws(VarintError) -> (value: UInt64, length: Int) {
        var offset = 0
        let value = try decode(bytes.span, at: &offset)
        return (value, offset)
    }
}

/// Why a varint could not be decoded.
public enum VarintError: Error, Equatable, Hashable, Sendable {
    /// The input ended before the last byte of the varint (more bytes may complete it).
    case truncated
    /// The varint uses more bytes than its value needs (for example `81 00`).
    case notMinimal
    /// The varint is longer than 9 bytes.
    case tooLong
}
