/// What a node knows about its own reachability: what `Node.status` shows.
public struct NodeStatus: Hashable, Sendable {
    /// Whether peers on the internet can dial this node (AutoNAT).
    public var reachability: Reachability
    /// How many agreeing AutoNAT results back `reachability`.
    public var confidence: Int
    /// The NAT in front of this node (observed addresses).
    public var natType: NATType
    /// Public addresses of this node: its listen addresses with a public IP, then confirmed
    /// observed addresses, then the address a dial back last reached; no duplicates.
    public var publicAddresses: [Multiaddr]
    /// Whether inbound connections need a relay: the node is known to be private, or
    /// reachability is not known yet and the NAT is symmetric (no direct path to expect).
    public var relayRequired: Bool

    /// A status from its parts.
    public init(
        reachability: Reachability, confidence: Int, natType: NATType, publicAddresses: [Multiaddr], relayRequired: Bool
    ) {
        self.reachability = reachability
        self.confidence = confidence
        self.natType = natType
        self.publicAddresses = publicAddresses
        self.relayRequired = relayRequired
    }

    /// The status at `now` from the AutoNAT results, the observed addresses and the node's
    /// listen addresses (those in `publicScopes` are public).
    public init(
        reachability status: ReachabilityStatus, observedAddresses book: ObservedAddressBook,
        listenAddresses: [Multiaddr], publicScopes: Set<IPAddressScope> = [.global], now: Instant
    ) {
        let natType = book.natType(now: now)
        var addresses: [Multiaddr] = []
        let candidates = listenAddresses.filter { !$0.isCircuit && $0.ipScope.map(publicScopes.contains) == true }.map(\.withoutTrailingPeerID)
            + book.confirmedAddresses(now: now) + (status.lastReachedAddress.map { [$0] } ?? [])
        for address in candidates where !addresses.contains(address) { addresses.append(address) }
        self.init(
            reachability: status.reachability, confidence: status.confidence, natType: natType,
            publicAddresses: addresses,
            relayRequired: status.reachability == .private || (status.reachability == .unknown && natType == .symmetric))
    }
}
