// libFuzzer target: the binary multiaddr decoder.
//
// Every input must either be rejected with a typed error or parse into a multiaddr whose
// text form parses back to exactly the same bytes and components. A trap here is a bug.
import TraverseCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let address = try? Multiaddr(bytes: bytes) else { return 0 }
    precondition(address.bytes == bytes, "decoded bytes differ from the input \(Hex.encode(bytes))")
    let text = address.description
    let reparsed: Multiaddr
    do {
        reparsed = try Multiaddr(text)
    } catch {
        fatalError("text form \(text) of \(Hex.encode(bytes)) does not parse: \(error)")
    }
    precondition(reparsed.bytes == bytes, "\(Hex.encode(bytes)) → \(text) → \(Hex.encode(reparsed.bytes))")
    precondition(reparsed.components == address.components, "components differ after \(text)")
    precondition(reparsed.description.utf8.elementsEqual(text.utf8), "text form of \(text) is not stable")
    return 0
}
