/// Base58btc (the Bitcoin alphabet), the text form of peer IDs.
public enum Base58 {
    @usableFromInline static let alphabet: [UInt8] = Array(
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    @usableFromInline static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    /// Encodes `bytes` as base58btc text.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        let leadingZeros = input.prefix(while: { $0 == 0 }).count
        // log(256) / log(58) ≈ 1.37: digits needed, rounded up.
        var digits = [UInt8](repeating: 0, count: (input.count - leadingZeros) * 138 / 100 + 1)
        var used = 0
        for byte in input[leadingZeros...] {
            var carry = Int(byte)
            var index = 0
            while carry != 0 || index < used {
                let position = digits.count - 1 - index
                carry += 256 * Int(digits[position])
                digits[position] = UInt8(carry % 58)
                carry /= 58
                index += 1
            }
            used = index
        }
        var text = [UInt8](repeating: alphabet[0], count: leadingZeros)
        text.reserveCapacity(leadingZeros + used)
        for digit in digits[(digits.count - used)...] { text.append(alphabet[Int(digit)]) }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes base58btc text; `nil` if it holds a character outside the alphabet or is longer
    /// than `maximumLength` characters (decoding is quadratic, so callers bound it).
    public static func decode(_ text: some StringProtocol, maximumLength: Int = 1024) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count <= maximumLength else { return nil }
        let leadingOnes = input.prefix(while: { $0 == alphabet[0] }).count
        var bytes = [UInt8](repeating: 0, count: (input.count - leadingOnes) * 733 / 1000 + 1)
        var used = 0
        for character in input[leadingOnes...] {
            let value = decodeTable[Int(character)]
            guard value >= 0 else { return nil }
            var carry = Int(value)
            var index = 0
            while carry != 0 || index < used {
                let position = bytes.count - 1 - index
                carry += 58 * Int(bytes[position])
                bytes[position] = UInt8(carry & 0xFF)
                carry >>= 8
                index += 1
            }
            used = index
        }
        return [UInt8](repeating: 0, count: leadingOnes) + bytes[(bytes.count - used)...]
    }
}
