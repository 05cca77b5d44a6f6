import CSodium

/// A cryptographically secure random number generator (libsodium's `randombytes`).
///
/// The core never creates one itself: drivers pass it in, and tests pass a seeded generator
/// instead, so every run of the core can be replayed.
public struct SecureRandomNumberGenerator: RandomNumberGenerator, Sendable {
    /// Creates a generator backed by the operating system's entropy source.
    public init() { Sodium.ensureInitialized() }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { randombytes_buf($0.baseAddress!, 8) }
        return value
    }
}
