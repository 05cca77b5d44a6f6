/// A peer record together with the signed envelope that carries it, as identify sends it
/// in `signedPeerRecord`. Values come only from sealing or from opening (which verifies the
/// signature and that the signer is the peer the record names), so the two always agree.
public struct SignedPeerRecord: Equatable, Sendable {
    /// The record.
    public let record: PeerRecord
    /// The envelope that carries it, signed by the record's peer.
    public let envelope: SignedEnvelope

    /// Seals `record` with `key` under go-libp2p's convention (what identify peers send).
    public init(sealing record: PeerRecord, with key: PrivateKey) throws(KeyError) {
        self.record = record
        self.envelope = try record.seal(with: key)
    }

    /// Opens an encoded envelope with `PeerRecord.open`: either convention, signature
    /// checked, signer checked against the record's peer.
    public init(opening envelopeBytes: [UInt8]) throws(EnvelopeError) {
        (record, envelope) = try PeerRecord.open(envelopeBytes)
    }

    /// The encoded envelope.
    public var encoded: [UInt8] { envelope.encoded }
}
