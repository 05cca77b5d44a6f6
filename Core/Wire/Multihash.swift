/// A self-describing hash: `uvarint(code) ‖ uvarint(length) ‖ digest`. Peer IDs are
/// multihashes of encoded public keys, with one of two codes.
public struct Multihash: Hashable, Sendable {
    /// The hash function codes Traverse reads.
    public enum Code: UInt64, Sendable {
        /// The digest is the input itself (used for keys of at most 42 bytes).
        case identity = 0x00
        /// SHA-256, 32-byte digest.
        case sha2_256 = 0x12
    }

    /// The hash function.
    public let code: Code
    /// The digest bytes.
    public let digest: [UInt8]

    /// The largest identity digest accepted (a whole encoded public key inlined).
    public static let maximumIdentityDigestLength = 128

    /// A multihash of `code` over `digest` (already computed).
    public init(code: Code, digest: [UInt8]) {
        self.code = code
        self.digest = digest
    }

    /// The multihash of `input` under `code` (SHA-256 computed, identity copied).
    public init(hashing input: [UInt8], with code: Code) {
        self.code = code
        switch code {
        case .identity: digest = input
        case .sha2_256: digest = SHA256.hash(input)
        }
    }

    /// Parses the binary form, which must span all of `bytes`.
    public init(bytes: Span<UInt8>) throws(MultihashError) {
        var offset = 0
        let rawCode: UInt64
        let length: UInt64
        do {
            rawCode = try Varint.decode(bytes, at: &offset)
            length = try Varint.decode(bytes, at: &offset)
        } catch {
            throw .malformedVarint(error)
        }
        guard let code = Code(rawValue: rawCode) else { throw .unsupportedCode(rawCode) }
        switch code {
        case .identity:
            guard length <= UInt64(Self.maximumIdentityDigestLength) else {
                throw .wrongDigestLength(code: rawCode, length: length)
            }
        case .sha2_256:
            guard length == 32 else { throw .wrongDigestLength(code: rawCode, length: length) }
        }
        guard UInt64(bytes.count - offset) == length else {
            throw .wrongDigestLength(code: rawCode, length: UInt64(bytes.count - offset))
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(Int(length))
        for index in offset..<bytes.count { digest.append(bytes[index]) }
        self.code = code
        self.digest = digest
    }

    /// The binary form.
    public var bytes: [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(digest.count + 4)
        Varint.encode(code.rawValue, into: &buffer)
        Varint.encode(UInt64(digest.count), into: &buffer)
        buffer.append(contentsOf: digest)
        return buffer
    }
}

/// Why bytes are not a multihash Traverse accepts.
public enum MultihashError: Error, Equatable, Hashable, Sendable {
    /// The code or length prefix is not a valid varint.
    case malformedVarint(VarintError)
    /// A hash function other than identity or SHA-256.
    case unsupportedCode(UInt64)
    /// The digest is not as long as the code requires or the prefix declares.
    case wrongDigestLength(code: UInt64, length: UInt64)
}
