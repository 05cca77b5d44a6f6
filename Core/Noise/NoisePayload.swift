import FoundationEssentials
import SwiftProtobuf

/// The libp2p handshake payload (`NoiseHandshakePayload`) carried in XX messages 2 and 3:
/// the sender's identity key, its signature over the sender's Noise static key, and the
/// extensions (the muxers it supports).
struct NoisePayload: Sendable {
    /// The prefix of the signed message: `"noise-libp2p-static-key:"`.
    static let signaturePrefix: [UInt8] = Array("noise-libp2p-static-key:".utf8)
    /// The longest signature any key type makes (an 8192-bit RSA key's is 1024 bytes).
    static let maximumSignatureLength = 1024
    /// How many muxer names a payload may list.
    static let maximumMuxerCount = 64
    /// The longest muxer name (rust-libp2p caps protocol names at 140 bytes).
    static let maximumMuxerNameLength = 1024

    let identityKey: PublicKey
    let streamMuxers: [String]

    /// `"noise-libp2p-static-key:" ‖ staticKey`: what the identity key signs.
    static func signedMessage(staticKey: [UInt8]) -> [UInt8] {
        signaturePrefix + staticKey
    }

    /// The serialized payload for `identity`, listing `muxers` when there are any.
    static func encode(identity: NoiseIdentity, muxers: [String]) -> [UInt8] {
        var message = Pb_NoiseHandshakePayload()
        message.identityKey = Data(identity.encodedPublicKey)
        message.identitySig = Data(identity.staticKeySignature)
        if !muxers.isEmpty {
            var extensions = Pb_NoiseExtensions()
            extensions.streamMuxers = muxers
            message.extensions = extensions
        }
        // Serialising a message with only bytes and strings set cannot fail.
        return (try? message.serializedBytes()) ?? []
    }

    /// Decodes `bytes` and checks that the identity key signed `remoteStaticKey`.
    init(decoding bytes: [UInt8], remoteStaticKey: [UInt8]) throws(NoiseError) {
        let message: Pb_NoiseHandshakePayload
        do {
            message = try Pb_NoiseHandshakePayload(serializedBytes: bytes)
        } catch {
            throw .malformedPayload
        }
        guard message.hasIdentityKey, !message.identityKey.isEmpty else { throw .missingIdentityKey }
        guard message.hasIdentitySig, !message.identitySig.isEmpty,
              message.identitySig.count <= Self.maximumSignatureLength
        else { throw .missingSignature }
        let key: PublicKey
        do {
            key = try PublicKey(protobufEncoding: [UInt8](message.identityKey))
        } catch {
            throw .invalidIdentityKey(error)
        }
        let signed = Self.signedMessage(staticKey: remoteStaticKey)
        guard key.verify(signature: [UInt8](message.identitySig), for: signed) else { throw .invalidSignature }
        let muxers = message.extensions.streamMuxers
        guard muxers.count <= Self.maximumMuxerCount,
              muxers.allSatisfy({ $0.utf8.count <= Self.maximumMuxerNameLength })
        else { throw .malformedPayload }
        identityKey = key
        streamMuxers = muxers
    }

    /// The muxer both sides use: the first of the initiator's list that the responder also
    /// lists, or `nil` when either list is empty or they share none.
    static func negotiatedMuxer(initiator: [String], responder: [String]) -> String? {
        initiator.first { responder.contains($0) }
    }
}
