import TraverseCore

extension FuzzTarget {
    /// The binary multiaddr decoder: anything that parses must keep its bytes and round-trip
    /// through its text form to the same bytes and components.
    public static let multiaddrBinary = FuzzTarget(name: "multiaddr-binary") { input in
        let bytes = input.array
        guard let address = try? Multiaddr(bytes: bytes) else { return }
        precondition(address.bytes == bytes, "decoded bytes differ from the input \(Hex.encode(bytes))")
        let text = address.description
        guard let reparsed = try? Multiaddr(text) else {
            preconditionFailure("text form \(text) of \(Hex.encode(bytes)) does not parse")
        }
        precondition(reparsed.bytes == bytes, "\(Hex.encode(bytes)) → \(text) → \(Hex.encode(reparsed.bytes))")
        precondition(reparsed.components == address.components, "components differ after \(text)")
        precondition(reparsed.description.utf8.elementsEqual(text.utf8), "text form of \(text) is not stable")
        _ = address.splitCircuit()
        _ = address.peerID
    }

    /// The text multiaddr parser: the canonical text of anything that parses is a fixed point,
    /// and its binary form decodes to the same components.
    public static let multiaddrText = FuzzTarget(name: "multiaddr-text") { input in
        let text = String(decoding: input.array, as: UTF8.self)
        guard let address = try? Multiaddr(text) else { return }
        let canonical = address.description
        guard let fromText = try? Multiaddr(canonical), let fromBinary = try? Multiaddr(bytes: address.bytes) else {
            preconditionFailure("canonical form \(canonical) of \(text) does not parse")
        }
        precondition(fromText.bytes == address.bytes, "\(text) → \(canonical) changes the bytes")
        precondition(fromText.description.utf8.elementsEqual(canonical.utf8), "\(canonical) is not a fixed point")
        precondition(fromBinary.bytes == address.bytes, "binary form of \(canonical) does not round-trip")
        precondition(fromBinary.components == address.components, "components of \(canonical) differ")
    }
}
