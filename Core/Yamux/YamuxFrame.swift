/// The four Yamux frame types.
@_spi(Fuzzing) public enum YamuxFrameType: UInt8, Sendable {
    case data = 0
    case windowUpdate = 1
    case ping = 2
    case goAway = 3
}

/// Yamux header flags.
@_spi(Fuzzing) public struct YamuxFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let syn = YamuxFlags(rawValue: 0x1)
    public static let ack = YamuxFlags(rawValue: 0x2)
    public static let fin = YamuxFlags(rawValue: 0x4)
    public static let rst = YamuxFlags(rawValue: 0x8)
}

/// The codes a Yamux GoAway frame carries.
public enum YamuxGoAwayCode: Equatable, Hashable, Sendable {
    /// Normal termination (0).
    case normal
    /// The sender saw a protocol error (1).
    case protocolError
    /// The sender hit an internal error (2).
    case internalError
    /// A code the spec does not define.
    case other(UInt32)

    init(rawValue: UInt32) {
        switch rawValue {
        case 0: self = .normal
        case 1: self = .protocolError
        case 2: self = .internalError
        default: self = .other(rawValue)
        }
    }

    var rawValue: UInt32 {
        switch self {
        case .normal: 0
        case .protocolError: 1
        case .internalError: 2
        case .other(let value): value
        }
    }
}

/// A Yamux frame header: version, type, flags, stream ID and length, big-endian, 12 bytes.
@_spi(Fuzzing) public struct YamuxHeader: Equatable, Sendable {
    public static let size = 12

    public var type: YamuxFrameType
    public var flags: YamuxFlags
    public var streamID: UInt32
    /// Data: payload length. Window update: the delta. Ping: the opaque value. GoAway: the code.
    public var length: UInt32

    public init(type: YamuxFrameType, flags: YamuxFlags, streamID: UInt32, length: UInt32) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
    }

    /// Appends the encoded header to `buffer`.
    @inline(__always)
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(0)
        buffer.append(type.rawValue)
        buffer.append(UInt8(truncatingIfNeeded: flags.rawValue >> 8))
        buffer.append(UInt8(truncatingIfNeeded: flags.rawValue))
        buffer.append(UInt8(truncatingIfNeeded: streamID >> 24))
        buffer.append(UInt8(truncatingIfNeeded: streamID >> 16))
        buffer.append(UInt8(truncatingIfNeeded: streamID >> 8))
        buffer.append(UInt8(truncatingIfNeeded: streamID))
        buffer.append(UInt8(truncatingIfNeeded: length >> 24))
        buffer.append(UInt8(truncatingIfNeeded: length >> 16))
        buffer.append(UInt8(truncatingIfNeeded: length >> 8))
        buffer.append(UInt8(truncatingIfNeeded: length))
    }

    /// Decodes the 12 bytes at `offset` (the caller checked they are there) and checks the
    /// version, the type and which stream IDs the type allows.
    public static func decode(_ bytes: Span<UInt8>, at offset: Int) throws(YamuxProtocolError) -> YamuxHeader {
        let version = bytes[offset]
        guard version == 0 else { throw .unsupportedVersion(version) }
        guard let type = YamuxFrameType(rawValue: bytes[offset + 1]) else {
            throw .unknownFrameType(bytes[offset + 1])
        }
        let flags = YamuxFlags(rawValue: UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3]))
        let streamID = UInt32(bytes[offset + 4]) << 24 | UInt32(bytes[offset + 5]) << 16
            | UInt32(bytes[offset + 6]) << 8 | UInt32(bytes[offset + 7])
        let length = UInt32(bytes[offset + 8]) << 24 | UInt32(bytes[offset + 9]) << 16
            | UInt32(bytes[offset + 10]) << 8 | UInt32(bytes[offset + 11])
        switch type {
        case .data, .windowUpdate:
            guard streamID != 0 else { throw .streamFrameOnSessionID(type.rawValue) }
        case .ping, .goAway:
            guard streamID == 0 else { throw .sessionFrameOnStreamID(type.rawValue, streamID) }
        }
        return YamuxHeader(type: type, flags: flags, streamID: streamID, length: length)
    }
}
