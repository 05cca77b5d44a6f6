/// A relayed connection's carrier: the relay, the stream that carries the connection's
/// bytes, and what is on its way between the two.
struct CircuitTransport {
    /// The relay.
    let relay: PeerID
    /// The relay's address (`…/p2p/RELAY`), as the dial used or the carrier connection has it.
    let relayAddress: Multiaddr
    /// The peer's circuit address, `…/p2p/RELAY/p2p-circuit/p2p/PEER`.
    let remoteAddress: Multiaddr
    /// The peer at the other end: the dialed target, or the source the relay named.
    let peer: PeerID
    /// The connection to the relay and the stream on it, once the relay answered.
    var carrier: ConnectionID?
    var stream: StreamID?
    /// The limit the relay announced for the circuit.
    var limit: CircuitLimit?
    /// When the relay answered (the limit's duration counts from there).
    var openedAt: Instant?
    /// Bytes of the relayed connection the carrier stream has not taken yet, from `outboundOffset`.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    /// Bytes sent and received through the carrier stream (what the relay counts).
    var bytesSent: UInt64 = 0
    var bytesReceived: UInt64 = 0

    var hasPendingOutbound: Bool { outboundOffset < outbound.count }

    /// Whether the relay's limit explains the carrier ending at `now`: a direction carried
    /// the data limit, or the duration passed.
    func limitReached(now: Instant) -> CircuitCloseReason? {
        guard let limit else { return nil }
        if let data = limit.data {
            if bytesSent >= data { return .dataLimitReached(.sourceToTarget) }
            if bytesReceived >= data { return .dataLimitReached(.targetToSource) }
        }
        if let duration = limit.duration, let openedAt, now >= openedAt + duration { return .durationLimitReached }
        return nil
    }
}
