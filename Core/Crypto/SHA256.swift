import CSodium

/// SHA-256 through libsodium.
public enum SHA256 {
    /// The digest length in bytes.
    public static let digestLength = 32

    /// The SHA-256 digest of `bytes`.
    public static func hash(_ bytes: Span<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestLength) { output, initialized in
            bytes.withUnsafeBufferPointer { input in
                _ = crypto_hash_sha256(output.baseAddress!, input.baseAddress, UInt64(input.count))
            }
            initialized = digestLength
        }
    }

    /// The SHA-256 digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { hash(bytes.span) }
}
