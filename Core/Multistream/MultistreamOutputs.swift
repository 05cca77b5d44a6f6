/// What a multistream machine (dialer or listener) queues for its owner: bytes for the wire,
/// events, and the protocol bytes that arrived behind the last multistream message.
struct MultistreamOutputs: Sendable {
    var outbound: [UInt8] = []
    var events: [MultistreamEvent] = []
    private var remainingBytes: [UInt8] = []

    /// Keeps the rest of `bytes` from `offset` as protocol data, advancing `offset` to the end.
    mutating func keepRemaining(_ bytes: Span<UInt8>, from offset: inout Int) {
        guard offset < bytes.count else { return }
        remainingBytes.append(bytes.extracting(offset..<bytes.count))
        offset = bytes.count
    }

    mutating func takeRemainingBytes() -> [UInt8] {
        let bytes = remainingBytes
        remainingBytes = []
        return bytes
    }

    mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count
        guard count > 0 else { return 0 }
        buffer.append(contentsOf: outbound)
        outbound.removeAll()
        return count
    }

    mutating func pollEvent() -> MultistreamEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }
}
