// traverse-fuzz: every fuzz target in one executable.
//
// Built with `-sanitize=fuzzer -DFUZZING` (see Fuzz/run.sh), it hands control to libFuzzer,
// which drives the target named by the TRAVERSE_FUZZ_TARGET environment variable. Built
// normally, it replays files: `traverse-fuzz TARGET FILE...` (to reproduce a finding).
import Foundation
import TraverseFuzzTargets

#if FUZZING
import CLibFuzzer

nonisolated(unsafe) var selectedTarget: FuzzTarget?

func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let buffer = UnsafeBufferPointer(start: size == 0 ? nil : data, count: size)
    selectedTarget?.run(buffer.span)
    return 0
}
#endif

@main
struct FuzzEntry {
    static func main() {
        #if FUZZING
        guard let name = ProcessInfo.processInfo.environment["TRAVERSE_FUZZ_TARGET"],
              let target = FuzzTarget.named(name)
        else { fail("set TRAVERSE_FUZZ_TARGET to one of: \(targetNames)") }
        selectedTarget = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { testOneInput($0, $1) })
        #else
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget.named(name) else {
            fail("usage: traverse-fuzz TARGET FILE...   (targets: \(targetNames))")
        }
        for path in arguments.dropFirst() {
            guard let contents = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
            let bytes = [UInt8](contents)
            target.run(bytes.span)
            print("\(path): ok")
        }
        #endif
    }

    static var targetNames: String { FuzzTarget.all.map(\.name).joined(separator: ", ") }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
