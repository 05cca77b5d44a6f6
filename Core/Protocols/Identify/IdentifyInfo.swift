import FoundationEssentials
import SwiftProtobuf

/// What a peer tells another about itself with identify (`/ipfs/id/1.0.0`) and identify
/// push (`/ipfs/id/push/1.0.0`): the `Identify` protobuf of go-libp2p, field 8 included.
///
/// Absent fields are `nil` (or empty lists): a push may carry only what changed. A decoded
/// value has passed `IdentifyLimits`, and its signed peer record is verified and names the
/// peer of `publicKey`.
public struct IdentifyInfo: Equatable, Sendable {
    /// The sender's public key (its peer ID).
    public var publicKey: PublicKey?
    /// The addresses the sender listens on. Entries that do not decode are skipped, as
    /// go-libp2p skips them.
    public var listenAddresses: [Multiaddr]
    /// The protocols the sender accepts streams for.
    public var protocols: [String]
    /// The receiver's address as the sender sees it (`nil` when absent, empty or invalid).
    public var observedAddress: Multiaddr?
    /// The protocol family, such as `ipfs/0.1.0`.
    public var protocolVersion: String?
    /// The implementation, such as `traverse/0.1.0`.
    public var agentVersion: String?
    /// The sender's signed peer record, verified.
    public var signedPeerRecord: SignedPeerRecord?

    /// Information with the given fields.
    public init(
        publicKey: PublicKey?, listenAddresses: [Multiaddr] = [], protocols: [String] = [],
        observedAddress: Multiaddr? = nil, protocolVersion: String? = nil, agentVersion: String? = nil,
        signedPeerRecord: SignedPeerRecord? = nil
    ) {
        self.publicKey = publicKey
        self.listenAddresses = listenAddresses
        self.protocols = protocols
        self.observedAddress = observedAddress
        self.protocolVersion = protocolVersion
        self.agentVersion = agentVersion
        self.signedPeerRecord = signedPeerRecord
    }

    /// The size above which go-libp2p moves the signed peer record into a second part
    /// (older peers read at most 2 KiB per message).
    static let legacyMessageLength = 2048

    /// Appends the framed message: one length-prefixed part, or, like go-libp2p, when the
    /// message is over 2 KiB and carries a signed peer record, two (everything else, then the
    /// record alone).
    ///
    /// - Throws: `IdentifyUsageError.messageTooLong` if a part would exceed
    ///   `maximumPartLength` (8 KiB by default, what peers accept); `buffer` is unchanged.
    public func encode(into buffer: inout [UInt8], maximumPartLength: Int = 8192) throws(IdentifyUsageError) {
        let whole = serialized(protobufMessage)
        var parts = [whole]
        if whole.count > Self.legacyMessageLength, let signedPeerRecord {
            var withoutRecord = protobufMessage
            withoutRecord.clearSignedPeerRecord()
            var recordOnly = Identify_Pb_Identify()
            recordOnly.signedPeerRecord = Data(signedPeerRecord.encoded)
            parts = [serialized(withoutRecord), serialized(recordOnly)]
        }
        for part in parts where part.count > maximumPartLength {
            throw .messageTooLong(length: part.count, maximum: maximumPartLength)
        }
        for part in parts { LengthPrefixedMessage.encode(part, into: &buffer) }
    }

    /// The message as one `Identify` protobuf (unframed).
    public var encodedMessage: [UInt8] { serialized(protobufMessage) }

    var protobufMessage: Identify_Pb_Identify {
        var message = Identify_Pb_Identify()
        if let publicKey { message.publicKey = Data(publicKey.protobufEncoding) }
        message.listenAddrs = listenAddresses.map { Data($0.bytes) }
        message.protocols = protocols
        if let observedAddress { message.observedAddr = Data(observedAddress.bytes) }
        if let protocolVersion { message.protocolVersion = protocolVersion }
        if let agentVersion { message.agentVersion = agentVersion }
        if let signedPeerRecord { message.signedPeerRecord = Data(signedPeerRecord.encoded) }
        return message
    }

    private func serialized(_ message: Identify_Pb_Identify) -> [UInt8] { message.encodedBytes }
}

extension Identify_Pb_Identify {
    /// The protobuf encoding (Identify has no required fields, so encoding cannot fail).
    var encodedBytes: [UInt8] { (try? serializedBytes()) ?? [] }

    /// Decodes one `Identify` protobuf, or `nil` when the bytes are not one.
    init?(decoding bytes: [UInt8]) {
        guard let message = try? Identify_Pb_Identify(serializedBytes: bytes) else { return nil }
        self = message
    }
}
