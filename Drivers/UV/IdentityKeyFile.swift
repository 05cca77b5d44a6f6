import CUV
import TraverseCore

/// A node's identity key on disk: the protobuf `PrivateKey` encoding (the format
/// go-libp2p tools write), in a file only its owner can read (mode 0600).
///
/// Files are written atomically (a temporary file, flushed, then renamed), and a key file
/// that group or others can read is refused, as ssh refuses such private keys.
public enum IdentityKeyFile {
    /// The largest file accepted (an 8192-bit RSA key is about 4.8 KiB).
    public static let maximumFileSize = 16 * 1024

    /// Writes `key` to `path`, replacing any file there, with mode 0600.
    public static func save(_ key: PrivateKey, to path: String) throws(IdentityKeyFileError) {
        let temporaryPath = path + ".tmp-\(ProcessIdentifier.current)"
        try FileOperations.write(key.protobufEncoding, to: temporaryPath, mode: 0o600)
        do {
            try FileOperations.rename(temporaryPath, to: path)
        } catch {
            FileOperations.remove(temporaryPath)
            throw error
        }
    }

    /// Reads the key in `path`.
    public static func load(from path: String) throws(IdentityKeyFileError) -> PrivateKey {
        let contents = try FileOperations.readRegularFile(path, maximumSize: maximumFileSize, ownerOnly: true)
        do {
            return try PrivateKey(protobufEncoding: contents)
        } catch {
            throw .malformed(path: path, error)
        }
    }

    /// Reads the key in `path`, or creates one with `generator` if no file exists there.
    /// Returns the key and whether it was created.
    public static func loadOrCreate(
        at path: String, using generator: inout some RandomNumberGenerator
    ) throws(IdentityKeyFileError) -> (key: PrivateKey, created: Bool) {
        do {
            return (try load(from: path), false)
        } catch .cannotOpen(_, let code) where code == UV_ENOENT.rawValue {
            let key = PrivateKey.generateEd25519(using: &generator)
            try save(key, to: path)
            return (key, true)
        }
    }
}

/// Why an identity key file could not be read or written.
public enum IdentityKeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened (libuv error code, e.g. `UV_ENOENT`).
    case cannotOpen(path: String, code: Int32)
    /// Reading, writing, flushing or renaming failed (libuv error code).
    case ioFailed(path: String, operation: String, code: Int32)
    /// The path is not a regular file.
    case notARegularFile(path: String)
    /// The file is larger than any key file.
    case tooLarge(path: String, size: UInt64)
    /// Group or others may read or write the file.
    case insecurePermissions(path: String, mode: UInt32)
    /// The contents are not a libp2p private key.
    case malformed(path: String, KeyError)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code):
            "cannot open key file \(path): \(libuvMessage(code))"
        case .ioFailed(let path, let operation, let code):
            "cannot \(operation) key file \(path): \(libuvMessage(code))"
        case .notARegularFile(let path):
            "key file \(path) is not a regular file"
        case .tooLarge(let path, let size):
            "key file \(path) is \(size) bytes, larger than any key (limit \(IdentityKeyFile.maximumFileSize))"
        case .insecurePermissions(let path, let mode):
            "key file \(path) has mode \(String(mode & 0o777, radix: 8)); it must not be readable by group or others (chmod 600)"
        case .malformed(let path, let error):
            "key file \(path) does not hold a libp2p private key: \(error)"
        }
    }
}

func libuvMessage(_ code: Int32) -> String {
    guard let message = uv_strerror(code) else { return "error \(code)" }
    return String(cString: message)
}
