import Foundation
import Testing
@testable import TraverseCore

@Suite struct PeerRecordTests {
    struct PyVectors: Decodable {
        struct Record: Decodable {
            let key: String
            let peer_id: String
            let seq: UInt64
            let addrs: [String]
            let addrs_hex: [String]
            let envelope_hex: String
        }
        struct Voucher: Decodable {
            let relay: String
            let peer: String
            let expiration: UInt64
            let envelope_hex: String
        }
        let peer_records: [Record]
        let vouchers: [Voucher]
    }

    static func pyVectors() throws -> PyVectors {
        try JSONDecoder().decode(PyVectors.self, from: TestVectors.data("py-libp2p-envelopes.json"))
    }

    @Test func opensPeerRecordsSealedByPyLibp2p() throws {
        let vectors = try Self.pyVectors()
        #expect(vectors.peer_records.count == 3)
        for vector in vectors.peer_records {
            let opened = try PeerRecord.open(hex(vector.envelope_hex))
            #expect(opened.record.peerID == (try PeerID(vector.peer_id)), "\(vector.key)")
            #expect(opened.record.seq == vector.seq)
            #expect(opened.record.addresses.map(\.description) == vector.addrs)
            #expect(opened.record.addresses.map { Hex.encode($0.bytes) } == vector.addrs_hex)
            #expect(opened.envelope.payloadType == PeerRecord.Convention.goLibp2p.payloadType)
        }
    }

    @Test func opensAVoucherSealedByPyLibp2p() throws {
        let vector = try #require(try Self.pyVectors().vouchers.first)
        let opened = try ReservationVoucher.open(hex(vector.envelope_hex))
        #expect(opened.voucher.relay == (try PeerID(vector.relay)))
        #expect(opened.voucher.peer == (try PeerID(vector.peer)))
        #expect(opened.voucher.expiration == vector.expiration)
    }

    @Test func sealsAndOpensUnderBothConventions() throws {
        let key = try PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32))
        let record = PeerRecord(
            peerID: key.peerID, seq: 42,
            addresses: [try Multiaddr("/ip4/198.51.100.1/tcp/4001"), try Multiaddr("/ip6/::1/udp/1/quic-v1")])
        for convention in [PeerRecord.Convention.goLibp2p, .rfc0003] {
            let envelope = try record.seal(with: key, convention: convention)
            #expect(envelope.payloadType == convention.payloadType)
            let opened = try PeerRecord.open(envelope.encoded)
            #expect(opened.record == record)
        }
        // A domain/type pair matching neither convention is refused.
        let other = try SignedEnvelope.seal(payload: record.payload, payloadType: [0x03, 0x01], domain: "something-else", key: key)
        #expect(throws: EnvelopeError.invalidSignature) { try PeerRecord.open(other.encoded) }
    }

    @Test func refusesARecordSignedByAnotherPeer() throws {
        let key = try PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32))
        let impostor = try PrivateKey(ed25519Seed: [UInt8](repeating: 10, count: 32))
        let record = PeerRecord(peerID: key.peerID, seq: 1, addresses: [])
        let envelope = try record.seal(with: impostor)
        #expect(throws: EnvelopeError.signerMismatch) { try PeerRecord.open(envelope.encoded) }
    }

    @Test func refusesMalformedPayloads() throws {
        let key = try PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32))
        let convention = PeerRecord.Convention.goLibp2p
        // Address bytes that are not a multiaddr.
        var payload: [UInt8] = [0x0A, UInt8(key.peerID.bytes.count)] + key.peerID.bytes
        payload += [0x1A, 0x04, 0x0A, 0x02, 0xFF, 0xFF]
        let envelope = try SignedEnvelope.seal(
            payload: payload, payloadType: convention.payloadType, domain: convention.domain, key: key)
        #expect(throws: EnvelopeError.malformedPayload) { try PeerRecord.open(envelope.encoded) }
        // Too many addresses.
        let many = PeerRecord(
            peerID: key.peerID, seq: 1,
            addresses: Array(repeating: try Multiaddr("/ip4/1.2.3.4/tcp/1"), count: PeerRecord.maximumAddressCount + 1))
        #expect(throws: EnvelopeError.malformedPayload) { try PeerRecord.open(try many.seal(with: key).encoded) }
    }
}
