// traverse-fuzz: every fuzz target in one executable.
//
// Built with `-sanitize=fuzzer -DFUZZING -parse-as-library` (see Fuzz/run.sh), libFuzzer
// drives the target named by the TRAVERSE_FUZZ_TARGET environment variable. Built
// normally, it replays files: `traverse-fuzz TARGET FILE...` (to reproduce a crash by hand).
//
// Two things the fuzz build needs:
// - no top-level statements in either branch (Swift checks inactive `#if` branches against
//   `-parse-as-library` too), hence a file that is not `main.swift` and `@main`;
// - an entry point called `traverse_fuzz_main`: SwiftPM links every executable with
//   `main` defined as `<module>_main`, so libFuzzer's own `main` is never linked in. Ours
//   hands over to libFuzzer through `LLVMFuzzerRunDriver`.
import TraverseFuzzTargets

#if FUZZING
import Glibc

nonisolated(unsafe) var selectedTarget: FuzzTarget?

/// Writes `text` to standard error (through the file descriptor: the C `stderr` global is
/// shared mutable state to Swift 6).
func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    guard let name = getenv("TRAVERSE_FUZZ_TARGET").map({ String(cString: $0) }),
          let target = FuzzTarget.named(name)
    else {
        let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
        writeToStandardError("set TRAVERSE_FUZZ_TARGET to one of: \(names)\n")
        exit(2)
    }
    selectedTarget = target
    return 0
}

/// libFuzzer's driver (compiler-rt `FuzzerInterface.h`), which parses the command line,
/// calls `LLVMFuzzerInitialize` and then `callback` for every input.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The executable's entry point (see the top of the file).
@_cdecl("traverse_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let buffer = UnsafeBufferPointer(start: size == 0 ? nil : data, count: size)
    selectedTarget?.run(buffer.span)
    return 0
}
#else
import Foundation

@main
struct FuzzReplay {
    static func main() {
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
    }
}
#endif
