/// The name servers and retry policy for the DNS queries the core sends itself (the TXT
/// queries of `/dnsaddr`), read from the text of `/etc/resolv.conf` as glibc reads it.
///
/// Only what those queries need is read:
/// - `nameserver ADDRESS`: an IPv4 or IPv6 address, queried on port 53, in file order; the
///   first `maximumNameServers` (3, glibc's `MAXNS`) count and later ones are ignored. A
///   zone (`fe80::1%eth0`) is dropped from the address, except that a link-local address
///   with a zone is skipped: `SocketAddress` carries no zone, and without one it is
///   unusable. Lines with an address that does not parse are skipped.
/// - `options timeout:N attempts:N`: the seconds to wait for each reply (1…30, default 5)
///   and the rounds over the servers (1…5, default 2); out-of-range values are clamped
///   as glibc clamps them. Other options (`ndots`, `rotate`, `edns0`, `use-vc`, …) and
///   other keywords (`domain`, `search`, `sortlist`) are ignored: `/dnsaddr` names are
///   absolute, and queries go over UDP without EDNS.
/// - `#` and `;` start a comment, at the start of a line or after a value.
///
/// With no usable name server the defaults are `127.0.0.1` and `::1` (glibc uses the
/// first; a host whose only resolver listens on `::1` works too).
public struct ResolverConfiguration: Hashable, Sendable {
    /// The servers queried, in order, each on port 53 unless built otherwise; never empty
    /// and at most `maximumNameServers`.
    public let nameServers: [SocketAddress]
    /// How long to wait for the reply to one query datagram.
    public let timeout: Duration
    /// How many rounds over `nameServers` a query makes before it fails.
    public let attempts: Int

    /// The most name servers used (glibc's `MAXNS`).
    public static let maximumNameServers = 3
    /// The DNS port.
    public static let port: UInt16 = 53
    /// The servers used when none is configured: `127.0.0.1` and `::1`, port 53.
    public static let defaultNameServers: [SocketAddress] = [
        .ipv4(IPv4Address(127, 0, 0, 1), port: port), .ipv6(IPv6Address(high: 0, low: 1), port: port),
    ]
    /// The default reply timeout (glibc's `RES_TIMEOUT`).
    public static let defaultTimeout = Duration.seconds(5)
    /// The default number of rounds (glibc's `RES_DFLRETRY`).
    public static let defaultAttempts = 2
    /// The range of the reply timeout (glibc caps `timeout:` at 30 s; 0 waits 1 s there too).
    public static let timeoutRange: ClosedRange<Duration> = .seconds(1) ... .seconds(30)
    /// The range of `attempts` (glibc caps `attempts:` at 5).
    public static let attemptsRange: ClosedRange<Int> = 1...5

    /// A configuration with these servers, timeout and attempts. The first
    /// `maximumNameServers` servers are kept (the defaults when `nameServers` is empty);
    /// the timeout and attempts are clamped to `timeoutRange` and `attemptsRange`.
    public init(
        nameServers: [SocketAddress] = [], timeout: Duration = defaultTimeout, attempts: Int = defaultAttempts
    ) {
        let servers = nameServers.prefix(Self.maximumNameServers)
        self.nameServers = servers.isEmpty ? Self.defaultNameServers : Array(servers)
        self.timeout = min(max(timeout, Self.timeoutRange.lowerBound), Self.timeoutRange.upperBound)
        self.attempts = min(max(attempts, Self.attemptsRange.lowerBound), Self.attemptsRange.upperBound)
    }

    /// Reads the text of a `resolv.conf` file. Never fails: what it does not understand it
    /// skips, and what is missing takes its default.
    public init(resolvConf text: String) {
        var servers: [SocketAddress] = []
        var timeoutSeconds = Int64(Self.defaultTimeout.components.seconds)
        var attempts = Self.defaultAttempts
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.prefix { $0 != "#" && $0 != ";" }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first else { continue }
            switch keyword {
            case "nameserver":
                guard words.count >= 2, servers.count < Self.maximumNameServers,
                      let server = Self.nameServer(words[1])
                else { continue }
                servers.append(server)
            case "options":
                for option in words.dropFirst() {
                    if let value = Self.optionValue(option, named: "timeout") {
                        timeoutSeconds = value
                    } else if let value = Self.optionValue(option, named: "attempts") {
                        attempts = Int(value)
                    }
                }
            default:
                continue
            }
        }
        self.init(nameServers: servers, timeout: .seconds(timeoutSeconds), attempts: attempts)
    }

    /// The socket address of a `nameserver` value, or `nil` when it is unusable.
    static func nameServer(_ text: Substring) -> SocketAddress? {
        if let address = IPv4Address(text) { return .ipv4(address, port: port) }
        let parts = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPv6Address(parts[0]) else { return nil }
        if parts.count == 2 && address.scope == .linkLocal { return nil }
        return .ipv6(address, port: port)
    }

    /// The number after `name:` in an option such as `timeout:3`, or `nil` when `option`
    /// is another option or has no decimal value. Values past 1000 count as 1000 (the
    /// ranges clamp far below).
    static func optionValue(_ option: Substring, named name: String) -> Int64? {
        guard option.hasPrefix(name + ":") else { return nil }
        let digits = option.dropFirst(name.count + 1)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return min(Int64(digits) ?? 1000, 1000)
    }
}
