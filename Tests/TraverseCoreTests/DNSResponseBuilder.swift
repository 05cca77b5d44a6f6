@testable import TraverseCore

/// Builds DNS response messages for tests (the core only decodes them): a header, one
/// question, and answer records with uncompressed names.
struct DNSResponseBuilder {
    var id: UInt16
    var isResponse = true
    var isTruncated = false
    var responseCode: UInt8 = 0
    /// The question, or `nil` for an empty question section.
    var question: (name: String, type: UInt16)?
    private var answers: [[UInt8]] = []

    /// A response to the TXT query `name` with transaction `id`.
    init(id: UInt16, txtQuestion name: String) {
        self.id = id
        question = (name, DNSRecordType.txt.rawValue)
    }

    /// A response answering the query in `queryBytes` (same ID and question).
    init(answering queryBytes: [UInt8]) throws {
        id = UInt16(queryBytes[0]) << 8 | UInt16(queryBytes[1])
        var reader = DNSReader(bytes: queryBytes, offset: 12)
        let name = try reader.readName()
        question = (name, try reader.readUInt16())
    }

    /// Adds a TXT record holding `strings`, owned by the question's name unless `name` says.
    mutating func addTXT(_ strings: [String], name: String? = nil) {
        var data: [UInt8] = []
        for string in strings {
            let bytes = Array(string.utf8)
            precondition(bytes.count <= 255, "a TXT string holds at most 255 bytes")
            data.append(UInt8(bytes.count))
            data += bytes
        }
        addRecord(type: DNSRecordType.txt.rawValue, data: data, name: name)
    }

    /// Adds one TXT record per `dnsaddr=` address.
    mutating func addDNSAddrs(_ addresses: [String], name: String? = nil) {
        for address in addresses { addTXT(["dnsaddr=" + address], name: name) }
    }

    /// Adds an A record.
    mutating func addA(_ address: IPv4Address, name: String? = nil) {
        addRecord(type: DNSRecordType.a.rawValue, data: address.bytes, name: name)
    }

    /// Adds a record of any type with raw data.
    mutating func addRecord(type: UInt16, data: [UInt8], name: String? = nil) {
        var record = Self.encodeName(name ?? question?.name ?? "example.com")
        Self.append16(type, to: &record)
        Self.append16(1, to: &record)  // class IN
        record += [0, 0, 0x0E, 0x10]  // TTL 3600
        Self.append16(UInt16(data.count), to: &record)
        record += data
        answers.append(record)
    }

    /// The encoded message.
    var bytes: [UInt8] {
        var message: [UInt8] = []
        Self.append16(id, to: &message)
        var flags: UInt16 = 0x0100 | 0x0080  // recursion desired and available
        if isResponse { flags |= 0x8000 }
        if isTruncated { flags |= 0x0200 }
        flags |= UInt16(responseCode & 0x0F)
        Self.append16(flags, to: &message)
        Self.append16(question == nil ? 0 : 1, to: &message)
        Self.append16(UInt16(answers.count), to: &message)
        Self.append16(0, to: &message)
        Self.append16(0, to: &message)
        if let question {
            message += Self.encodeName(question.name)
            Self.append16(question.type, to: &message)
            Self.append16(1, to: &message)
        }
        for answer in answers { message += answer }
        return message
    }

    static func encodeName(_ name: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for label in name.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes += Array(label.utf8)
        }
        bytes.append(0)
        return bytes
    }

    static func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }
}
