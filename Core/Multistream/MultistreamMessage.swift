/// The messages of multistream-select 1.0: `uvarint(length) ‖ text ‖ '\n'`, where the
/// length counts the `\n` (so `na` is `03 6e 61 0a`).
enum MultistreamMessage {
    /// The protocol ID of multistream-select itself, sent first by both sides.
    static let header: [UInt8] = Array("/multistream/1.0.0".utf8)
    /// "Not available": the listener's answer to a protocol it does not support.
    static let notAvailable: [UInt8] = Array("na".utf8)
    /// A request for the listener's protocols.
    static let list: [UInt8] = Array("ls".utf8)
    /// The byte that ends every message.
    static let newline: UInt8 = 0x0A

    /// Appends `uvarint(text.count + 1) ‖ text ‖ '\n'` to `buffer`.
    static func encode(_ text: some Collection<UInt8>, into buffer: inout [UInt8]) {
        Varint.encode(UInt64(text.count) + 1, into: &buffer)
        buffer.append(contentsOf: text)
        buffer.append(newline)
    }

    /// The answer to `ls`, in the format of the spec, go-multistream (before it dropped
    /// `ls`) and rust-libp2p: one message whose text is every protocol as an embedded
    /// message, `uvarint(len + 1) ‖ name ‖ '\n'` each, so the whole answer ends with the
    /// outer `\n` (and with `\n\n` unless the list is empty).
    static func encodeList(_ protocols: [[UInt8]], into buffer: inout [UInt8]) {
        var text: [UInt8] = []
        for name in protocols { encode(name, into: &text) }
        encode(text, into: &buffer)
    }

    /// The text of a message for an error report, decoded leniently.
    static func describe(_ text: [UInt8]) -> String {
        String(decoding: text, as: UTF8.self)
    }
}

/// Reads multistream-select messages from a byte stream delivered in arbitrary pieces.
///
/// It takes from each piece only the bytes of the next message, so whatever follows the
/// last message stays with the caller (protocol data after the negotiation), and it holds
/// at most one incomplete message: `maximumMessageLength` bytes plus a varint.
struct MultistreamMessageReader: Sendable {
    let maximumMessageLength: Int
    /// The start of a message whose end has not arrived yet.
    private(set) var partial: [UInt8] = []

    init(maximumMessageLength: Int) {
        self.maximumMessageLength = maximumMessageLength
    }

    /// The text (without its `\n`) of the next message, made of the bytes held from earlier
    /// pieces followed by `bytes[offset...]`; `offset` advances past what was used.
    /// Returns `nil` when `bytes` ran out first (its rest is then held for the next call).
    mutating func nextMessage(
        from bytes: Span<UInt8>, at offset: inout Int
    ) throws(MultistreamError) -> [UInt8]? {
        if partial.isEmpty {
            var cursor = offset
            let range: Range<Int>?
            do throws(LengthPrefixError) {
                range = try LengthPrefixedMessage.decode(
                    bytes, at: &cursor, maximumLength: maximumMessageLength)
            } catch {
                throw Self.error(error)
            }
            guard let range else {
                partial.reserveCapacity(bytes.count - offset)
                while offset < bytes.count {
                    partial.append(bytes[offset])
                    offset += 1
                }
                return nil
            }
            offset = cursor
            guard !range.isEmpty, bytes[range.upperBound - 1] == MultistreamMessage.newline else {
                throw .missingNewline
            }
            var text: [UInt8] = []
            text.reserveCapacity(range.count - 1)
            for index in range.lowerBound..<(range.upperBound - 1) { text.append(bytes[index]) }
            return text
        }

        while true {
            var prefixLength = 0
            let length: UInt64?
            do throws(VarintError) {
                length = try Varint.decode(partial.span, at: &prefixLength)
            } catch .truncated {
                length = nil
            } catch {
                throw .malformedLength
            }
            // Without a complete prefix, take one byte at a time until it is complete.
            var needed = 1
            if let length {
                guard length <= UInt64(maximumMessageLength) else {
                    throw .messageTooLong(Int(clamping: length))
                }
                let total = prefixLength + Int(length)
                if partial.count == total { return try takePartialMessage(prefixLength: prefixLength) }
                needed = total - partial.count
            }
            guard offset < bytes.count else { return nil }
            let end = offset + min(needed, bytes.count - offset)
            while offset < end {
                partial.append(bytes[offset])
                offset += 1
            }
        }
    }

    private mutating func takePartialMessage(prefixLength: Int) throws(MultistreamError) -> [UInt8] {
        defer { partial.removeAll() }
        guard partial.count > prefixLength, partial[partial.count - 1] == MultistreamMessage.newline else {
            throw .missingNewline
        }
        return Array(partial[prefixLength..<(partial.count - 1)])
    }

    private static func error(_ error: LengthPrefixError) -> MultistreamError {
        switch error {
        case .malformedLength: .malformedLength
        case .tooLong(let length, _): .messageTooLong(Int(clamping: length))
        }
    }
}

/// Checks on protocol names, local and received.
enum MultistreamProtocolName {
    /// Checks a name this side will send or support.
    static func validateLocal(
        _ name: String, configuration: MultistreamConfiguration
    ) throws(MultistreamUsageError) {
        let bytes = Array(name.utf8)
        let problem: MultistreamProtocolNameError?
        let maximum = configuration.effectiveProtocolNameLimit
        if bytes.isEmpty {
            problem = .empty
        } else if bytes.contains(MultistreamMessage.newline) {
            problem = .containsNewline
        } else if bytes.count > maximum {
            problem = .tooLong(length: bytes.count, maximum: maximum)
        } else if bytes.first != UInt8(ascii: "/") {
            problem = .missingLeadingSlash
        } else if bytes == MultistreamMessage.header {
            problem = .reserved
        } else {
            problem = nil
        }
        if let problem { throw .invalidProtocolName(name, problem) }
    }

    /// The name a peer proposed, or why it is not one. Length is not checked here: a name
    /// over the limit cannot be a supported one, and the listener answers `na`.
    static func decodeReceived(_ text: [UInt8]) throws(MultistreamProtocolNameError) -> String {
        guard !text.isEmpty else { throw .empty }
        guard !text.contains(MultistreamMessage.newline) else { throw .containsNewline }
        guard let name = String(validating: text, as: UTF8.self) else { throw .notUTF8 }
        return name
    }
}
