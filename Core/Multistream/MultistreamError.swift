/// Why a multistream-select negotiation failed: a violation by the remote peer, or a
/// negotiation that ended without a common protocol. Reported in `MultistreamEvent.failed`;
/// the owner then resets (or closes) the stream.
public enum MultistreamError: Error, Equatable, Hashable, Sendable {
    /// The peer's first message was not `/multistream/1.0.0` (it carries what was received,
    /// decoded leniently as UTF-8).
    case unsupportedHeader(String)
    /// The peer declared a message of this many bytes, more than
    /// `MultistreamConfiguration.maximumMessageLength`. Saturates at `Int.max`.
    case messageTooLong(Int)
    /// A length prefix was not a valid unsigned varint (over 9 bytes, or not minimal).
    case malformedLength
    /// A message did not end with `\n` (or was empty).
    case missingNewline
    /// The peer proposed a protocol name that is not one (empty, not UTF-8, or containing a
    /// newline).
    case invalidProtocolName(MultistreamProtocolNameError)
    /// The listener answered `na` to every protocol the dialer proposed.
    case noProtocolInCommon
    /// The listener answered `na` to the protocol an optimistic dialer had already reported
    /// selected. Data the owner sent behind the proposal was not understood; reset the stream.
    case protocolRefused(String)
    /// The dialer sent more proposals (and `ls` requests) than
    /// `MultistreamConfiguration.maximumProposals`.
    case tooManyProposals
    /// A message the negotiation does not allow at this point, such as a listener echoing a
    /// protocol the dialer did not propose, or a second header (decoded leniently as UTF-8).
    case unexpectedMessage(String)
}

/// What is wrong with a protocol name.
public enum MultistreamProtocolNameError: Error, Equatable, Hashable, Sendable {
    /// The name has no bytes.
    case empty
    /// The name is not valid UTF-8 (only possible in received names).
    case notUTF8
    /// The name contains `\n`, which would end the message early.
    case containsNewline
    /// The name is longer than the configured maximum (in UTF-8 bytes).
    case tooLong(length: Int, maximum: Int)
    /// The name does not start with `/`. libp2p protocol IDs always do, and rust-libp2p
    /// rejects names that do not; it also keeps `na` and `ls` apart from protocol names.
    case missingLeadingSlash
    /// The name is `/multistream/1.0.0`, the header itself.
    case reserved
}

/// Local misuse of the multistream machines: thrown by their initialisers, never caused by
/// the peer.
public enum MultistreamUsageError: Error, Equatable, Hashable, Sendable {
    /// A dialer was given no protocol to propose.
    case noProtocols
    /// A local protocol name cannot be sent.
    case invalidProtocolName(String, MultistreamProtocolNameError)
    /// A configuration limit is out of range (the text says which).
    case invalidConfiguration(String)
}
