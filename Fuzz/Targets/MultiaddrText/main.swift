// libFuzzer target: the text multiaddr parser.
//
// The input is read as UTF-8 (invalid sequences become U+FFFD). Whatever parses must print a
// canonical text form that is a fixed point, and binary and text forms must agree.
import TraverseCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let address = try? Multiaddr(text) else { return 0 }
    let canonical = address.description
    let fromText: Multiaddr
    let fromBinary: Multiaddr
    do {
        fromText = try Multiaddr(canonical)
        fromBinary = try Multiaddr(bytes: address.bytes)
    } catch {
        fatalError("canonical form \(canonical) of \(text) does not parse: \(error)")
    }
    precondition(fromText.bytes == address.bytes, "\(text) → \(canonical) changes the bytes")
    precondition(fromText.description.utf8.elementsEqual(canonical.utf8), "\(canonical) is not a fixed point")
    precondition(fromBinary.bytes == address.bytes, "binary form of \(canonical) does not round-trip")
    precondition(fromBinary.components == address.components, "components of \(canonical) differ")
    return 0
}
