/// Which side of DCUtR this node plays on one relayed connection.
public enum HolePunchRole: Hashable, Sendable, CustomStringConvertible {
    /// The peer that accepted the relayed connection (`B` in the spec): it opens the
    /// `/libp2p/dcutr` stream, measures the RTT and dials after half of it.
    case initiator
    /// The peer that dialed through the relay (`A` in the spec): it answers the CONNECT and
    /// dials as soon as the SYNC arrives.
    case responder

    /// The role this side takes in the upgrade of the hole-punched connection (multistream
    /// proposals, Noise initiator, Yamux client are the client's).
    ///
    /// The spec makes `A`, the DCUtR responder, the client and `B`, the initiator, the
    /// server (py-libp2p and go-libp2p from v0.41 do so). go-libp2p before v0.41 swapped
    /// them; `legacy` gives those roles.
    public func connectionRole(legacy: Bool = false) -> ConnectionRole {
        switch (self, legacy) {
        case (.initiator, false), (.responder, true): .server
        case (.responder, false), (.initiator, true): .client
        }
    }

    public var description: String {
        switch self {
        case .initiator: "initiator"
        case .responder: "responder"
        }
    }
}

/// What the owner does when a DCUtR exchange reached its moment: dial the peer now.
///
/// Dial every address at once, each from the port this node listens on (so the peer's NAT
/// sees the port this node advertised), and run the upgrade of whichever connects in
/// `connectionRole`, not by who dialed: in a TCP simultaneous open both sides dial, and each
/// sees an outbound connection. A connection accepted by the listener from the peer during
/// the attempt counts as well (same role). The first connection to be upgraded wins; cancel
/// the other dials.
public struct HolePunchDial: Hashable, Sendable {
    /// The peer's addresses to dial, chosen by `HolePunchAddressSelection`: plain TCP over IP,
    /// public ones first, without `/p2p`. Never empty.
    public var addresses: [Multiaddr]
    /// The role to take in the upgrade of the direct connection.
    public var connectionRole: ConnectionRole
    /// The round trip of the exchange over the relayed connection (measured by the
    /// initiator, `nil` for the responder).
    public var roundTripTime: Duration?
    /// Every address the peer sent in its CONNECT (valid and not relayed), before selection.
    public var remoteAddresses: [Multiaddr]

    /// A dial of `addresses` in `connectionRole`.
    public init(
        addresses: [Multiaddr], connectionRole: ConnectionRole, roundTripTime: Duration?, remoteAddresses: [Multiaddr]
    ) {
        self.addresses = addresses
        self.connectionRole = connectionRole
        self.roundTripTime = roundTripTime
        self.remoteAddresses = remoteAddresses
    }
}

/// What a `HolePunchInitiator` or `HolePunchResponder` reports: exactly one event, `dial`
/// or `failed`.
public enum HolePunchEvent: Hashable, Sendable {
    /// Dial now (the initiator: half an RTT after sending SYNC; the responder: on SYNC).
    case dial(HolePunchDial)
    /// The exchange failed; reset the stream and report the attempt as failed.
    case failed(HolePunchError)
}

/// Settings of one DCUtR exchange.
public struct HolePunchConfiguration: Hashable, Sendable {
    /// How long the whole exchange may take, from the start of the machine to the message
    /// that completes it (the peer's CONNECT for the initiator, SYNC for the responder):
    /// 10 s, go-libp2p's `StreamTimeout`. `nil`: no limit.
    public var exchangeTimeout: Duration? = .seconds(10)
    /// Which of the peer's addresses are dialed.
    public var addressSelection = HolePunchAddressSelection()

    /// The defaults.
    public init() {}
}
