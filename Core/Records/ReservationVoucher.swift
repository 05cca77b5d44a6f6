import FoundationEssentials
import SwiftProtobuf

/// A circuit relay v2 reservation voucher: the relay's signed statement that `peer` holds a
/// reservation on `relay` until `expiration` (`shared/specs/relay/circuit-v2.md`).
/// It travels in a signed envelope with domain `libp2p-relay-rsvp` and payload type
/// `03 02` (multicodec 0x0302 written as two raw bytes, as go-libp2p does).
public struct ReservationVoucher: Hashable, Sendable {
    /// The relay that granted the reservation (and signed the voucher).
    public var relay: PeerID
    /// The peer holding the reservation.
    public var peer: PeerID
    /// When the reservation expires, in UNIX seconds (UTC).
    public var expiration: UInt64

    /// The envelope domain of vouchers.
    public static let domain = "libp2p-relay-rsvp"
    /// The envelope payload type of vouchers.
    public static let payloadType: [UInt8] = [0x03, 0x02]

    /// A voucher for `peer` on `relay` until `expiration` (UNIX seconds).
    public init(relay: PeerID, peer: PeerID, expiration: UInt64) {
        self.relay = relay
        self.peer = peer
        self.expiration = expiration
    }

    /// Decodes the voucher payload (`ReservationVoucher` protobuf).
    public init(payload: [UInt8]) throws(EnvelopeError) {
        let message: Circuit_Pb_ReservationVoucher
        do {
            message = try Circuit_Pb_ReservationVoucher(serializedBytes: payload)
        } catch {
            throw .malformedPayload
        }
        do {
            relay = try PeerID(bytes: [UInt8](message.relay))
            peer = try PeerID(bytes: [UInt8](message.peer))
        } catch {
            throw .malformedPayload
        }
        expiration = message.expiration
    }

    /// The voucher payload, fields in order.
    public var payload: [UInt8] {
        var message = Circuit_Pb_ReservationVoucher()
        message.relay = Data(relay.bytes)
        message.peer = Data(peer.bytes)
        message.expiration = expiration
        return (try? message.serializedBytes()) ?? []
    }

    /// Seals the voucher with the relay's key.
    public func seal(with relayKey: PrivateKey) throws(KeyError) -> SignedEnvelope {
        try SignedEnvelope.seal(
            payload: payload, payloadType: Self.payloadType, domain: Self.domain, key: relayKey)
    }

    /// Opens a voucher envelope: checks the domain, type and signature, decodes the payload,
    /// and checks that the signer is the relay the voucher names.
    public static func open(_ envelopeBytes: [UInt8]) throws(EnvelopeError) -> (voucher: ReservationVoucher, envelope: SignedEnvelope) {
        let envelope = try SignedEnvelope.open(envelopeBytes, domain: domain, expectedPayloadType: payloadType)
        let voucher = try ReservationVoucher(payload: envelope.payload)
        guard envelope.signer.peerID == voucher.relay else { throw .signerMismatch }
        return (voucher, envelope)
    }
}
