/// A pipe's session identifier: a random 64-bit number the opener picks.
public struct NATSPipeSessionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number on the wire.
    public let rawValue: UInt64

    /// The session `rawValue`.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Why a pipe was reset (one byte in RESET). Unknown codes are kept as they are.
public struct NATSPipeResetCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The application reset the pipe.
    public static let cancelled = Self(rawValue: 0)
    /// The acceptor refused the OPEN (a limit).
    public static let refused = Self(rawValue: 1)
    /// The sender saw the other side break the pipe protocol (a gap, a duplicate, too much data).
    public static let protocolViolation = Self(rawValue: 2)
    /// The sender timed the pipe out.
    public static let timeout = Self(rawValue: 3)
    /// The sender is shutting down.
    public static let shutdown = Self(rawValue: 4)

    public var description: String {
        switch self {
        case .cancelled: "cancelled"
        case .refused: "refused"
        case .protocolViolation: "protocol violation"
        case .timeout: "timeout"
        case .shutdown: "shutdown"
        default: "code \(rawValue)"
        }
    }
}

/// One frame of the NATS pipe protocol: the whole payload of one NATS message.
///
/// ```
/// offset  size  field
/// 0       1     version (1)
/// 1       1     type: 1 OPEN, 2 ACCEPT, 3 DATA, 4 WINDOW, 5 CLOSE, 6 RESET
/// 2       1     flags: bit 0 = sent by the opener; other bits 0
/// 3       8     session ID (big-endian)
/// 11      1     length L of the sender's peer ID (1…64)
/// 12      L     the sender's peer ID (binary multihash)
/// 12+L    …     body, big-endian:
///               OPEN    u32 window     the bytes the opener lets the acceptor send at first
///               ACCEPT  u32 window     the same, from the acceptor
///               DATA    u64 sequence, then the payload (at least 1 byte, to the end)
///               WINDOW  u64 limit      total bytes the receiver lets the sender send, ever
///                       u64 sent       sequenced frames the sender of WINDOW has sent so far
///               CLOSE   u64 sequence   no more DATA from the sender
///               RESET   u8 code
/// ```
///
/// OPEN always has the opener flag, ACCEPT never. Each side numbers its DATA and CLOSE frames
/// 0, 1, 2, …; decoding is canonical (one encoding per frame: no trailing bytes, no unknown
/// flags).
public struct NATSPipeFrame: Hashable, Sendable {
    /// What a frame carries.
    public enum Body: Hashable, Sendable {
        case open(window: UInt32)
        case accept(window: UInt32)
        case data(sequence: UInt64, payload: [UInt8])
        case window(limit: UInt64, sentFrames: UInt64)
        case close(sequence: UInt64)
        case reset(NATSPipeResetCode)
    }

    /// The session.
    public var session: NATSPipeSessionID
    /// The peer that sent the frame (claimed, not proven: Noise over the pipe proves it).
    public var sender: PeerID
    /// Whether the sender is the side that opened the session.
    public var fromOpener: Bool
    /// The frame's content.
    public var body: Body

    /// The protocol version this code speaks.
    public static let version: UInt8 = 1
    /// The longest sender peer ID accepted.
    public static let maximumPeerIDLength = 64
    /// The most bytes a DATA frame adds to its payload for a sender of `peerIDLength` bytes.
    public static func dataOverhead(peerIDLength: Int) -> Int { 12 + peerIDLength + 8 }

    /// A frame with the given fields.
    public init(session: NATSPipeSessionID, sender: PeerID, fromOpener: Bool, body: Body) {
        self.session = session
        self.sender = sender
        self.fromOpener = fromOpener
        self.body = body
    }

    private enum Kind: UInt8 { case open = 1, accept, data, window, close, reset }

    /// Decodes one frame.
    public init(decoding bytes: Span<UInt8>) throws(NATSPipeFrameError) {
        try self.init(decoding: bytes.withUnsafeBufferPointer { Array($0) })
    }

    /// Decodes one frame.
    public init(decoding bytes: [UInt8]) throws(NATSPipeFrameError) {
        var reader = FrameReader(bytes: bytes)
        let version = try reader.byte()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let typeByte = try reader.byte()
        guard let kind = Kind(rawValue: typeByte) else { throw .unknownType(typeByte) }
        let flags = try reader.byte()
        guard flags & ~1 == 0 else { throw .unknownFlags(flags) }
        let session = NATSPipeSessionID(rawValue: try reader.uint64())
        let peerIDLength = Int(try reader.byte())
        guard peerIDLength >= 1 && peerIDLength <= Self.maximumPeerIDLength else { throw .invalidPeerIDLength(peerIDLength) }
        let peerIDBytes = try reader.bytes(peerIDLength)
        let sender: PeerID
        do {
            sender = try PeerID(bytes: peerIDBytes)
        } catch {
            throw .invalidPeerID(error)
        }
        let fromOpener = flags & 1 == 1
        let body: Body
        switch kind {
        case .open:
            guard fromOpener else { throw .wrongDirection }
            body = .open(window: try reader.uint32())
        case .accept:
            guard !fromOpener else { throw .wrongDirection }
            body = .accept(window: try reader.uint32())
        case .data:
            let sequence = try reader.uint64()
            let payload = reader.rest()
            guard !payload.isEmpty else { throw .emptyData }
            body = .data(sequence: sequence, payload: payload)
        case .window:
            body = .window(limit: try reader.uint64(), sentFrames: try reader.uint64())
        case .close:
            body = .close(sequence: try reader.uint64())
        case .reset:
            body = .reset(NATSPipeResetCode(rawValue: try reader.byte()))
        }
        guard reader.isAtEnd else { throw .trailingBytes }
        self.init(session: session, sender: sender, fromOpener: fromOpener, body: body)
    }

    /// Appends the frame's bytes.
    public func encode(into buffer: inout [UInt8]) {
        let kind: Kind = switch body {
        case .open: .open
        case .accept: .accept
        case .data: .data
        case .window: .window
        case .close: .close
        case .reset: .reset
        }
        Self.encodeHeader(kind: kind.rawValue, session: session, sender: sender, fromOpener: fromOpener, into: &buffer)
        switch body {
        case .open(let window), .accept(let window):
            Self.append(UInt64(window), bytes: 4, to: &buffer)
        case .data(let sequence, let payload):
            Self.append(sequence, bytes: 8, to: &buffer)
            buffer.append(contentsOf: payload)
        case .window(let limit, let sentFrames):
            Self.append(limit, bytes: 8, to: &buffer)
            Self.append(sentFrames, bytes: 8, to: &buffer)
        case .close(let sequence):
            Self.append(sequence, bytes: 8, to: &buffer)
        case .reset(let code):
            buffer.append(code.rawValue)
        }
    }

    /// The frame's bytes.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// Appends a DATA frame's header (its payload follows), so a sender can write the
    /// payload straight from its buffer.
    static func encodeDataHeader(
        session: NATSPipeSessionID, sender: PeerID, fromOpener: Bool, sequence: UInt64, into buffer: inout [UInt8]
    ) {
        encodeHeader(kind: Kind.data.rawValue, session: session, sender: sender, fromOpener: fromOpener, into: &buffer)
        append(sequence, bytes: 8, to: &buffer)
    }

    private static func encodeHeader(
        kind: UInt8, session: NATSPipeSessionID, sender: PeerID, fromOpener: Bool, into buffer: inout [UInt8]
    ) {
        buffer.append(version)
        buffer.append(kind)
        buffer.append(fromOpener ? 1 : 0)
        append(session.rawValue, bytes: 8, to: &buffer)
        buffer.append(UInt8(truncatingIfNeeded: sender.bytes.count))
        buffer.append(contentsOf: sender.bytes)
    }

    private static func append(_ value: UInt64, bytes: Int, to buffer: inout [UInt8]) {
        for index in stride(from: bytes - 1, through: 0, by: -1) {
            buffer.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))))
        }
    }
}

/// Why bytes are not a pipe frame.
public enum NATSPipeFrameError: Error, Hashable, Sendable {
    /// The frame ends early.
    case truncated
    /// Another version than `NATSPipeFrame.version`.
    case unsupportedVersion(UInt8)
    /// An unknown frame type.
    case unknownType(UInt8)
    /// Flag bits other than bit 0.
    case unknownFlags(UInt8)
    /// A peer ID length of 0 or over `maximumPeerIDLength`.
    case invalidPeerIDLength(Int)
    /// The sender's peer ID does not decode.
    case invalidPeerID(PeerIDError)
    /// OPEN without the opener flag, or ACCEPT with it.
    case wrongDirection
    /// DATA without payload.
    case emptyData
    /// Bytes after the body.
    case trailingBytes
}

extension NATSPipeFrameError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated: "pipe frame truncated"
        case .unsupportedVersion(let version): "pipe frame version \(version) not supported"
        case .unknownType(let type): "pipe frame of unknown type \(type)"
        case .unknownFlags(let flags): "pipe frame with unknown flags 0x\(String(flags, radix: 16))"
        case .invalidPeerIDLength(let length): "pipe frame with a peer ID of \(length) bytes"
        case .invalidPeerID(let error): "pipe frame: \(error)"
        case .wrongDirection: "OPEN not from the opener, or ACCEPT from it"
        case .emptyData: "DATA frame without payload"
        case .trailingBytes: "bytes after the pipe frame"
        }
    }
}

/// Reads big-endian fields from bytes, throwing `truncated` past their end.
private struct FrameReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws(NATSPipeFrameError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() throws(NATSPipeFrameError) -> UInt32 {
        UInt32(truncatingIfNeeded: try integer(4))
    }

    mutating func uint64() throws(NATSPipeFrameError) -> UInt64 { try integer(8) }

    mutating func bytes(_ count: Int) throws(NATSPipeFrameError) -> [UInt8] {
        guard bytes.count - offset >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    private mutating func integer(_ size: Int) throws(NATSPipeFrameError) -> UInt64 {
        guard bytes.count - offset >= size else { throw .truncated }
        var value: UInt64 = 0
        for index in offset..<(offset + size) { value = value << 8 | UInt64(bytes[index]) }
        offset += size
        return value
    }
}
