import FoundationEssentials
import SwiftProtobuf

/// A signed envelope (RFC 0002): a payload, its type, the signer's public key, and the
/// signer's signature over `domain ‖ type ‖ payload` (each prefixed by its varint length).
///
/// The domain is not carried: the receiver supplies the one it expects, so a signature made
/// for one purpose cannot be replayed for another.
public struct SignedEnvelope: Equatable, Sendable {
    /// The key that signed the envelope; its peer ID is the signer.
    public let signer: PublicKey
    /// The payload type (for libp2p records, the multicodec's bytes, e.g. `03 02`).
    public let payloadType: [UInt8]
    /// The signed payload.
    public let payload: [UInt8]
    /// The signature over the domain, type and payload.
    public let signature: [UInt8]

    /// The largest envelope `open` reads unless told otherwise (peer records and vouchers are
    /// far smaller; identify caps its whole message at 8 KiB).
    public static let defaultMaximumLength = 8192

    /// Signs `payload` as `payloadType` in `domain` with `key`.
    public static func seal(
        payload: [UInt8], payloadType: [UInt8], domain: String, key: PrivateKey
    ) throws(KeyError) -> SignedEnvelope {
        let input = signatureInput(domain: domain, payloadType: payloadType, payload: payload)
        return SignedEnvelope(
            signer: key.publicKey, payloadType: payloadType, payload: payload,
            signature: try key.sign(input))
    }

    /// Decodes an envelope and verifies its signature for `domain`.
    ///
    /// - Parameters:
    ///   - expectedPayloadType: when given, an envelope of another type is rejected.
    ///   - maximumLength: envelopes longer than this are rejected before decoding.
    public static func open(
        _ bytes: [UInt8], domain: String, expectedPayloadType: [UInt8]? = nil,
        maximumLength: Int = defaultMaximumLength
    ) throws(EnvelopeError) -> SignedEnvelope {
        guard bytes.count <= maximumLength else { throw .tooLong(bytes.count) }
        let message: Record_Pb_Envelope
        do {
            message = try Record_Pb_Envelope(serializedBytes: bytes, partial: true)
        } catch {
            throw .malformed
        }
        guard message.hasPublicKey else { throw .missingPublicKey }
        let signer: PublicKey
        do {
            signer = try PublicKey(message.publicKey)
        } catch {
            throw .invalidPublicKey(error)
        }
        let envelope = SignedEnvelope(
            signer: signer, payloadType: [UInt8](message.payloadType), payload: [UInt8](message.payload),
            signature: [UInt8](message.signature))
        if let expectedPayloadType, envelope.payloadType != expectedPayloadType {
            throw .unexpectedPayloadType(envelope.payloadType)
        }
        let input = signatureInput(domain: domain, payloadType: envelope.payloadType, payload: envelope.payload)
        guard signer.verify(signature: envelope.signature, for: input) else { throw .invalidSignature }
        return envelope
    }

    /// The protobuf encoding of the envelope.
    public var encoded: [UInt8] {
        var message = Record_Pb_Envelope()
        message.publicKey.type = Crypto_Pb_KeyType(signer.type)
        message.publicKey.data = Data(signer.data)
        message.payloadType = Data(payloadType)
        message.payload = Data(payload)
        message.signature = Data(signature)
        return (try? message.serializedBytes()) ?? []
    }

    /// `uvarint(len(domain)) ‖ domain ‖ uvarint(len(type)) ‖ type ‖ uvarint(len(payload)) ‖ payload`.
    static func signatureInput(domain: String, payloadType: [UInt8], payload: [UInt8]) -> [UInt8] {
        var input: [UInt8] = []
        input.reserveCapacity(domain.utf8.count + payloadType.count + payload.count + 12)
        LengthPrefixedMessage.encode(Array(domain.utf8), into: &input)
        LengthPrefixedMessage.encode(payloadType, into: &input)
        LengthPrefixedMessage.encode(payload, into: &input)
        return input
    }
}

/// Why an envelope could not be opened.
public enum EnvelopeError: Error, Equatable, Hashable, Sendable {
    /// The envelope is longer than the caller allows.
    case tooLong(Int)
    /// The bytes are not an `Envelope` protobuf.
    case malformed
    /// The envelope carries no public key.
    case missingPublicKey
    /// The envelope's public key is not a valid key.
    case invalidPublicKey(KeyError)
    /// The payload type is not the one the caller expects.
    case unexpectedPayloadType([UInt8])
    /// The signature does not verify for the domain, type and payload.
    case invalidSignature
    /// The payload does not decode as the expected record.
    case malformedPayload
    /// The record names a peer other than the envelope's signer.
    case signerMismatch
}
