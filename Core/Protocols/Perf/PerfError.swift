/// Why a perf stream failed: a violation by the peer. Reported in a `failed` event; the
/// owner then resets the stream.
public enum PerfError: Error, Equatable, Hashable, Sendable {
    /// The client closed its side before sending the whole 8-byte header.
    case truncatedHeader(receivedBytes: Int)
    /// The client asked for more bytes than the server serves.
    case downloadTooLarge(requested: UInt64, maximum: UInt64)
    /// The server sent more bytes than the client asked for.
    case downloadTooLong(expected: UInt64)
    /// The server closed its side before sending every byte asked for.
    case downloadTruncated(received: UInt64, expected: UInt64)
    /// The server closed its side before the client finished its upload.
    case closedDuringUpload
    /// Bytes arrived after the peer's end of stream.
    case unexpectedBytes
}

/// Local misuse of a perf machine: thrown by its initialiser, never caused by the peer.
public enum PerfUsageError: Error, Equatable, Hashable, Sendable {
    /// A configuration value is out of range (the text says which).
    case invalidConfiguration(String)
}

/// The outcome of a perf run, measured by the client.
///
/// The client cannot see when its upload left the socket, so the upload is taken to end
/// when the first downloaded byte arrives (the server sends nothing before it has read the
/// whole upload), or at the server's end of stream when nothing is downloaded.
public struct PerfResult: Equatable, Hashable, Sendable {
    /// Bytes uploaded (after the 8-byte header).
    public var uploadBytes: UInt64
    /// Bytes downloaded.
    public var downloadBytes: UInt64
    /// From the start to the end of the upload.
    public var uploadDuration: Duration
    /// From the end of the upload to the server's end of stream.
    public var downloadDuration: Duration
    /// From the start to the server's end of stream.
    public var total: Duration

    /// A result with these figures.
    public init(
        uploadBytes: UInt64, downloadBytes: UInt64, uploadDuration: Duration,
        downloadDuration: Duration, total: Duration
    ) {
        self.uploadBytes = uploadBytes
        self.downloadBytes = downloadBytes
        self.uploadDuration = uploadDuration
        self.downloadDuration = downloadDuration
        self.total = total
    }
}

/// The bytes perf sends: zeros, appended from one shared block so no chunk allocates.
enum PerfPayload {
    static let zeros = [UInt8](repeating: 0, count: 64 * 1024)

    /// Appends `count` zeros to `buffer`.
    static func appendZeros(_ count: Int, to buffer: inout [UInt8]) {
        var left = count
        while left > 0 {
            let piece = min(left, zeros.count)
            zeros.withUnsafeBufferPointer { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<piece])) }
            left -= piece
        }
    }
}
