/// Why bytes, text or components are not a multiaddr Traverse accepts.
public enum MultiaddrError: Error, Equatable, Hashable, Sendable {
    /// The input holds no component (empty bytes, or text such as `""` or `"/"`).
    case empty
    /// The binary form is longer than ``Multiaddr/maximumBinaryLength``.
    case binaryTooLong(length: Int)
    /// The text form is longer than ``Multiaddr/maximumTextLength`` UTF-8 bytes.
    case textTooLong(length: Int)
    /// The text form does not start with `/`.
    case missingLeadingSlash
    /// A protocol code or length prefix is not a valid uvarint (or the input ends inside one).
    case malformedVarint(VarintError)
    /// A protocol code Traverse does not know (so the size of its value is unknown too).
    case unknownProtocolCode(UInt64)
    /// A protocol name Traverse does not know (the name, at most 64 UTF-8 bytes of it).
    case unknownProtocolName(String)
    /// The binary form ends inside the value of this protocol.
    case truncatedValue(MultiaddrProtocol)
    /// The text form ends where this protocol's value should be.
    case missingValue(MultiaddrProtocol)
    /// The value is longer than the protocol allows (for example a DNS name over 255 bytes).
    case valueTooLong(MultiaddrProtocol, length: UInt64)
    /// The value of this protocol is malformed, for the given reason.
    case invalidValue(MultiaddrProtocol, MultiaddrValueError)
    /// The value of `/p2p/` is not a peer ID.
    case invalidPeerID(PeerIDError)
    /// A component follows a path protocol (`/unix/…`), which must be last.
    case componentAfterPath(MultiaddrProtocol)
}

/// Why a single protocol value is malformed.
public enum MultiaddrValueError: Error, Equatable, Hashable, Sendable {
    /// Not a dotted-quad IPv4 address (four decimal octets 0–255, no leading zeros).
    case notIPv4Address
    /// Not an IPv6 address in RFC 4291 text form.
    case notIPv6Address
    /// Not a decimal port number 0–65535.
    case notPort
    /// Not a decimal number that fits the value.
    case notNumber
    /// A string value is empty.
    case empty
    /// A string value contains `/`, which the text form could not represent.
    case containsSlash
    /// A string value is not valid UTF-8.
    case notUTF8
    /// Not multibase text in an encoding Traverse reads (`u`, `b`, `B`, `z`, `f`, `F`).
    case notMultibase
    /// Not a well-formed multihash (uvarint code, uvarint length, exactly that many bytes).
    case notMultihash
    /// A unix path that does not start with `/` or is only `/`.
    case notAbsolutePath
    /// A unix path that ends with `/`.
    case trailingSlash
    /// A value given for a protocol that takes none.
    case unexpectedValue
}
