/// Reassembles noise-libp2p frames (`u16be(length) ‖ message`) from arbitrarily chunked
/// input, holding at most one partial frame (2 + 65535 bytes).
struct NoiseFrameReader: Sendable {
    /// The length field's size.
    static let headerLength = 2
    /// The largest frame, header included.
    static let maximumFrameLength = headerLength + Int(UInt16.max)

    /// The bytes of the frame being assembled, header included.
    private(set) var partial: [UInt8] = []

    /// Whether no partial frame is held.
    var isEmpty: Bool { partial.isEmpty }

    /// The body length of the partial frame, once its header is complete.
    private var bodyLength: Int? {
        partial.count >= Self.headerLength ? Int(partial[0]) << 8 | Int(partial[1]) : nil
    }

    /// Whether the held frame is complete (its body is `partial[2...]`).
    var hasCompleteFrame: Bool {
        guard let bodyLength else { return false }
        return partial.count == Self.headerLength + bodyLength
    }

    /// Moves bytes from `input[offset...]` into the partial frame until it is complete or
    /// the input is used up; returns whether the frame is complete.
    mutating func fill(from input: Span<UInt8>, offset: inout Int) -> Bool {
        while offset < input.count {
            let wanted: Int
            if let bodyLength {
                wanted = Self.headerLength + bodyLength - partial.count
            } else {
                wanted = Self.headerLength - partial.count
            }
            if wanted == 0 { return true }
            let taken = min(wanted, input.count - offset)
            input.extracting(offset..<(offset + taken)).withUnsafeBufferPointer { partial.append(contentsOf: $0) }
            offset += taken
        }
        return hasCompleteFrame
    }

    /// Forgets the held frame, keeping the buffer's capacity.
    mutating func reset() { partial = [] }
}
