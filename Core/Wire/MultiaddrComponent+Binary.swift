extension MultiaddrComponent {
    /// Appends the binary form, `uvarint(code) ‖ value`, to `buffer`; variable-size values
    /// get a uvarint length prefix.
    public func encode(into buffer: inout [UInt8]) {
        Varint.encode(self.protocol.code, into: &buffer)
        switch self {
        case .ip4(let address):
            address.append(to: &buffer)
        case .ip6(let address):
            address.append(to: &buffer)
        case .tcp(let port), .udp(let port), .dccp(let port):
            buffer.append(UInt8(truncatingIfNeeded: port >> 8))
            buffer.append(UInt8(truncatingIfNeeded: port))
        case .memory(let number):
            for shift in stride(from: 56, through: 0, by: -8) {
                buffer.append(UInt8(truncatingIfNeeded: number >> UInt64(shift)))
            }
        case .ip6zone(let value), .dns(let value), .dns4(let value), .dns6(let value),
             .dnsaddr(let value), .sni(let value), .unix(let value):
            Varint.encode(UInt64(value.utf8.count), into: &buffer)
            buffer.append(contentsOf: value.utf8)
        case .p2p(let peer):
            Varint.encode(UInt64(peer.bytes.count), into: &buffer)
            buffer.append(contentsOf: peer.bytes)
        case .certhash(let multihash):
            Varint.encode(UInt64(multihash.count), into: &buffer)
            buffer.append(contentsOf: multihash)
        case .p2pCircuit, .quic, .quicV1, .webtransport, .webrtcDirect, .webrtc, .ws, .wss, .tls,
             .noise, .http, .https:
            break
        }
    }

    /// Decodes and validates one component starting at `offset`, advancing `offset` past it
    /// (it is left unchanged on error).
    public static func decode(
        _ bytes: Span<UInt8>, at offset: inout Int
    ) throws(MultiaddrError) -> MultiaddrComponent {
        var index = offset
        let code: UInt64
        do {
            code = try Varint.decode(bytes, at: &index)
        } catch {
            throw .malformedVarint(error)
        }
        guard let kind = MultiaddrProtocol(code: code) else { throw .unknownProtocolCode(code) }
        let length: Int
        switch kind.valueSize {
        case .none:
            guard let component = MultiaddrComponent(valueless: kind) else {
                throw .unknownProtocolCode(code)
            }
            offset = index
            return component
        case .fixed(let size):
            length = size
        case .lengthPrefixed:
            let declared: UInt64
            do {
                declared = try Varint.decode(bytes, at: &index)
            } catch {
                throw .malformedVarint(error)
            }
            if let maximum = kind.maximumValueLength, declared > UInt64(maximum) {
                throw .valueTooLong(kind, length: declared)
            }
            guard declared <= UInt64(bytes.count - index) else { throw .truncatedValue(kind) }
            length = Int(declared)
        }
        guard length <= bytes.count - index else { throw .truncatedValue(kind) }
        let component = try decodeValue(of: kind, from: bytes.extracting(index..<(index + length)))
        try component.validate()
        offset = index + length
        return component
    }

    /// Builds the component of `kind` from its value bytes (already cut to the right length).
    private static func decodeValue(
        of kind: MultiaddrProtocol, from value: Span<UInt8>
    ) throws(MultiaddrError) -> MultiaddrComponent {
        switch kind {
        case .ip4:
            return .ip4(IPv4Address(value: UInt32(truncatingIfNeeded: bigEndianNumber(value))))
        case .ip6:
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<value.count {
                if index < 8 {
                    high = high << 8 | UInt64(value[index])
                } else {
                    low = low << 8 | UInt64(value[index])
                }
            }
            return .ip6(IPv6Address(high: high, low: low))
        case .tcp:
            return .tcp(UInt16(truncatingIfNeeded: bigEndianNumber(value)))
        case .udp:
            return .udp(UInt16(truncatingIfNeeded: bigEndianNumber(value)))
        case .dccp:
            return .dccp(UInt16(truncatingIfNeeded: bigEndianNumber(value)))
        case .memory:
            return .memory(bigEndianNumber(value))
        case .ip6zone:
            return .ip6zone(try string(kind, value))
        case .dns:
            return .dns(try string(kind, value))
        case .dns4:
            return .dns4(try string(kind, value))
        case .dns6:
            return .dns6(try string(kind, value))
        case .dnsaddr:
            return .dnsaddr(try string(kind, value))
        case .sni:
            return .sni(try string(kind, value))
        case .unix:
            return .unix(try string(kind, value))
        case .p2p:
            do {
                return .p2p(try PeerID(bytes: value))
            } catch {
                throw .invalidPeerID(error)
            }
        case .certhash:
            return .certhash(array(value))
        case .p2pCircuit, .quic, .quicV1, .webtransport, .webrtcDirect, .webrtc, .ws, .wss, .tls,
             .noise, .http, .https:
            guard let component = MultiaddrComponent(valueless: kind) else {
                throw .unknownProtocolCode(kind.code)
            }
            return component
        }
    }

    /// The big-endian number in at most 8 bytes.
    private static func bigEndianNumber(_ value: Span<UInt8>) -> UInt64 {
        var number: UInt64 = 0
        for index in 0..<value.count { number = number << 8 | UInt64(value[index]) }
        return number
    }

    /// The value as a string; it must be valid UTF-8.
    private static func string(
        _ kind: MultiaddrProtocol, _ value: Span<UInt8>
    ) throws(MultiaddrError) -> String {
        guard let text = String(validating: array(value), as: UTF8.self) else {
            throw .invalidValue(kind, .notUTF8)
        }
        return text
    }

    /// A copy of the bytes of `value`.
    private static func array(_ value: Span<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.count)
        for index in 0..<value.count { bytes.append(value[index]) }
        return bytes
    }
}
