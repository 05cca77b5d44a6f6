import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

@Suite struct IdentityKeyFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("traverse-keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func savesWithMode0600AndLoadsTheSameKey() throws {
        var generator = SecureRandomNumberGenerator()
        let key = PrivateKey.generateEd25519(using: &generator)
        let file = path("identity.key")
        try IdentityKeyFile.save(key, to: file)
        #expect(try mode(of: file) == 0o600)
        #expect(try IdentityKeyFile.load(from: file) == key)
        // The file holds exactly the protobuf PrivateKey encoding.
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))) == key.protobufEncoding)
        // Saving again replaces it atomically.
        let other = PrivateKey.generateEd25519(using: &generator)
        try IdentityKeyFile.save(other, to: file)
        #expect(try IdentityKeyFile.load(from: file) == other)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["identity.key"])
    }

    @Test func loadOrCreateCreatesOnceThenLoads() throws {
        var generator = SecureRandomNumberGenerator()
        let file = path("node.key")
        let first = try IdentityKeyFile.loadOrCreate(at: file, using: &generator)
        #expect(first.created)
        let second = try IdentityKeyFile.loadOrCreate(at: file, using: &generator)
        #expect(!second.created)
        #expect(second.key == first.key)
    }

    @Test func refusesFilesOthersCanRead() throws {
        var generator = SecureRandomNumberGenerator()
        let file = path("open.key")
        try IdentityKeyFile.save(PrivateKey.generateEd25519(using: &generator), to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect(throws: IdentityKeyFileError.insecurePermissions(path: file, mode: 0o100644)) {
            try IdentityKeyFile.load(from: file)
        }
    }

    @Test func clearErrorsForMissingMalformedAndOversizedFiles() throws {
        let missing = path("missing.key")
        do {
            _ = try IdentityKeyFile.load(from: missing)
            Issue.record("a missing file loaded")
        } catch {
            guard case .cannotOpen(missing, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("no such file"))
        }

        let garbage = path("garbage.key")
        #expect(FileManager.default.createFile(atPath: garbage, contents: Data("not a key".utf8), attributes: [.posixPermissions: 0o600]))
        #expect(throws: IdentityKeyFileError.malformed(path: garbage, .malformedEncoding)) {
            try IdentityKeyFile.load(from: garbage)
        }

        let large = path("large.key")
        #expect(FileManager.default.createFile(
            atPath: large, contents: Data(count: IdentityKeyFile.maximumFileSize + 1), attributes: [.posixPermissions: 0o600]))
        #expect(throws: IdentityKeyFileError.tooLarge(path: large, size: UInt64(IdentityKeyFile.maximumFileSize + 1))) {
            try IdentityKeyFile.load(from: large)
        }

        let folder = path("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(throws: IdentityKeyFileError.notARegularFile(path: folder)) { try IdentityKeyFile.load(from: folder) }
    }

    @Test func loadsKeysOfEveryType() throws {
        // The spec's secp256k1 private key, written as another tool would write it.
        let encoded = try #require(Hex.decode("0802122053dadf1d5a164d6b4acdb15e24aa4c5b1d3461bdbd42abedb0a4404d56ced8fb"))
        let file = path("secp.key")
        #expect(FileManager.default.createFile(atPath: file, contents: Data(encoded), attributes: [.posixPermissions: 0o600]))
        let key = try IdentityKeyFile.load(from: file)
        #expect(key.type == .secp256k1)
        #expect(key.peerID.description == "16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY")
    }
}
