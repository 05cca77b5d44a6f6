import Testing
@testable import TraverseCore

@Suite struct SignedEnvelopeTests {
    static func key(_ seed: UInt8) throws -> PrivateKey {
        try PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32))
    }

    @Test func sealThenOpen() throws {
        let key = try Self.key(1)
        let envelope = try SignedEnvelope.seal(
            payload: [1, 2, 3], payloadType: [0x03, 0x99], domain: "traverse-test", key: key)
        let opened = try SignedEnvelope.open(envelope.encoded, domain: "traverse-test", expectedPayloadType: [0x03, 0x99])
        #expect(opened == envelope)
        #expect(opened.signer.peerID == key.peerID)
        #expect(opened.payload == [1, 2, 3])
    }

    @Test func signatureCoversDomainTypeAndPayload() throws {
        let key = try Self.key(2)
        let envelope = try SignedEnvelope.seal(payload: [9], payloadType: [1], domain: "a", key: key)
        // The signature input is the spec's: varint-prefixed domain, type and payload.
        #expect(SignedEnvelope.signatureInput(domain: "a", payloadType: [1], payload: [9]) == [1, 0x61, 1, 1, 1, 9])
        #expect(throws: EnvelopeError.invalidSignature) { try SignedEnvelope.open(envelope.encoded, domain: "b") }
        #expect(throws: EnvelopeError.unexpectedPayloadType([1])) {
            try SignedEnvelope.open(envelope.encoded, domain: "a", expectedPayloadType: [2])
        }
        let forged = SignedEnvelope(signer: envelope.signer, payloadType: [1], payload: [8], signature: envelope.signature)
        #expect(throws: EnvelopeError.invalidSignature) { try SignedEnvelope.open(forged.encoded, domain: "a") }
        let otherSigner = SignedEnvelope(
            signer: try Self.key(3).publicKey, payloadType: [1], payload: [9], signature: envelope.signature)
        #expect(throws: EnvelopeError.invalidSignature) { try SignedEnvelope.open(otherSigner.encoded, domain: "a") }
    }

    @Test func rejectsMalformedEnvelopes() throws {
        #expect(throws: EnvelopeError.malformed) { try SignedEnvelope.open([0x0A, 0x05, 0x01], domain: "a") }
        #expect(throws: EnvelopeError.missingPublicKey) { try SignedEnvelope.open([0x1A, 0x01, 0x00], domain: "a") }
        #expect(throws: EnvelopeError.tooLong(9000)) {
            try SignedEnvelope.open([UInt8](repeating: 0, count: 9000), domain: "a")
        }
        // A public key field holding an invalid Ed25519 key (3 bytes).
        let badKey: [UInt8] = [0x0A, 0x07, 0x08, 0x01, 0x12, 0x03, 1, 2, 3]
        #expect(throws: EnvelopeError.invalidPublicKey(.invalidKeyData(.ed25519))) {
            try SignedEnvelope.open(badKey, domain: "a")
        }
    }

    @Test func envelopesSignedWithEveryKeyType() throws {
        for vector in try TestVectors.keyEncodings().vectors where vector.key.contains("private") {
            let key = try PrivateKey(protobufEncoding: hex(vector.protobuf_hex))
            let envelope = try SignedEnvelope.seal(payload: [7, 7], payloadType: [0x03, 0x01], domain: "d", key: key)
            let opened = try SignedEnvelope.open(envelope.encoded, domain: "d")
            #expect(opened.signer == key.publicKey, "\(key.type)")
        }
    }
}

@Suite struct ReservationVoucherTests {
    @Test func sealOpenAndCheckTheRelay() throws {
        let relayKey = try PrivateKey(ed25519Seed: [UInt8](repeating: 4, count: 32))
        let peer = try PrivateKey(ed25519Seed: [UInt8](repeating: 5, count: 32)).peerID
        let voucher = ReservationVoucher(relay: relayKey.peerID, peer: peer, expiration: 1_790_000_000)
        let envelope = try voucher.seal(with: relayKey)
        #expect(envelope.payloadType == [0x03, 0x02])
        let opened = try ReservationVoucher.open(envelope.encoded)
        #expect(opened.voucher == voucher)

        // Payload layout: relay = 1, peer = 2, expiration = 3, in field order.
        let payload = voucher.payload
        #expect(payload.first == 0x0A)
        #expect(payload[2 + relayKey.peerID.bytes.count] == 0x12)

        // Signed by a key other than the relay it names.
        let impostor = try PrivateKey(ed25519Seed: [UInt8](repeating: 6, count: 32))
        let forged = try SignedEnvelope.seal(
            payload: payload, payloadType: ReservationVoucher.payloadType, domain: ReservationVoucher.domain, key: impostor)
        #expect(throws: EnvelopeError.signerMismatch) { try ReservationVoucher.open(forged.encoded) }

        // Right relay, wrong domain.
        let wrongDomain = try SignedEnvelope.seal(
            payload: payload, payloadType: ReservationVoucher.payloadType, domain: "libp2p-peer-record", key: relayKey)
        #expect(throws: EnvelopeError.invalidSignature) { try ReservationVoucher.open(wrongDomain.encoded) }

        // The uvarint form of 0x0302 (82 06) is not what go-libp2p writes.
        let varintType = try SignedEnvelope.seal(
            payload: payload, payloadType: [0x82, 0x06], domain: ReservationVoucher.domain, key: relayKey)
        #expect(throws: EnvelopeError.unexpectedPayloadType([0x82, 0x06])) { try ReservationVoucher.open(varintType.encoded) }

        // A payload whose peer field is not a peer ID.
        let garbage = try SignedEnvelope.seal(
            payload: [0x0A, 0x02, 0xFF, 0xFF], payloadType: ReservationVoucher.payloadType,
            domain: ReservationVoucher.domain, key: relayKey)
        #expect(throws: EnvelopeError.malformedPayload) { try ReservationVoucher.open(garbage.encoded) }
    }
}
