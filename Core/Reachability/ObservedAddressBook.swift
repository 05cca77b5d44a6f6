/// Settings of `ObservedAddressBook`.
public struct ObservedAddressBookConfiguration: Hashable, Sendable {
    /// How many distinct observer groups must report an address for it to be confirmed, and
    /// must report for one local address before its NAT type is judged.
    public var confirmations = 3
    /// How long an observation counts.
    public var lifetime: Duration = .seconds(30 * 60)
    /// The IPv4 prefix that makes observers distinct (`/24`).
    public var ipv4ObserverPrefixLength = 24
    /// The IPv6 prefix that makes observers distinct (`/56`, a typical site).
    public var ipv6ObserverPrefixLength = 56
    /// The most local addresses tracked; the one observed least recently is forgotten.
    public var maximumLocalAddresses = 16
    /// The most observer groups kept per local address; the oldest is forgotten.
    public var maximumObserversPerLocalAddress = 32
    /// The scopes that count as public: only observers with a public IP reporting a public
    /// address count (peers on the same private network see the private address and say
    /// nothing about the NAT). `[.global]` by default; a lab on documentation addresses
    /// adds `.documentation`; `nil` counts every observation (in-memory tests).
    public var publicScopes: Set<IPAddressScope>? = [.global]

    /// The defaults.
    public init() {}
}

/// Why an observation was not recorded.
public enum AddressObservationRejection: Hashable, Sendable, CustomStringConvertible {
    /// The observed address is not `/ip4|ip6/A/tcp/P` (with an optional `/p2p`).
    case unsupportedAddress
    /// The observed address is not public (see `publicScopes`).
    case observedAddressNotPublic
    /// The observer's IP is not public (see `publicScopes`).
    case observerNotPublic

    public var description: String {
        switch self {
        case .unsupportedAddress: "observed address is not IP and TCP"
        case .observedAddressNotPublic: "observed address is not public"
        case .observerNotPublic: "observer is not on a public IP"
        }
    }
}

/// What `ObservedAddressBook.record` did.
public enum AddressObservationOutcome: Hashable, Sendable {
    /// Recorded; `newlyConfirmed` says this observation made the address confirmed.
    case recorded(newlyConfirmed: Bool)
    /// Not recorded.
    case ignored(AddressObservationRejection)
}

/// One observation kept: what an observer group last reported for a local address.
public struct AddressObservation: Hashable, Sendable {
    /// How the observer sees us: `/ip4|ip6/A/tcp/P`.
    public var observed: Multiaddr
    /// The peer that reported it last for its group.
    public var observer: PeerID
    /// The observer's network.
    public var group: ObserverGroup
    /// When it was reported.
    public var at: Instant
}

/// How this node's addresses look from outside, from identify's observed addresses: which
/// public addresses are confirmed, and what kind of NAT (if any) maps them.
///
/// Observations are keyed by the local socket address of the connection they came on (a
/// listen address, or the source of a dial, which for NAT detection should leave from the
/// listening port) and by observer group (`ObserverGroup`: one vote per /24 or /56, the
/// newest report wins). An observed address is **confirmed** once `confirmations` groups
/// report it within `lifetime`. Per local address the NAT type is:
///
/// | observations (distinct groups, unexpired) | NAT type |
/// | --- | --- |
/// | fewer than `confirmations` | unknown |
/// | one address reported by ≥ `confirmations` groups and more than half, equal to the local address | public |
/// | the same, another address | private (consistent mapping) |
/// | several ports, none reported by more than half | symmetric |
/// | anything else | unknown |
///
/// The node's NAT type is public if any local address is, else symmetric if any is, else
/// private if any is, else unknown. Memory is bounded (`maximumLocalAddresses` ×
/// `maximumObserversPerLocalAddress` observations); time is injected.
public struct ObservedAddressBook: Sendable {
    /// The settings.
    public let configuration: ObservedAddressBookConfiguration
    private var locals: [SocketAddress: [ObserverGroup: AddressObservation]] = [:]
    private var oldest: Instant?

    /// An empty book.
    public init(configuration: ObservedAddressBookConfiguration = .init()) {
        self.configuration = configuration
    }

    /// How many observations are kept.
    public var observationCount: Int { locals.values.reduce(0) { $0 + $1.count } }

    /// The local addresses with observations.
    public var localAddresses: [SocketAddress] { locals.keys.sorted { $0.description < $1.description } }

    /// The unexpired observations for `local`, newest first.
    public func observations(for local: SocketAddress, now: Instant) -> [AddressObservation] {
        (locals[local] ?? [:]).values.filter { isLive($0, now: now) }.sorted { $0.at > $1.at }
    }

    /// Records that `observer`, connected from `observerIP` to our `local` socket address,
    /// sees us at `observed` (identify's `observedAddr`). Expired observations are dropped
    /// first.
    @discardableResult
    public mutating func record(
        observed: Multiaddr, local: SocketAddress, observer: PeerID, observerIP: IPAddress, now: Instant
    ) -> AddressObservationOutcome {
        let address = observed.withoutTrailingPeerID
        guard address.components.count == 2, address.ipAddress != nil,
              case .tcp(let port)? = address.components.last, port != 0
        else { return .ignored(.unsupportedAddress) }
        if let scopes = configuration.publicScopes {
            guard let scope = address.ipScope, scopes.contains(scope) else { return .ignored(.observedAddressNotPublic) }
            guard scopes.contains(observerIP.unmapped.scope) else { return .ignored(.observerNotPublic) }
        }
        removeExpired(now: now)
        let wasConfirmed = isConfirmed(address, now: now)
        let group = ObserverGroup(
            observerIP, ipv4PrefixLength: configuration.ipv4ObserverPrefixLength,
            ipv6PrefixLength: configuration.ipv6ObserverPrefixLength)
        if locals[local] == nil, locals.count >= max(1, configuration.maximumLocalAddresses) {
            let stalest = locals.min { newest(in: $0.value) < newest(in: $1.value) }
            if let stalest { locals[stalest.key] = nil }
        }
        var entries = locals[local] ?? [:]
        if entries[group] == nil, entries.count >= max(1, configuration.maximumObserversPerLocalAddress) {
            if let oldestEntry = entries.min(by: { $0.value.at < $1.value.at }) { entries[oldestEntry.key] = nil }
        }
        entries[group] = AddressObservation(observed: address, observer: observer, group: group, at: now)
        locals[local] = entries
        recomputeOldest()
        return .recorded(newlyConfirmed: !wasConfirmed && isConfirmed(address, now: now))
    }

    /// Forgets the observations of `local` (its listener closed).
    public mutating func forget(local: SocketAddress) {
        locals[local] = nil
        recomputeOldest()
    }

    /// Drops observations older than `lifetime`. Call at `nextDeadline`.
    public mutating func removeExpired(now: Instant) {
        guard let oldest, !isLive(at: oldest, now: now) else { return }
        for (local, entries) in locals {
            let live = entries.filter { isLive($0.value, now: now) }
            locals[local] = live.isEmpty ? nil : live
        }
        recomputeOldest()
    }

    /// When the oldest observation expires.
    public var nextDeadline: Instant? { oldest.map { $0 + configuration.lifetime } }

    /// How many distinct observer groups report `address` (any local address), unexpired.
    public func support(for address: Multiaddr, now: Instant) -> Int {
        let address = address.withoutTrailingPeerID
        var groups = Set<ObserverGroup>()
        for entries in locals.values {
            for (group, observation) in entries where observation.observed == address && isLive(observation, now: now) {
                groups.insert(group)
            }
        }
        return groups.count
    }

    /// Whether `address` is reported by at least `confirmations` groups.
    public func isConfirmed(_ address: Multiaddr, now: Instant) -> Bool {
        support(for: address, now: now) >= max(1, configuration.confirmations)
    }

    /// The confirmed observed addresses, best supported first: the public addresses to try
    /// with AutoNAT and, once it agrees, to advertise.
    public func confirmedAddresses(now: Instant) -> [Multiaddr] {
        var supporters: [Multiaddr: Set<ObserverGroup>] = [:]
        for entries in locals.values {
            for (group, observation) in entries where isLive(observation, now: now) {
                supporters[observation.observed, default: []].insert(group)
            }
        }
        return supporters.filter { $0.value.count >= max(1, configuration.confirmations) }
            .sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key.description < $1.key.description }
            .map(\.key)
    }

    /// The NAT type `local` shows (see the table of the type).
    public func natType(for local: SocketAddress, now: Instant) -> NATType {
        let live = observations(for: local, now: now)
        let threshold = max(1, configuration.confirmations)
        guard live.count >= threshold else { return .unknown }
        var counts: [Multiaddr: Int] = [:]
        for observation in live { counts[observation.observed, default: 0] += 1 }
        guard let top = counts.max(by: { $0.value < $1.value }) else { return .unknown }
        if top.value >= threshold && top.value * 2 > live.count {
            return top.key == local.tcpMultiaddr ? .public : .private
        }
        let ports = Set(live.compactMap { observation -> UInt16? in
            if case .tcp(let port)? = observation.observed.components.last { port } else { nil }
        })
        if ports.count >= 2 && top.value * 2 <= live.count { return .symmetric }
        return .unknown
    }

    /// The node's NAT type: public if any local address is, else symmetric if any is, else
    /// private if any is, else unknown.
    public func natType(now: Instant) -> NATType {
        let types = Set(locals.keys.map { natType(for: $0, now: now) })
        for type in [NATType.public, .symmetric, .private] where types.contains(type) { return type }
        return .unknown
    }

    private func isLive(_ observation: AddressObservation, now: Instant) -> Bool {
        isLive(at: observation.at, now: now)
    }

    private func isLive(at instant: Instant, now: Instant) -> Bool {
        now < instant + configuration.lifetime
    }

    private func newest(in entries: [ObserverGroup: AddressObservation]) -> Instant {
        entries.values.map(\.at).max() ?? .zero
    }

    private mutating func recomputeOldest() {
        oldest = locals.values.lazy.flatMap(\.values).map(\.at).min()
    }
}
