/// `/dnsaddr` resolution (`multiaddr/protocols/DNSADDR.md`): the addresses of
/// `/dnsaddr/HOST/…` are in the TXT records of `_dnsaddr.HOST`, one `dnsaddr=MULTIADDR` per
/// string, and only those ending with the rest of the address (often `/p2p/ID`) count.
/// The driver does the query; recursion (a result that is itself a `/dnsaddr`) is the
/// caller's, bounded by `maximumDepth`.
public enum DNSAddr {
    /// How many `/dnsaddr` levels a resolution follows (go-libp2p stops at the same depth).
    public static let maximumDepth = 32
    /// The most addresses taken from one TXT answer.
    public static let maximumAddresses = 64

    /// The TXT name to query for an address that starts with `/dnsaddr/HOST`, or `nil`.
    public static func queryName(for address: Multiaddr) -> String? {
        guard case .dnsaddr(let host)? = address.components.first else { return nil }
        return "_dnsaddr." + host
    }

    /// The addresses in the TXT records that end with what follows `/dnsaddr/HOST` in
    /// `address` (for example `/p2p/ID`); malformed strings are skipped.
    public static func addresses(in records: [DNSRecord], resolving address: Multiaddr) -> [Multiaddr] {
        let suffix = Array(address.components.dropFirst())
        var result: [Multiaddr] = []
        for record in records {
            guard case .txt(let strings) = record.data else { continue }
            for string in strings {
                guard result.count < maximumAddresses else { return result }
                let text = String(decoding: string, as: UTF8.self)
                guard text.hasPrefix("dnsaddr="), let candidate = try? Multiaddr(text.dropFirst("dnsaddr=".count)) else {
                    continue
                }
                if suffix.isEmpty || candidate.components.suffix(suffix.count).elementsEqual(suffix) {
                    result.append(candidate)
                }
            }
        }
        return result
    }
}
