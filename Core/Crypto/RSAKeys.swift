import Crypto
import _CryptoExtras
import FoundationEssentials

/// RSA through swift-crypto's `_CryptoExtras`, as libp2p encodes it: public keys in PKIX
/// DER, private keys in PKCS #1 DER, PKCS #1 v1.5 signatures over SHA-256. Keys must have
/// 2048 to 8192 bits, go-libp2p's range.
enum RSAKeys {
    /// The size in bits of a PKIX (or PKCS #1) DER public key, or `nil` if it is not RSA.
    static func keySize(ofPublicKey der: [UInt8]) -> Int? {
        publicKey(der)?.keySizeInBits
    }

    /// The key for a PKIX or PKCS #1 DER public key.
    ///
    /// The DER is parsed here and the key built from its modulus and exponent: swift-crypto
    /// 3.12.3's `init(unsafeDERRepresentation:)` frees its key twice when both of its parses
    /// fail, which aborts the process on malformed DER from a peer.
    private static func publicKey(_ der: [UInt8]) -> _RSA.Signing.PublicKey? {
        guard let (modulus, exponent) = RSAPublicKeyDER.parse(der) else { return nil }
        return try? _RSA.Signing.PublicKey(n: modulus, e: exponent)
    }

    /// The PKIX DER public key of a PKCS #1 (or PKCS #8) DER private key, with its size.
    static func publicKey(ofPrivateKey der: [UInt8]) -> (der: [UInt8], bits: Int)? {
        guard let key = try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der) else { return nil }
        return (Array(key.publicKey.derRepresentation), key.keySizeInBits)
    }

    /// The PKCS #1 v1.5 signature of SHA-256(`message`).
    static func sign(_ message: Span<UInt8>, privateKey der: [UInt8]) -> [UInt8]? {
        guard let key = try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der),
              let signature = try? key.signature(for: message.sha256Digest, padding: .insecurePKCS1v1_5)
        else { return nil }
        return Array(signature.rawRepresentation)
    }

    /// Whether `signature` is a PKCS #1 v1.5 signature of SHA-256(`message`) for the key.
    static func verify(signature: [UInt8], message: Span<UInt8>, publicKey der: [UInt8]) -> Bool {
        guard let key = publicKey(der) else { return false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature),
            for: message.sha256Digest, padding: .insecurePKCS1v1_5)
    }
}

/// A strict reader of RSA public keys in DER: PKIX `SubjectPublicKeyInfo` with the
/// `rsaEncryption` algorithm, or a bare PKCS #1 `RSAPublicKey`.
enum RSAPublicKeyDER {
    /// `1.2.840.113549.1.1.1` (rsaEncryption), encoded.
    private static let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]

    /// The modulus and public exponent (big-endian, no sign byte), or `nil`.
    static func parse(_ der: [UInt8]) -> (modulus: [UInt8], exponent: [UInt8])? {
        var reader = Reader(bytes: der[...])
        guard let outer = reader.read(tag: 0x30), reader.isAtEnd else { return nil }
        var contents = Reader(bytes: outer)
        if contents.peekTag == 0x02 { return parsePKCS1(outer) }
        guard let algorithm = contents.read(tag: 0x30),
              let bitString = contents.read(tag: 0x03), contents.isAtEnd
        else { return nil }
        let algorithmBytes = Array(algorithm)
        guard algorithmBytes == rsaEncryption || algorithmBytes == rsaEncryption + [0x05, 0x00],
              bitString.first == 0x00
        else { return nil }
        var inner = Reader(bytes: bitString.dropFirst())
        guard let sequence = inner.read(tag: 0x30), inner.isAtEnd else { return nil }
        return parsePKCS1(sequence)
    }

    /// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` contents.
    private static func parsePKCS1(_ contents: ArraySlice<UInt8>) -> (modulus: [UInt8], exponent: [UInt8])? {
        var reader = Reader(bytes: contents)
        guard let modulus = reader.read(tag: 0x02), let exponent = reader.read(tag: 0x02), reader.isAtEnd,
              let modulusBytes = positive(modulus), let exponentBytes = positive(exponent)
        else { return nil }
        return (modulusBytes, exponentBytes)
    }

    /// The magnitude of a positive, minimally encoded DER INTEGER.
    private static func positive(_ integer: ArraySlice<UInt8>) -> [UInt8]? {
        guard let first = integer.first, first & 0x80 == 0 else { return nil }
        if first == 0 {
            let rest = integer.dropFirst()
            guard let next = rest.first, next & 0x80 != 0 else { return nil }
            return Array(rest)
        }
        return Array(integer)
    }

    private struct Reader {
        var bytes: ArraySlice<UInt8>

        var isAtEnd: Bool { bytes.isEmpty }
        var peekTag: UInt8? { bytes.first }

        /// The contents of the next element if its tag is `tag` (definite lengths only).
        mutating func read(tag: UInt8) -> ArraySlice<UInt8>? {
            guard bytes.count >= 2, bytes[bytes.startIndex] == tag else { return nil }
            var index = bytes.startIndex + 1
            let first = bytes[index]
            index += 1
            var length = 0
            if first < 0x80 {
                length = Int(first)
            } else {
                let count = Int(first & 0x7F)
                guard count >= 1, count <= 3, bytes.endIndex - index >= count else { return nil }
                for _ in 0..<count {
                    length = length << 8 | Int(bytes[index])
                    index += 1
                }
                guard length >= 0x80, length >> (8 * (count - 1)) != 0 else { return nil }
            }
            guard bytes.endIndex - index >= length else { return nil }
            let contents = bytes[index..<(index + length)]
            bytes = bytes[(index + length)...]
            return contents
        }
    }
}
