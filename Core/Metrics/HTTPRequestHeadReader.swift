/// Collects a request head from the stream, byte by byte as it arrives, up to the empty
/// line that ends it (empty lines before the request line do not end it), and never more
/// than `maximumLength` bytes. Every byte is looked at once, however the input is split.
struct HTTPRequestHeadReader {
    /// Where collecting stands.
    enum Progress: Equatable {
        /// The head has not ended yet.
        case needsMore
        /// `bytes` holds the whole head; later bytes are not the reader's.
        case complete
        /// The head did not end within `maximumLength` bytes.
        case tooLarge
    }

    /// The largest head accepted, its final empty line included.
    let maximumLength: Int
    /// The head's bytes so far.
    private(set) var bytes: [UInt8] = []
    private var lineStart = 0
    private var hasRequestLine = false
    private(set) var progress = Progress.needsMore

    init(maximumLength: Int) { self.maximumLength = maximumLength }

    /// Takes bytes up to the end of the head; the rest of `input` is left alone.
    mutating func append(_ input: Span<UInt8>) -> Progress {
        guard progress == .needsMore else { return progress }
        for index in input.indices {
            guard bytes.count < maximumLength else {
                progress = .tooLarge
                return progress
            }
            let byte = input[index]
            bytes.append(byte)
            guard byte == UInt8(ascii: "\n") else { continue }
            var lineEnd = bytes.count - 1
            if lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            if lineEnd > lineStart {
                hasRequestLine = true
            } else if hasRequestLine {
                progress = .complete
                return progress
            }
            lineStart = bytes.count
        }
        return progress
    }
}
