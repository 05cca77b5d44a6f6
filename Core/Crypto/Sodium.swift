import CSodium

/// libsodium, initialised once before first use.
///
/// `sodium_init()` picks the fastest implementation of each primitive for this CPU and is
/// safe to call from any thread; the core reaches it through `Sodium.ensureInitialized()`.
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    /// Initialises libsodium if it has not been yet. Traps if libsodium cannot start, which
    /// only happens when the process cannot read the system's entropy source at all.
    @inline(__always)
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }
}
