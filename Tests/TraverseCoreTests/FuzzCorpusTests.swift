import Foundation
import Testing
import TraverseFuzzTargets

/// Replays every committed seed corpus (`Fuzz/Corpus/TARGET/*`) through its fuzz target, so
/// the invariants the fuzzers check hold on every test run, and a finding saved as a seed
/// stays fixed.
@Suite struct FuzzCorpusTests {
    static let corpusDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus")

    @Test(arguments: FuzzTarget.all.map(\.name))
    func corpusReplays(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let folder = Self.corpusDirectory.appendingPathComponent(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(!files.isEmpty, "every target has a seed corpus")
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(file)))
            target.run(bytes.span)
        }
    }

    @Test func everyCorpusFolderBelongsToATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpusDirectory.path)
        for folder in folders {
            #expect(FuzzTarget.named(folder) != nil, "Fuzz/Corpus/\(folder) has no target")
        }
    }
}
