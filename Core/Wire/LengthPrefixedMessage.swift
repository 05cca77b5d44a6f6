/// Messages framed as `uvarint(length) ‖ bytes`, the framing of every libp2p protobuf
/// exchange (identify, relay hop/stop, DCUtR, AutoNAT) and of multistream-select.
public enum LengthPrefixedMessage {
    /// Appends `uvarint(payload.count) ‖ payload` to `buffer`.
    @inlinable
    public static func encode(_ payload: some Collection<UInt8>, into buffer: inout [UInt8]) {
        Varint.encode(UInt64(payload.count), into: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// The framed form of `payload` as a new array.
    @inlinable
    public static func encode(_ payload: some Collection<UInt8>) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Varint.encodedLength(UInt64(payload.count)) + payload.count)
        encode(payload, into: &buffer)
        return buffer
    }

    /// Finds the message that starts at `offset`.
    ///
    /// Returns the range of the payload within `bytes` and advances `offset` past the whole
    /// message, or returns `nil` (leaving `offset` unchanged) when more bytes are needed.
    /// A declared length above `maximumLength` is rejected as soon as the prefix is read, so a
    /// peer cannot make the caller buffer an oversized message.
    @inlinable
    public static func decode(
        _ bytes: Span<UInt8>, at offset: inout Int, maximumLength: Int
    ) throws(LengthPrefixError) -> Range<Int>? {
        var cursor = offset
        let length: UInt64
        do {
            length = try Varint.decode(bytes, at: &cursor)
        } catch .truncated {
            return nil
        } catch {
            throw .malformedLength(error)
        }
        guard length <= UInt64(max(0, maximumLength)) else {
            throw .tooLong(length: length, maximum: maximumLength)
        }
        let end = cursor + Int(length)
        guard end <= bytes.count else { return nil }
        offset = end
        return cursor..<end
    }
}

/// Why a length-prefixed message could not be decoded.
public enum LengthPrefixError: Error, Equatable, Hashable, Sendable {
    /// The length prefix is not a valid varint.
    case malformedLength(VarintError)
    /// The declared length exceeds the maximum the caller allows.
    case tooLong(length: UInt64, maximum: Int)
}

/// Accumulates bytes from a stream and yields the length-prefixed messages in them, holding
/// at most one message (plus its prefix) at a time.
public struct LengthPrefixedReader: Sendable {
    /// The largest payload accepted; a longer declared length is an error.
    public let maximumMessageLength: Int
    @usableFromInline var buffer: [UInt8] = []
    @usableFromInline var start = 0

    /// Creates a reader that rejects messages longer than `maximumMessageLength` bytes.
    public init(maximumMessageLength: Int) {
        precondition(maximumMessageLength >= 0)
        self.maximumMessageLength = maximumMessageLength
    }

    /// The number of bytes received and not yet returned as a message.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes. Call `nextMessage()` until it returns `nil` afterwards.
    public mutating func append(_ bytes: Span<UInt8>) {
        compactIfNeeded()
        buffer.reserveCapacity(buffer.count + bytes.count)
        for index in bytes.indices { buffer.append(bytes[index]) }
    }

    /// Adds received bytes. Call `nextMessage()` until it returns `nil` afterwards.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfNeeded()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or `nil` when more bytes are needed.
    ///
    /// After an error the reader's state is undefined for that stream: the caller closes it.
    public mutating func nextMessage() throws(LengthPrefixError) -> [UInt8]? {
        var offset = start
        let range = try LengthPrefixedMessage.decode(
            buffer.span, at: &offset, maximumLength: maximumMessageLength)
        guard let range else { return nil }
        start = offset
        let message = Array(buffer[range])
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return message
    }

    /// Takes the bytes received after the last complete message (for a protocol that switches
    /// from framed messages to a raw byte stream, such as a relay circuit after `STATUS OK`).
    public mutating func takeRemainingBytes() -> [UInt8] {
        let rest = Array(buffer[start...])
        buffer.removeAll()
        start = 0
        return rest
    }

    @usableFromInline mutating func compactIfNeeded() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
