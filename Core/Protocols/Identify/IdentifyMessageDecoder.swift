import FoundationEssentials
import SwiftProtobuf

/// Reads an identify message from a stream: length-prefixed `Identify` parts until the end
/// of the stream, merged as protobuf merges them (later scalars win, lists concatenate), as
/// go-libp2p sends a large message in two parts.
///
/// Everything is bounded by `IdentifyLimits`: each part's length is checked from its prefix
/// before it is buffered, and the part count, total length and list lengths as parts arrive.
public struct IdentifyMessageDecoder: Sendable {
    /// The bounds applied.
    public let limits: IdentifyLimits
    private var reader: LengthPrefixedReader
    private var merged = Identify_Pb_Identify()
    /// Parts merged so far.
    public private(set) var partCount = 0
    /// Bytes taken so far, prefixes included.
    public private(set) var totalByteCount = 0

    /// A decoder with `limits` (a negative limit counts as 0).
    public init(limits: IdentifyLimits = .init()) {
        self.limits = limits
        reader = LengthPrefixedReader(maximumMessageLength: max(0, limits.maximumPartLength))
    }

    /// Bytes held for a part whose end has not arrived.
    public var bufferedByteCount: Int { reader.bufferedByteCount }

    /// Takes bytes from the stream and merges every part they complete. After an error the
    /// decoder is done: the caller resets the stream.
    public mutating func append(_ bytes: Span<UInt8>) throws(IdentifyError) {
        let (total, overflow) = totalByteCount.addingReportingOverflow(bytes.count)
        guard !overflow, total <= limits.maximumTotalLength else {
            throw .tooLong(maximum: limits.maximumTotalLength)
        }
        totalByteCount = total
        reader.append(bytes)
        while true {
            let part: [UInt8]?
            do {
                part = try reader.nextMessage()
            } catch {
                switch error {
                case .tooLong(let length, let maximum): throw .partTooLong(length: length, maximum: maximum)
                case .malformedLength: throw .malformedLength
                }
            }
            guard let part else { return }
            try merge(part)
        }
    }

    /// The end of the stream: the merged message, checked and converted. No part at all
    /// gives an empty message, as go-libp2p reads it.
    public func finish() throws(IdentifyError) -> IdentifyInfo {
        guard reader.bufferedByteCount == 0 else { throw .truncated(bufferedBytes: reader.bufferedByteCount) }
        return try IdentifyInfo(checking: merged, limits: limits)
    }

    /// Decodes a whole stream's bytes (every part, then the end of the stream).
    public static func decode(_ bytes: Span<UInt8>, limits: IdentifyLimits = .init()) throws(IdentifyError) -> IdentifyInfo {
        var decoder = IdentifyMessageDecoder(limits: limits)
        try decoder.append(bytes)
        return try decoder.finish()
    }

    private mutating func merge(_ part: [UInt8]) throws(IdentifyError) {
        guard partCount < limits.maximumParts else { throw .tooManyParts(maximum: limits.maximumParts) }
        partCount += 1
        do {
            try merged.merge(serializedBytes: part)
        } catch {
            throw .malformedMessage
        }
        guard merged.protocols.count <= limits.maximumProtocols else {
            throw .tooManyProtocols(count: merged.protocols.count, maximum: limits.maximumProtocols)
        }
        guard merged.listenAddrs.count <= limits.maximumListenAddresses else {
            throw .tooManyAddresses(count: merged.listenAddrs.count, maximum: limits.maximumListenAddresses)
        }
    }
}

extension IdentifyInfo {
    /// Converts a merged message, applying `limits` and verifying the signed peer record.
    init(checking message: Identify_Pb_Identify, limits: IdentifyLimits) throws(IdentifyError) {
        guard message.protocols.count <= limits.maximumProtocols else {
            throw .tooManyProtocols(count: message.protocols.count, maximum: limits.maximumProtocols)
        }
        guard message.listenAddrs.count <= limits.maximumListenAddresses else {
            throw .tooManyAddresses(count: message.listenAddrs.count, maximum: limits.maximumListenAddresses)
        }
        func checked(_ text: String) throws(IdentifyError) -> String {
            let length = text.utf8.count
            guard length <= limits.maximumStringLength else {
                throw .stringTooLong(length: length, maximum: limits.maximumStringLength)
            }
            return text
        }
        var publicKey: PublicKey?
        if message.hasPublicKey {
            do {
                publicKey = try PublicKey(protobufEncoding: [UInt8](message.publicKey))
            } catch {
                throw .invalidPublicKey(error)
            }
        }
        var protocols: [String] = []
        protocols.reserveCapacity(message.protocols.count)
        for name in message.protocols { protocols.append(try checked(name)) }
        let protocolVersion = message.hasProtocolVersion ? try checked(message.protocolVersion) : nil
        let agentVersion = message.hasAgentVersion ? try checked(message.agentVersion) : nil
        // Addresses that do not decode are skipped, not fatal (go-libp2p does the same).
        let listenAddresses = message.listenAddrs.compactMap { try? Multiaddr(bytes: [UInt8]($0)) }
        var observedAddress: Multiaddr?
        if message.hasObservedAddr && !message.observedAddr.isEmpty {
            observedAddress = try? Multiaddr(bytes: [UInt8](message.observedAddr))
        }
        var signedPeerRecord: SignedPeerRecord?
        if message.hasSignedPeerRecord && !message.signedPeerRecord.isEmpty {
            do {
                signedPeerRecord = try SignedPeerRecord(opening: [UInt8](message.signedPeerRecord))
            } catch {
                throw .invalidSignedPeerRecord(error)
            }
        }
        if let signedPeerRecord, let publicKey, signedPeerRecord.record.peerID != publicKey.peerID {
            throw .peerRecordMismatch
        }
        self.init(
            publicKey: publicKey, listenAddresses: listenAddresses, protocols: protocols,
            observedAddress: observedAddress, protocolVersion: protocolVersion, agentVersion: agentVersion,
            signedPeerRecord: signedPeerRecord)
    }
}
