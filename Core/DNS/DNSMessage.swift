/// The record types Traverse asks for.
public enum DNSRecordType: UInt16, Sendable, Hashable {
    /// An IPv4 address.
    case a = 1
    /// An alias.
    case cname = 5
    /// Text strings (`/dnsaddr` resolution reads `_dnsaddr.` TXT records).
    case txt = 16
    /// An IPv6 address.
    case aaaa = 28
}

/// One answer record of a DNS response.
public struct DNSRecord: Hashable, Sendable {
    /// The data of a record, by type.
    public enum Data: Hashable, Sendable {
        case a(IPv4Address)
        case aaaa(IPv6Address)
        /// The record's character-strings (each at most 255 bytes).
        case txt([[UInt8]])
        case cname(String)
        /// A type Traverse does not read.
        case other(type: UInt16)
    }

    /// The owner name, lowercase, without the trailing dot.
    public let name: String
    /// Seconds the record may be cached.
    public let ttl: UInt32
    /// The record's data.
    public let data: Data
}

/// The question a DNS message asks (RFC 1035 §4.1.2).
public struct DNSQuestion: Hashable, Sendable {
    /// The name asked about, lowercase, without the trailing dot.
    public let name: String
    /// The record type asked for (a raw value: the response may name a type Traverse does
    /// not read).
    public let type: UInt16
    /// The class (1 is the internet).
    public let recordClass: UInt16
}

/// A DNS response, decoded (RFC 1035 §4).
public struct DNSResponse: Hashable, Sendable {
    /// The query ID it answers.
    public let id: UInt16
    /// The first question of the response, which repeats the query's; `nil` when the server
    /// left the question section empty (some do in error responses).
    public let question: DNSQuestion?
    /// The response code (0: no error, 3: no such name, …).
    public let responseCode: UInt8
    /// The server truncated the answer (TC): it did not fit in the UDP datagram.
    public let isTruncated: Bool
    /// The answer records.
    public let answers: [DNSRecord]

    /// The most answer records read from one response.
    public static let maximumAnswers = 256
    /// The most compression pointers followed in one name.
    static let maximumPointerJumps = 32

    /// Decodes a response, rejecting anything malformed, truncated or out of bounds.
    public init(bytes: Span<UInt8>) throws(DNSError) {
        var copy: [UInt8] = []
        copy.append(bytes)
        try self.init(bytes: copy)
    }

    /// Decodes a response, rejecting anything malformed, truncated or out of bounds.
    public init(bytes: [UInt8]) throws(DNSError) {
        guard bytes.count <= 65_535 else { throw .messageTooLong(bytes.count) }
        var reader = DNSReader(bytes: bytes)
        id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        guard flags & 0x8000 != 0 else { throw .notAResponse }
        isTruncated = flags & 0x0200 != 0
        responseCode = UInt8(flags & 0x000F)
        let questionCount = try reader.readUInt16()
        let answerCount = try reader.readUInt16()
        _ = try reader.readUInt16()  // authority records: not read
        _ = try reader.readUInt16()  // additional records: not read
        var question: DNSQuestion? = nil
        for _ in 0..<questionCount {
            let name = try reader.readName()
            let type = try reader.readUInt16()
            let recordClass = try reader.readUInt16()
            if question == nil { question = DNSQuestion(name: name, type: type, recordClass: recordClass) }
        }
        self.question = question
        guard Int(answerCount) <= Self.maximumAnswers else { throw .tooManyRecords(Int(answerCount)) }
        var answers: [DNSRecord] = []
        answers.reserveCapacity(Int(answerCount))
        for _ in 0..<answerCount {
            let name = try reader.readName()
            let type = try reader.readUInt16()
            _ = try reader.readUInt16()  // class
            let ttl = UInt32(try reader.readUInt16()) << 16 | UInt32(try reader.readUInt16())
            let length = Int(try reader.readUInt16())
            let end = reader.offset + length
            guard end <= bytes.count else { throw .truncated }
            let data: DNSRecord.Data
            switch DNSRecordType(rawValue: type) {
            case .a:
                guard length == 4, let address = IPv4Address(bytes: try reader.readBytes(4)) else {
                    throw .malformedRecord(type: type)
                }
                data = .a(address)
            case .aaaa:
                guard length == 16, let address = IPv6Address(bytes: try reader.readBytes(16)) else {
                    throw .malformedRecord(type: type)
                }
                data = .aaaa(address)
            case .txt:
                var strings: [[UInt8]] = []
                while reader.offset < end {
                    let stringLength = Int(try reader.readByte())
                    guard reader.offset + stringLength <= end else { throw .malformedRecord(type: type) }
                    strings.append(try reader.readBytes(stringLength))
                }
                data = .txt(strings)
            case .cname:
                data = .cname(try reader.readName())
                guard reader.offset == end else { throw .malformedRecord(type: type) }
            case nil:
                data = .other(type: type)
            }
            reader.offset = end
            answers.append(DNSRecord(name: name, ttl: ttl, data: data))
        }
        self.answers = answers
    }
}

/// A DNS query (one question, recursion desired), as sent over UDP to a resolver.
public enum DNSQuery {
    /// The encoded query for `name` and `type` with transaction `id`.
    public static func encode(id: UInt16, name: String, type: DNSRecordType) throws(DNSError) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(18 + name.utf8.count)
        append16(id, to: &message)
        append16(0x0100, to: &message)  // standard query, recursion desired
        append16(1, to: &message)  // one question
        append16(0, to: &message)
        append16(0, to: &message)
        append16(0, to: &message)
        try encodeName(name, into: &message)
        append16(type.rawValue, to: &message)
        append16(1, to: &message)  // class IN
        return message
    }

    static func encodeName(_ name: String, into message: inout [UInt8]) throws(DNSError) {
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { throw .invalidName(name) }
        for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count <= 63,
                  bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ".") })
            else { throw .invalidName(name) }
            message.append(UInt8(bytes.count))
            message.append(contentsOf: bytes)
        }
        message.append(0)
    }

    private static func append16(_ value: UInt16, to message: inout [UInt8]) {
        message.append(UInt8(value >> 8))
        message.append(UInt8(value & 0xFF))
    }
}

/// Why a DNS message could not be encoded or decoded.
public enum DNSError: Error, Equatable, Hashable, Sendable {
    /// The message ended early.
    case truncated
    /// A message longer than DNS allows (65535 bytes).
    case messageTooLong(Int)
    /// The message is a query, not a response.
    case notAResponse
    /// A name that cannot be encoded (empty label, over 63 or 253 bytes, control characters).
    case invalidName(String)
    /// A name in the response is malformed (bad label type, too long, a pointer loop).
    case malformedName
    /// More answer records than `DNSResponse.maximumAnswers`.
    case tooManyRecords(Int)
    /// A record whose data does not match its type.
    case malformedRecord(type: UInt16)
}

/// Bounds-checked reading of a DNS message, with name decompression.
struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func readByte() throws(DNSError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(DNSError) -> UInt16 {
        UInt16(try readByte()) << 8 | UInt16(try readByte())
    }

    mutating func readBytes(_ count: Int) throws(DNSError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw .truncated }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        result.append(contentsOf: bytes[offset..<(offset + count)])
        offset += count
        return result
    }

    mutating func skip(_ count: Int) throws(DNSError) {
        guard offset + count <= bytes.count else { throw .truncated }
        offset += count
    }

    /// Reads a possibly compressed name; pointers must point backwards and are limited.
    mutating func readName() throws(DNSError) -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var jumps = 0
        var length = 0
        while true {
            guard position < bytes.count else { throw .truncated }
            let byte = bytes[position]
            switch byte & 0xC0 {
            case 0x00:
                if byte == 0 {
                    if !jumped { offset = position + 1 }
                    return labels.joined(separator: ".")
                }
                let end = position + 1 + Int(byte)
                guard end <= bytes.count else { throw .truncated }
                length += Int(byte) + 1
                guard length <= 255 else { throw .malformedName }
                var label: [UInt8] = []
                for index in (position + 1)..<end {
                    let character = bytes[index]
                    label.append(character >= 0x41 && character <= 0x5A ? character + 0x20 : character)
                }
                labels.append(String(decoding: label, as: UTF8.self))
                position = end
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated }
                let target = Int(byte & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < position, jumps < DNSResponse.maximumPointerJumps else { throw .malformedName }
                if !jumped { offset = position + 2 }
                jumped = true
                jumps += 1
                position = target
            default:
                throw .malformedName
            }
        }
    }
}
