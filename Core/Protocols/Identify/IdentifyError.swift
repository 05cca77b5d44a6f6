/// Why an identify exchange failed: a violation by the peer. Reported in a `failed`
/// event; the owner then resets the stream.
public enum IdentifyError: Error, Equatable, Hashable, Sendable {
    /// A message part declared more bytes than `IdentifyLimits.maximumPartLength`.
    case partTooLong(length: UInt64, maximum: Int)
    /// A length prefix was not a valid varint.
    case malformedLength
    /// More message parts than `IdentifyLimits.maximumParts`.
    case tooManyParts(maximum: Int)
    /// The parts together exceed `IdentifyLimits.maximumTotalLength`.
    case tooLong(maximum: Int)
    /// The stream ended in the middle of a message part.
    case truncated(bufferedBytes: Int)
    /// A part is not an `Identify` protobuf.
    case malformedMessage
    /// The public key does not decode.
    case invalidPublicKey(KeyError)
    /// More protocols than `IdentifyLimits.maximumProtocols`.
    case tooManyProtocols(count: Int, maximum: Int)
    /// More listen addresses than `IdentifyLimits.maximumListenAddresses`.
    case tooManyAddresses(count: Int, maximum: Int)
    /// A protocol name, protocol version or agent version longer than
    /// `IdentifyLimits.maximumStringLength` UTF-8 bytes.
    case stringTooLong(length: Int, maximum: Int)
    /// The signed peer record does not open (bad envelope, signature or payload).
    case invalidSignedPeerRecord(EnvelopeError)
    /// The signed peer record names a peer other than the message's public key.
    case peerRecordMismatch
    /// The message's public key is not the key of the peer the owner expected.
    case unexpectedPeer(PeerID)
    /// The peer sent bytes on a stream where only this side writes.
    case unexpectedBytes
    /// No message arrived within the configured timeout.
    case timeout
}

/// Local misuse of the identify machines: thrown by their initialisers, never caused by
/// the peer.
public enum IdentifyUsageError: Error, Equatable, Hashable, Sendable {
    /// The encoded message does not fit in `maximumPartLength` bytes, even with the signed
    /// peer record split into its own part.
    case messageTooLong(length: Int, maximum: Int)
}
