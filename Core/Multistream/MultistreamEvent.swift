/// What a multistream-select machine reports to its owner, drained with `pollEvent()`.
///
/// Each machine reports `protocolSelected` and `negotiationComplete` at most once each, in
/// that order, or `failed` once; nothing follows `failed`. A listener and a non-optimistic
/// dialer report `protocolSelected` and `negotiationComplete` together.
public enum MultistreamEvent: Equatable, Hashable, Sendable {
    /// The protocol is chosen: the owner may now send protocol data (after draining
    /// `pollTransmit`, so the data follows the last multistream message on the wire).
    /// An optimistic dialer reports this at once, before the listener has answered.
    case protocolSelected(String)
    /// The negotiation is over and no more multistream bytes will arrive: everything after
    /// belongs to the protocol. The owner takes the bytes received after the last
    /// multistream message with `takeRemainingBytes()`.
    case negotiationComplete(String)
    /// The negotiation failed; the owner resets the stream. Bytes already queued for the
    /// wire (a listener's `na`, say) are still returned by `pollTransmit`.
    case failed(MultistreamError)
}
