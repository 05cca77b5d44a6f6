import CUV

/// Blocking file operations through libuv's synchronous `uv_fs_*` calls (no callback, so
/// they run on the calling thread and never touch a running loop).
enum FileOperations {
    /// The loop the synchronous requests name. A synchronous request only records it, so one
    /// loop, never run, serves every thread.
    nonisolated(unsafe) static let loop: UnsafeMutablePointer<uv_loop_t> = {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        precondition(uv_loop_init(loop) == 0, "uv_loop_init failed")
        return loop
    }()

    /// Writes `bytes` to a new file at `path` with `mode`, flushed to disk. Fails if the file
    /// exists.
    static func write(_ bytes: [UInt8], to path: String, mode: Int32) throws(IdentityKeyFileError) {
        var request = uv_fs_t()
        let flags = O_WRONLY | O_CREAT | O_EXCL
        let descriptor = uv_fs_open(loop, &request, path, flags, mode, nil)
        uv_fs_req_cleanup(&request)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, code: descriptor) }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result: Int32 = bytes.withUnsafeBufferPointer { buffer in
                var slice = uv_buf_init(
                    UnsafeMutableRawPointer(mutating: buffer.baseAddress! + written)
                        .assumingMemoryBound(to: CChar.self),
                    UInt32(bytes.count - written))
                let result = uv_fs_write(loop, &request, uv_file(descriptor), &slice, 1, -1, nil)
                uv_fs_req_cleanup(&request)
                return result
            }
            guard result > 0 else {
                remove(path)
                throw .ioFailed(path: path, operation: "write", code: result)
            }
            written += Int(result)
        }
        let flushed = uv_fs_fsync(loop, &request, uv_file(descriptor), nil)
        uv_fs_req_cleanup(&request)
        guard flushed == 0 else {
            remove(path)
            throw .ioFailed(path: path, operation: "flush", code: flushed)
        }
    }

    /// Reads a whole regular file of at most `maximumSize`; with `ownerOnly`, a file others
    /// may read or write is refused.
    static func readRegularFile(_ path: String, maximumSize: Int, ownerOnly: Bool) throws(IdentityKeyFileError) -> [UInt8] {
        var request = uv_fs_t()
        let descriptor = uv_fs_open(loop, &request, path, O_RDONLY, 0, nil)
        uv_fs_req_cleanup(&request)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, code: descriptor) }
        defer { close(descriptor) }

        let statResult = uv_fs_fstat(loop, &request, uv_file(descriptor), nil)
        let status = request.statbuf
        uv_fs_req_cleanup(&request)
        guard statResult == 0 else { throw .ioFailed(path: path, operation: "stat", code: statResult) }
        guard status.st_mode & UInt64(S_IFMT) == UInt64(S_IFREG) else { throw .notARegularFile(path: path) }
        guard !ownerOnly || status.st_mode & 0o077 == 0 else {
            throw .insecurePermissions(path: path, mode: UInt32(truncatingIfNeeded: status.st_mode))
        }
        guard status.st_size <= UInt64(maximumSize) else { throw .tooLarge(path: path, size: status.st_size) }

        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while contents.count <= maximumSize {
            let result: Int32 = chunk.withUnsafeMutableBufferPointer { buffer in
                var slice = uv_buf_init(
                    UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                    UInt32(buffer.count))
                let result = uv_fs_read(loop, &request, uv_file(descriptor), &slice, 1, -1, nil)
                uv_fs_req_cleanup(&request)
                return result
            }
            guard result >= 0 else { throw .ioFailed(path: path, operation: "read", code: result) }
            if result == 0 { break }
            contents.append(contentsOf: chunk[0..<Int(result)])
        }
        guard contents.count <= maximumSize else { throw .tooLarge(path: path, size: UInt64(contents.count)) }
        return contents
    }

    static func rename(_ source: String, to destination: String) throws(IdentityKeyFileError) {
        var request = uv_fs_t()
        let result = uv_fs_rename(loop, &request, source, destination, nil)
        uv_fs_req_cleanup(&request)
        guard result == 0 else { throw .ioFailed(path: destination, operation: "rename", code: result) }
    }

    static func remove(_ path: String) {
        var request = uv_fs_t()
        _ = uv_fs_unlink(loop, &request, path, nil)
        uv_fs_req_cleanup(&request)
    }

    static func close(_ descriptor: Int32) {
        var request = uv_fs_t()
        _ = uv_fs_close(loop, &request, uv_file(descriptor), nil)
        uv_fs_req_cleanup(&request)
    }
}

/// The current process's ID, for unique temporary file names.
enum ProcessIdentifier {
    static var current: Int32 { uv_os_getpid() }
}
