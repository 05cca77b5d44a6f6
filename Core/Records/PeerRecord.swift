import FoundationEssentials
import SwiftProtobuf

/// A peer record (RFC 0003): a peer's addresses with a sequence number, signed by the peer.
/// Identify carries it as `signedPeerRecord`.
///
/// RFC 0003 and go-libp2p disagree on the envelope's domain and payload type; go-libp2p's
/// (`libp2p-peer-record`, `03 01`) is what identify peers send, so records are sealed that
/// way, and opened under either convention.
public struct PeerRecord: Hashable, Sendable {
    /// The peer the record describes.
    public var peerID: PeerID
    /// A counter that orders records in time: a newer record has a larger `seq`.
    public var seq: UInt64
    /// The peer's addresses.
    public var addresses: [Multiaddr]

    /// The envelope domain and payload type of a peer record.
    public struct Convention: Hashable, Sendable {
        /// The envelope domain.
        public let domain: String
        /// The envelope payload type.
        public let payloadType: [UInt8]

        /// go-libp2p's (and py-libp2p's): domain `libp2p-peer-record`, type `03 01`.
        public static let goLibp2p = Convention(domain: "libp2p-peer-record", payloadType: [0x03, 0x01])
        /// RFC 0003's (and rust-libp2p's): domain `libp2p-routing-state`, type
        /// `/libp2p/routing-state-record`.
        public static let rfc0003 = Convention(
            domain: "libp2p-routing-state", payloadType: Array("/libp2p/routing-state-record".utf8))
    }

    /// The most addresses a decoded record may hold.
    public static let maximumAddressCount = 64

    /// A record for `peerID` with sequence number `seq`.
    public init(peerID: PeerID, seq: UInt64, addresses: [Multiaddr]) {
        self.peerID = peerID
        self.seq = seq
        self.addresses = addresses
    }

    /// Decodes the `PeerRecord` protobuf payload.
    public init(payload: [UInt8]) throws(EnvelopeError) {
        let message: Peer_Pb_PeerRecord
        do {
            message = try Peer_Pb_PeerRecord(serializedBytes: payload)
        } catch {
            throw .malformedPayload
        }
        guard message.addresses.count <= Self.maximumAddressCount else { throw .malformedPayload }
        do {
            peerID = try PeerID(bytes: [UInt8](message.peerID))
            var addresses: [Multiaddr] = []
            addresses.reserveCapacity(message.addresses.count)
            for info in message.addresses {
                addresses.append(try Multiaddr(bytes: [UInt8](info.multiaddr)))
            }
            self.addresses = addresses
        } catch {
            throw .malformedPayload
        }
        seq = message.seq
    }

    /// The `PeerRecord` protobuf payload.
    public var payload: [UInt8] {
        var message = Peer_Pb_PeerRecord()
        message.peerID = Data(peerID.bytes)
        message.seq = seq
        message.addresses = addresses.map { address in
            var info = Peer_Pb_PeerRecord.AddressInfo()
            info.multiaddr = Data(address.bytes)
            return info
        }
        return (try? message.serializedBytes()) ?? []
    }

    /// Seals the record with the peer's key under `convention` (go-libp2p's by default).
    public func seal(with key: PrivateKey, convention: Convention = .goLibp2p) throws(KeyError) -> SignedEnvelope {
        try SignedEnvelope.seal(
            payload: payload, payloadType: convention.payloadType, domain: convention.domain, key: key)
    }

    /// Opens a signed peer record under either convention, checks the signature, and checks
    /// that the signer is the peer the record describes.
    public static func open(_ envelopeBytes: [UInt8]) throws(EnvelopeError) -> (record: PeerRecord, envelope: SignedEnvelope) {
        var lastError = EnvelopeError.malformed
        for convention in [Convention.goLibp2p, .rfc0003] {
            let envelope: SignedEnvelope
            do {
                envelope = try SignedEnvelope.open(
                    envelopeBytes, domain: convention.domain, expectedPayloadType: convention.payloadType)
            } catch .unexpectedPayloadType(let type) {
                lastError = .unexpectedPayloadType(type)
                continue
            }
            let record = try PeerRecord(payload: envelope.payload)
            guard envelope.signer.peerID == record.peerID else { throw .signerMismatch }
            return (record, envelope)
        }
        throw lastError
    }
}
