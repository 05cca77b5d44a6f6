/// Reads the operations a NATS server sends from a byte stream fed in arbitrary pieces.
///
/// Control lines end with CRLF and hold at most `maximumControlLineLength` bytes before it;
/// operation names are case-insensitive and arguments are separated by runs of spaces or
/// tabs. A MSG payload over `maximumPayloadLength` is skipped as it arrives (never buffered)
/// and reported as `oversizedMessage`, so a publisher cannot make this side hold more than
/// the limit. Buffered bytes are bounded by the larger of the two limits plus the last piece
/// fed. The first error is final: the parser returns it from every later `next()`.
public struct NATSServerOperationParser: Sendable {
    /// The longest control line accepted, CRLF excluded.
    public let maximumControlLineLength: Int
    /// The largest MSG payload kept; larger ones are skipped.
    public let maximumPayloadLength: Int

    private struct PendingMessage: Sendable {
        var subject: String
        var subscription: NATSSubscriptionID
        var replyTo: String?
        var size: Int
    }

    private enum State: Sendable {
        case controlLine
        case payload(PendingMessage)
        case skipping(PendingMessage, remaining: Int)
        case skippedTerminator(PendingMessage)
        case failed(NATSProtocolError)
    }

    private var buffer = ByteBuffer()
    private var state = State.controlLine
    /// How much of the current control line was already searched for its end.
    private var scanned = 0

    /// A parser with the given limits (nats-server's own control line limit is 4096).
    public init(maximumControlLineLength: Int = 4096, maximumPayloadLength: Int = NATSServerInfo.defaultMaximumPayload) {
        self.maximumControlLineLength = max(16, maximumControlLineLength)
        self.maximumPayloadLength = max(0, maximumPayloadLength)
    }

    /// Bytes fed and not yet parsed.
    public var bufferedByteCount: Int { buffer.readableCount }

    /// Feeds bytes; call `next()` until it returns `nil` afterwards.
    public mutating func append(_ bytes: Span<UInt8>) {
        switch state {
        case .failed:
            return
        case .skipping(let message, let remaining) where buffer.isEmpty:
            let skipped = min(remaining, bytes.count)
            state = skipped == remaining ? .skippedTerminator(message) : .skipping(message, remaining: remaining - skipped)
            if skipped < bytes.count { buffer.append(bytes.extracting(skipped...)) }
        default:
            buffer.append(bytes)
        }
    }

    /// The next complete operation, `nil` when more bytes are needed, or the protocol error.
    public mutating func next() throws(NATSProtocolError) -> NATSServerOperation? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .controlLine:
                let line: [UInt8]?
                do {
                    line = try takeControlLine()
                } catch {
                    state = .failed(error)
                    throw error
                }
                guard let line else { return nil }
                do {
                    if let operation = try parse(line: line) { return operation }
                } catch {
                    state = .failed(error)
                    throw error
                }
            case .payload(let message):
                guard buffer.readableCount >= message.size + 2 else { return nil }
                let (payload, terminated) = buffer.withReadableBytes { bytes in
                    (bytes.extracting(0..<message.size).withUnsafeBufferPointer { Array($0) }, bytes[message.size] == 13 && bytes[message.size + 1] == 10)
                }
                guard terminated else {
                    state = .failed(.missingCarriageReturn)
                    throw .missingCarriageReturn
                }
                buffer.consume(message.size + 2)
                state = .controlLine
                return .message(
                    NATSMessage(subject: message.subject, subscription: message.subscription, replyTo: message.replyTo, payload: payload))
            case .skipping(let message, let remaining):
                let skipped = min(remaining, buffer.readableCount)
                buffer.consume(skipped)
                if skipped < remaining {
                    state = .skipping(message, remaining: remaining - skipped)
                    return nil
                }
                state = .skippedTerminator(message)
            case .skippedTerminator(let message):
                guard buffer.readableCount >= 2 else { return nil }
                let terminated = buffer.withReadableBytes { $0[0] == 13 && $0[1] == 10 }
                guard terminated else {
                    state = .failed(.missingCarriageReturn)
                    throw .missingCarriageReturn
                }
                buffer.consume(2)
                state = .controlLine
                return .oversizedMessage(subject: message.subject, subscription: message.subscription, size: message.size)
            }
        }
    }

    /// The next control line without its CRLF, `nil` when it is not complete yet.
    private mutating func takeControlLine() throws(NATSProtocolError) -> [UInt8]? {
        let limit = maximumControlLineLength + 2
        let searched = scanned
        let found: Int? = buffer.withReadableBytes { bytes in
            let end = min(bytes.count, limit)
            var index = searched
            while index < end {
                if bytes[index] == 10 { return index }
                index += 1
            }
            return nil
        }
        guard let newline = found else {
            scanned = min(buffer.readableCount, limit)
            if buffer.readableCount >= limit { throw .controlLineTooLong(limit: maximumControlLineLength) }
            return nil
        }
        scanned = 0
        let line: [UInt8]? = buffer.withReadableBytes { bytes -> [UInt8]? in
            guard newline > 0, bytes[newline - 1] == 13 else { return nil }
            return bytes.extracting(0..<(newline - 1)).withUnsafeBufferPointer { Array($0) }
        }
        guard let line else { throw .missingCarriageReturn }
        buffer.consume(newline + 1)
        return line
    }

    /// Parses one control line; `nil` when it starts a MSG whose payload follows.
    private mutating func parse(line: [UInt8]) throws(NATSProtocolError) -> NATSServerOperation? {
        let nameEnd = line.firstIndex { $0 == 32 || $0 == 9 } ?? line.count
        let name = line[..<nameEnd].map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
        let arguments = line[nameEnd...]
        switch name {
        case Array("MSG".utf8):
            try startMessage(arguments: arguments)
            return nil
        case Array("PING".utf8):
            guard Self.isBlank(arguments) else { throw .malformedArguments("PING") }
            return .ping
        case Array("PONG".utf8):
            guard Self.isBlank(arguments) else { throw .malformedArguments("PONG") }
            return .pong
        case Array("+OK".utf8):
            guard Self.isBlank(arguments) else { throw .malformedArguments("+OK") }
            return .ok
        case Array("-ERR".utf8):
            return .error(NATSServerError(message: String(decoding: arguments, as: UTF8.self)))
        case Array("INFO".utf8):
            let json = Self.trimmed(arguments)
            guard !json.isEmpty else { throw .malformedInfo }
            return .info(try NATSServerInfo(json: Array(json)))
        case Array("HMSG".utf8):
            throw .unexpectedHeaders
        default:
            throw .unknownOperation(String(decoding: name.prefix(16), as: UTF8.self))
        }
    }

    /// Reads `<subject> <sid> [reply-to] <#bytes>` and moves to the payload.
    private mutating func startMessage(arguments: ArraySlice<UInt8>) throws(NATSProtocolError) {
        let fields = arguments.split(whereSeparator: { $0 == 32 || $0 == 9 })
        guard fields.count == 3 || fields.count == 4,
              let subject = Self.token(fields[0]),
              let sid = Self.decimal(fields[1]),
              let size = Self.decimal(fields[fields.count - 1]), size <= UInt64(Int.max - 2)
        else { throw .malformedArguments("MSG") }
        var replyTo: String?
        if fields.count == 4 {
            guard let reply = Self.token(fields[2]) else { throw .malformedArguments("MSG") }
            replyTo = reply
        }
        let message = PendingMessage(
            subject: subject, subscription: NATSSubscriptionID(rawValue: sid), replyTo: replyTo, size: Int(size))
        state = message.size > maximumPayloadLength ? .skipping(message, remaining: message.size) : .payload(message)
    }

    /// A subject or reply token: UTF-8 without control characters.
    private static func token(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, !bytes.contains(where: { $0 < 32 || $0 == 127 }) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// An unsigned decimal of at most 20 digits that fits in 64 bits.
    private static func decimal(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 48))
            guard !overflow && !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    private static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 32 || $0 == 9 }
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 32 || first == 9 { slice = slice.dropFirst() }
        while let last = slice.last, last == 32 || last == 9 { slice = slice.dropLast() }
        return slice
    }
}
