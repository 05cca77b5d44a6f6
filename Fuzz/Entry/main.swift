// traverse-fuzz: every fuzz target in one executable.
//
// Built with `-sanitize=fuzzer -DFUZZING -parse-as-library` (see Fuzz/run.sh), libFuzzer
// drives the target named by the TRAVERSE_FUZZ_TARGET environment variable. Built normally,
// it replays files: `traverse-fuzz TARGET FILE...` (to reproduce a crash by hand).
import TraverseFuzzTargets

#if FUZZING
import Glibc

nonisolated(unsafe) var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    guard let name = getenv("TRAVERSE_FUZZ_TARGET").map({ String(cString: $0) }),
          let target = FuzzTarget.named(name)
    else {
        let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
        fputs("set TRAVERSE_FUZZ_TARGET to one of: \(names)\n", stderr)
        exit(2)
    }
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let buffer = UnsafeBufferPointer(start: size == 0 ? nil : data, count: size)
    selectedTarget?.run(buffer.span)
    return 0
}
#else
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let target = FuzzTarget.named(name) else {
    let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
    FileHandle.standardError.write(Data("usage: traverse-fuzz TARGET FILE...   (targets: \(names))\n".utf8))
    exit(2)
}
for path in arguments.dropFirst() {
    guard let contents = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
        exit(1)
    }
    let bytes = [UInt8](contents)
    target.run(bytes.span)
    print("\(path): ok")
}
#endif
