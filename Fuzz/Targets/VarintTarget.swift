import TraverseCore

extension FuzzTarget {
    /// Varints, and length-prefixed framing through `LengthPrefixedReader` fed in two pieces.
    public static let varint = FuzzTarget(name: "varint") { input in
        var offset = 0
        while offset < input.count {
            let start = offset
            guard let value = try? Varint.decode(input, at: &offset) else { break }
            precondition(offset > start && offset - start <= Varint.maximumLength)
            let encoded = Varint.encode(value)
            precondition(encoded.count == offset - start, "varint decoded from a non-minimal encoding")
            for (index, byte) in encoded.enumerated() { precondition(input[start + index] == byte) }
        }

        let bytes = input.array
        let maximum = Int(bytes.first ?? 0) * 4
        let split = bytes.isEmpty ? 0 : Int(bytes[bytes.count / 2]) % (bytes.count + 1)
        var reader = LengthPrefixedReader(maximumMessageLength: maximum)
        var total = 0
        for piece in [bytes[..<split], bytes[split...]] {
            reader.append(piece)
            while true {
                guard let message = try? reader.nextMessage() else { break }
                precondition(message.count <= maximum)
                total += message.count
            }
        }
        precondition(total <= bytes.count)
    }
}
