/// What a connection reports to its owner.
public enum ConnectionEvent: Equatable, Sendable {
    /// The upgrade finished: the peer is authenticated and streams can be opened.
    case established(ConnectionEstablishment)
    /// The peer opened a stream and agreed on `protocol`, one of the supported ones.
    case inboundStream(StreamID, protocol: String)
    /// An outbound stream's protocol is chosen: data may be written. With optimistic
    /// negotiation this comes at once; a later refusal arrives as `streamNegotiationFailed`.
    case streamNegotiated(StreamID, protocol: String)
    /// An outbound stream's negotiation failed (the peer supports none of the protocols,
    /// refused the optimistic one, or timed out); the stream was reset.
    case streamNegotiationFailed(StreamID, ConnectionStreamFailure)
    /// Data is ready to `read` on a stream whose buffer was empty.
    case streamReadable(StreamID)
    /// A stream that could not take a whole write can take more.
    case streamWritable(StreamID)
    /// The peer closed its side of the stream; what is buffered stays readable.
    case streamRemoteClosed(StreamID)
    /// The peer reset the stream.
    case streamReset(StreamID)
    /// Both sides closed the stream and it was read to the end: it is gone.
    case streamClosed(StreamID)
    /// A ping measured this round-trip time.
    case roundTripTime(Duration)
    /// The peer will accept no new streams (Yamux GoAway); existing ones carry on.
    case remoteGoingAway
    /// The connection ended. Nothing follows this event; drain `pollTransmit` once more for
    /// the last bytes (a GoAway) and close the transport.
    case closed(ConnectionCloseReason)
}

/// The outcome of a connection's upgrade.
public struct ConnectionEstablishment: Equatable, Sendable {
    /// The authenticated peer.
    public let remotePeer: PeerID
    /// The peer's identity key.
    public let remotePublicKey: PublicKey
    /// Whether the muxer was chosen inside the Noise handshake (saving a round trip).
    public let inlinedMuxerNegotiation: Bool
}

/// Why an outbound stream's negotiation failed.
public enum ConnectionStreamFailure: Equatable, Sendable {
    /// multistream-select failed (no protocol in common, refusal, malformed messages).
    case negotiation(MultistreamError)
    /// The peer did not finish negotiating within `streamNegotiationTimeout`.
    case timeout
    /// The peer closed or reset the stream during negotiation.
    case closedByPeer
}

/// Why a connection ended.
public enum ConnectionCloseReason: Equatable, Sendable {
    /// The local side closed it.
    case localClose
    /// The upgrade did not finish within `handshakeTimeout`.
    case handshakeTimeout
    /// The peer does not speak `/noise` (or broke multistream-select).
    case securityNegotiationFailed(MultistreamError)
    /// The Noise handshake failed: bad signature, wrong peer, malformed payload, bad tag….
    case securityHandshakeFailed(NoiseError)
    /// The peer does not speak `/yamux/1.0.0` (or broke multistream-select).
    case muxerNegotiationFailed(MultistreamError)
    /// A transport frame failed to decrypt or authenticate.
    case decryptionFailed(NoiseError)
    /// The Yamux session ended: a protocol violation, a keepalive timeout.
    case muxerClosed(YamuxCloseReason)
    /// The byte stream underneath ended (the driver saw EOF or an error).
    case transportClosed
    /// Noise nonces ran out (after 2^64 − 1 frames).
    case nonceExhausted
}

/// Misuse of a connection by its owner. The connection is unchanged.
public enum ConnectionUsageError: Error, Equatable, Sendable {
    /// The upgrade has not finished yet.
    case notEstablished
    /// The connection has closed.
    case closed
    /// The stream's protocol is not chosen yet: wait for `streamNegotiated`.
    case streamNotNegotiated(StreamID)
    /// A protocol list that cannot be proposed (empty, or an invalid name).
    case invalidProtocols(MultistreamUsageError)
    /// The muxer refused (too many streams, backlog full, unknown stream, write after close…).
    case muxer(YamuxUsageError)
}
