/// A multiaddr: a self-describing network address made of protocol components
/// (`shared/specs/multiaddr`, `shared/specs/addressing`).
///
/// Text form `/ip4/192.0.2.42/tcp/443`; binary form `(uvarint(code) ‖ value)+`, here
/// `04 c000022a 06 01bb`. A value holds both: ``bytes`` (canonical binary, what goes on the
/// wire) and ``components`` (typed). Parsing is strict and bounded, and every multiaddr that
/// parses round-trips: its ``description`` parses back to the same ``bytes``.
///
/// Two multiaddrs are equal when their binary forms are.
public struct Multiaddr: Hashable, Sendable, CustomStringConvertible {
    /// The canonical binary form.
    public let bytes: [UInt8]
    /// The components, outermost first.
    public let components: [MultiaddrComponent]

    /// The longest binary form accepted, in bytes.
    public static let maximumBinaryLength = 1024
    /// The longest text form accepted, in UTF-8 bytes. It is large enough for the text form of
    /// any binary form within ``maximumBinaryLength`` (at most 7 characters per byte, for
    /// `/webrtc-direct`), so every parsed multiaddr round-trips.
    public static let maximumTextLength = 8192

    /// The empty multiaddr (no components, no bytes): what decapsulating everything leaves.
    /// Neither form parses to it, and its ``description`` is the empty string.
    public init() {
        bytes = []
        components = []
    }

    /// Parses the binary form, which must span all of `bytes`.
    public init(bytes: Span<UInt8>) throws(MultiaddrError) {
        guard bytes.count > 0 else { throw .empty }
        guard bytes.count <= Self.maximumBinaryLength else { throw .binaryTooLong(length: bytes.count) }
        var components: [MultiaddrComponent] = []
        var offset = 0
        while offset < bytes.count {
            if let last = components.last, last.protocol.isPath {
                throw .componentAfterPath(last.protocol)
            }
            components.append(try MultiaddrComponent.decode(bytes, at: &offset))
        }
        // Decoding is strict (minimal varints, exact lengths), so the input is canonical.
        var copy: [UInt8] = []
        copy.reserveCapacity(bytes.count)
        for index in 0..<bytes.count { copy.append(bytes[index]) }
        self.bytes = copy
        self.components = components
    }

    /// Parses the binary form, which must span all of `bytes`.
    public init(bytes: [UInt8]) throws(MultiaddrError) {
        try self.init(bytes: bytes.span)
    }

    /// Parses the text form: `(/<name>/<value>)+`, or `/<name>` for protocols without a value.
    ///
    /// Accepted beyond the canonical form: trailing slashes, `/ipfs/` for `/p2p/`, CIDv1 peer
    /// IDs, IPv6 in any RFC 4291 form, port numbers with leading zeros, and certificate hashes
    /// in base32, base58btc or hex multibase. A `/unix/` path takes the rest of the text.
    public init(_ text: some StringProtocol) throws(MultiaddrError) {
        let slash = UInt8(ascii: "/")
        let length = text.utf8.count
        guard length > 0 else { throw .empty }
        guard length <= Self.maximumTextLength else { throw .textTooLong(length: length) }
        let utf8 = Array(text.utf8)
        guard utf8[0] == slash else { throw .missingLeadingSlash }
        var end = utf8.count
        while end > 0 && utf8[end - 1] == slash { end -= 1 }
        guard end > 0 else { throw .empty }
        // Work on bytes: splitting Characters would glue a combining mark onto a `/`.
        let segments = utf8[1..<end].split(separator: slash, omittingEmptySubsequences: false)
        var components: [MultiaddrComponent] = []
        var index = 0
        while index < segments.count {
            let name = segments[index]
            index += 1
            guard let kind = MultiaddrProtocol.byName[Array(name)] else {
                throw .unknownProtocolName(String(decoding: name.prefix(64), as: UTF8.self))
            }
            guard kind.hasValue else {
                if let component = MultiaddrComponent(valueless: kind) { components.append(component) }
                continue
            }
            guard index < segments.count else { throw .missingValue(kind) }
            let value: ArraySlice<UInt8>
            if kind.isPath {
                // The path is everything after the name, with its leading `/`.
                value = utf8[(segments[index].startIndex - 1)..<end]
                index = segments.count
            } else {
                value = segments[index]
                index += 1
            }
            // Splitting valid UTF-8 at an ASCII byte leaves valid UTF-8: nothing is replaced.
            components.append(try MultiaddrComponent(kind, value: String(decoding: value, as: UTF8.self)))
        }
        try self.init(checkedComponents: components)
    }

    /// The multiaddr made of `components`, after checking every value (see
    /// ``MultiaddrComponent/validate()``), that nothing follows a `/unix/` path, and that the
    /// binary form fits ``maximumBinaryLength``.
    public init(components: [MultiaddrComponent]) throws(MultiaddrError) {
        for component in components { try component.validate() }
        try self.init(checkedComponents: components)
    }

    /// The multiaddr made of components that are each valid; checks how they combine.
    init(checkedComponents components: [MultiaddrComponent]) throws(MultiaddrError) {
        for component in components.dropLast() where component.protocol.isPath {
            throw .componentAfterPath(component.protocol)
        }
        var bytes: [UInt8] = []
        for component in components {
            component.encode(into: &bytes)
            guard bytes.count <= Self.maximumBinaryLength else { throw .binaryTooLong(length: bytes.count) }
        }
        self.bytes = bytes
        self.components = components
    }

    /// The first `count` components of a valid multiaddr (always valid themselves).
    private init(prefixOf address: Multiaddr, count: Int) {
        let kept = Array(address.components.prefix(count))
        var bytes: [UInt8] = []
        for component in kept { component.encode(into: &bytes) }
        self.bytes = bytes
        self.components = kept
    }

    /// The canonical text form (the empty string for the empty multiaddr).
    public var description: String {
        var text = ""
        for component in components { text += component.description }
        return text
    }

    /// Whether there are no components.
    public var isEmpty: Bool { components.isEmpty }

    /// The protocols of the components, in order.
    public var protocols: [MultiaddrProtocol] { components.map(\.protocol) }

    /// Whether any component has this protocol.
    public func contains(_ protocol: MultiaddrProtocol) -> Bool {
        components.contains { $0.protocol == `protocol` }
    }

    /// `self` followed by `other` (`/ip4/198.51.100.1` encapsulating `/tcp/42`).
    ///
    /// Throws when `self` ends with a `/unix/` path (nothing may follow it) or the result
    /// would exceed ``maximumBinaryLength``.
    public func encapsulate(_ other: Multiaddr) throws(MultiaddrError) -> Multiaddr {
        try Multiaddr(checkedComponents: components + other.components)
    }

    /// `self` followed by `component`; throws as encapsulating a multiaddr does, and
    /// when the component's value is invalid.
    public func encapsulate(_ component: MultiaddrComponent) throws(MultiaddrError) -> Multiaddr {
        try component.validate()
        return try Multiaddr(checkedComponents: components + [component])
    }

    /// `self` up to the last occurrence of the component sequence `other`, which is removed
    /// with everything after it (as go-multiaddr does): decapsulating `/tcp/1234` from
    /// `/ip4/198.51.100.1/tcp/1234/ws` leaves `/ip4/198.51.100.1`. Returns `self` unchanged
    /// when `other` is empty or does not occur.
    public func decapsulate(_ other: Multiaddr) -> Multiaddr {
        let needle = other.components
        guard !needle.isEmpty, needle.count <= components.count else { return self }
        for start in stride(from: components.count - needle.count, through: 0, by: -1)
        where components[start..<(start + needle.count)].elementsEqual(needle) {
            return Multiaddr(prefixOf: self, count: start)
        }
        return self
    }

    /// `self` up to the last component with this protocol, which is removed with everything
    /// after it; `self` unchanged when no component has it.
    public func decapsulate(_ protocol: MultiaddrProtocol) -> Multiaddr {
        guard let index = components.lastIndex(where: { $0.protocol == `protocol` }) else { return self }
        return Multiaddr(prefixOf: self, count: index)
    }

    /// The peer of the trailing `/p2p/` component; `nil` unless `/p2p/` is the last one.
    public var peerID: PeerID? {
        guard case .p2p(let peer) = components.last else { return nil }
        return peer
    }

    /// `self` without its trailing `/p2p/` component (unchanged when there is none).
    public var withoutTrailingPeerID: Multiaddr {
        guard case .p2p = components.last else { return self }
        return Multiaddr(prefixOf: self, count: components.count - 1)
    }

    /// Whether the address goes through a circuit relay (has a `/p2p-circuit` component).
    public var isCircuit: Bool { contains(.p2pCircuit) }

    /// Splits a relayed address `<relay>/p2p-circuit[/p2p/<target>]` at its last
    /// `/p2p-circuit`: `relay` is everything before it and `target` the peer of the `/p2p/`
    /// component right after it, if there is one. `nil` when there is no `/p2p-circuit`.
    public func splitCircuit() -> (relay: Multiaddr, target: PeerID?)? {
        guard let index = components.lastIndex(of: .p2pCircuit) else { return nil }
        var target: PeerID? = nil
        if index + 1 < components.count, case .p2p(let peer) = components[index + 1] {
            target = peer
        }
        return (Multiaddr(prefixOf: self, count: index), target)
    }

    /// Multiaddrs are equal when their binary forms are.
    public static func == (lhs: Multiaddr, rhs: Multiaddr) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Hashes the binary form.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
    }
}
