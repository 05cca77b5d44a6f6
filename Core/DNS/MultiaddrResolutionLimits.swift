/// Bounds on everything the network controls in one `MultiaddrResolution`.
public struct MultiaddrResolutionLimits: Hashable, Sendable {
    /// How many lookups may nest: the address's own is 1, a `/dnsaddr` record's next is 2,
    /// and so on. 8 is deep enough for the bootstrap list (2) with room to spare, and far
    /// below `DNSAddr.maximumDepth` (32, go-libp2p's and js-libp2p's bound).
    public var maximumDepth: Int
    /// How many lookups (TXT queries and host lookups, each counting once however many
    /// datagrams its retries send) one resolution may make. 32, as rust-libp2p's
    /// `MAX_DNS_LOOKUPS`.
    public var maximumQueries: Int
    /// How many addresses the result holds at most; later ones, in record order, are
    /// dropped. Also the most addresses taken from one TXT answer or host lookup.
    public var maximumAddresses: Int
    /// How long the whole resolution may take; at this deadline the lookups still
    /// outstanding fail with `timeout` and the result is what arrived.
    public var timeout: Duration

    /// The defaults: depth 8, 32 queries, 64 addresses, 10 seconds.
    public init(maximumDepth: Int = 8, maximumQueries: Int = 32, maximumAddresses: Int = 64, timeout: Duration = .seconds(10)) {
        self.maximumDepth = maximumDepth
        self.maximumQueries = maximumQueries
        self.maximumAddresses = maximumAddresses
        self.timeout = timeout
    }

    /// Throws when a limit is out of range: depth 1…`DNSAddr.maximumDepth`, queries
    /// 1…1024, addresses 1…`DNSAddr.maximumAddresses`, a positive timeout.
    func validate() throws(MultiaddrResolutionUsageError) {
        guard (1...DNSAddr.maximumDepth).contains(maximumDepth) else {
            throw .invalidLimits("maximumDepth must be within 1...\(DNSAddr.maximumDepth)")
        }
        guard (1...1024).contains(maximumQueries) else { throw .invalidLimits("maximumQueries must be within 1...1024") }
        guard (1...DNSAddr.maximumAddresses).contains(maximumAddresses) else {
            throw .invalidLimits("maximumAddresses must be within 1...\(DNSAddr.maximumAddresses)")
        }
        guard timeout > .zero else { throw .invalidLimits("timeout must be positive") }
    }
}
