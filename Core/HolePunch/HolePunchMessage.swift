import FoundationEssentials
import SwiftProtobuf

/// A message of DCUtR (`/libp2p/dcutr`, `shared/specs/relay/DCUtR.md`): the `HolePunch`
/// protobuf, framed as `uvarint(length) ‖ protobuf` on the stream.
///
/// Decoding keeps the addresses of a CONNECT that can matter for a direct connection: an
/// entry that is not a valid binary multiaddr, or that goes through a relay
/// (`/p2p-circuit`), is dropped (go-libp2p drops them too), and at most
/// `HolePunchLimits.maximumAddresses` are kept, in the peer's order. Neither is an error:
/// a peer with one odd address can still be hole punched.
public enum HolePunchMessage: Hashable, Sendable {
    /// `CONNECT`: the sender's observed (and possibly predicted) addresses.
    case connect(addresses: [Multiaddr])
    /// `SYNC`: the initiator's signal to start the simultaneous open.
    case sync

    /// The message's type, for errors and logs.
    public var type: HolePunchMessageType {
        switch self {
        case .connect: .connect
        case .sync: .sync
        }
    }

    /// Appends the length-prefixed protobuf encoding to `buffer`.
    ///
    /// A CONNECT is encoded with the addresses `HolePunchLimits.fitting(_:)` keeps, so the
    /// message always fits the peer's 4 KiB limit.
    public func encode(into buffer: inout [UInt8]) {
        var message = Holepunch_Pb_HolePunch()
        switch self {
        case .connect(let addresses):
            message.type = .connect
            message.obsAddrs = HolePunchLimits.fitting(addresses).map { Data($0.bytes) }
        case .sync:
            message.type = .sync
        }
        let payload: [UInt8] = (try? message.serializedBytes()) ?? []
        LengthPrefixedMessage.encode(payload, into: &buffer)
    }

    /// The length-prefixed encoding as a new array.
    public var encoded: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// Decodes one message's protobuf bytes (without the length prefix).
    ///
    /// - Throws: `tooLong` past `HolePunchLimits.maximumMessageLength`, `malformedProtobuf`,
    ///   `missingType` for a message without a type or with one the spec does not define.
    ///   Addresses are filtered as the type's documentation says, never an error.
    public init(payload: Span<UInt8>) throws(HolePunchMessageError) {
        guard payload.count <= HolePunchLimits.maximumMessageLength else {
            throw .tooLong(length: UInt64(payload.count), maximum: HolePunchLimits.maximumMessageLength)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count)
        for index in payload.indices { bytes.append(payload[index]) }
        let message: Holepunch_Pb_HolePunch
        do {
            message = try Holepunch_Pb_HolePunch(serializedBytes: bytes, partial: true)
        } catch {
            throw .malformedProtobuf
        }
        // proto2 enums are closed: an unknown type lands in the unknown fields, not `type`.
        guard message.hasType else { throw .missingType }
        switch message.type {
        case .connect:
            self = .connect(addresses: Self.decodeAddresses(message.obsAddrs))
        case .sync:
            self = .sync
        }
    }

    /// Decodes one message's protobuf bytes (without the length prefix).
    public init(payload: [UInt8]) throws(HolePunchMessageError) {
        try self.init(payload: payload.span)
    }

    /// The entries that are valid, non-relayed multiaddrs, in order, at most
    /// `HolePunchLimits.maximumAddresses`.
    static func decodeAddresses(_ entries: [Data]) -> [Multiaddr] {
        var addresses: [Multiaddr] = []
        for entry in entries {
            guard addresses.count < HolePunchLimits.maximumAddresses else { break }
            guard let address = try? Multiaddr(bytes: [UInt8](entry)), !address.isCircuit else { continue }
            addresses.append(address)
        }
        return addresses
    }
}

/// The two types of DCUtR message.
public enum HolePunchMessageType: Hashable, Sendable, CustomStringConvertible {
    /// `CONNECT` (100).
    case connect
    /// `SYNC` (300).
    case sync

    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .sync: "SYNC"
        }
    }
}

/// The limits of DCUtR messages.
public enum HolePunchLimits {
    /// The largest message accepted or sent (its protobuf bytes, after the length prefix):
    /// 4 KiB, what the spec recommends and go-libp2p's `maxMsgSize`.
    public static let maximumMessageLength = 4096
    /// The most addresses kept from a CONNECT, and sent in one. Hosts with many interfaces
    /// and transports advertise a few dozen; the hole punch dials only a handful of them.
    public static let maximumAddresses = 24

    /// The first of `addresses` that are not relayed, at most `maximumAddresses`, and
    /// together small enough for a CONNECT within `maximumMessageLength`.
    public static func fitting(_ addresses: [Multiaddr]) -> [Multiaddr] {
        var kept: [Multiaddr] = []
        // Field 1 (type CONNECT = 100) takes 2 bytes; each address 1 byte of tag, its
        // length's varint and its bytes.
        var size = 2
        for address in addresses where !address.isCircuit && !address.isEmpty {
            guard kept.count < maximumAddresses else { break }
            let entry = 1 + Varint.encodedLength(UInt64(address.bytes.count)) + address.bytes.count
            guard size + entry <= maximumMessageLength else { break }
            size += entry
            kept.append(address)
        }
        return kept
    }
}

/// Why a DCUtR message could not be read: a violation by the peer.
public enum HolePunchMessageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The length prefix declares more than `HolePunchLimits.maximumMessageLength` bytes.
    case tooLong(length: UInt64, maximum: Int)
    /// The length prefix is not a valid varint.
    case malformedLength
    /// The bytes are not a `HolePunch` protobuf.
    case malformedProtobuf
    /// The message has no type, or one the spec does not define.
    case missingType

    public var description: String {
        switch self {
        case .tooLong(let length, let maximum): "message of \(length) bytes exceeds the limit of \(maximum)"
        case .malformedLength: "malformed length prefix"
        case .malformedProtobuf: "malformed HolePunch protobuf"
        case .missingType: "message without a known type"
        }
    }
}

/// Reads length-prefixed DCUtR messages from a stream's bytes, one at a time.
///
/// It holds what the owner hands it until the messages in it are taken; a declared length
/// past the limit is refused as soon as its prefix is read, so an incomplete message never
/// holds more than `HolePunchLimits.maximumMessageLength` plus its prefix.
public struct HolePunchMessageReader: Sendable {
    private var reader = LengthPrefixedReader(maximumMessageLength: HolePunchLimits.maximumMessageLength)

    /// An empty reader.
    public init() {}

    /// Bytes held that are not part of a returned message.
    public var bufferedByteCount: Int { reader.bufferedByteCount }

    /// Adds received bytes; take the messages with `next()`.
    public mutating func append(_ bytes: Span<UInt8>) {
        reader.append(bytes)
    }

    /// The next complete message, or `nil` when more bytes are needed. After an error the
    /// stream is beyond repair: the owner fails it.
    public mutating func next() throws(HolePunchMessageError) -> HolePunchMessage? {
        let payload: [UInt8]?
        do {
            payload = try reader.nextMessage()
        } catch {
            switch error {
            case .tooLong(let length, let maximum): throw .tooLong(length: length, maximum: maximum)
            case .malformedLength: throw .malformedLength
            }
        }
        guard let payload else { return nil }
        return try HolePunchMessage(payload: payload)
    }

    /// Drops everything held (once the exchange is over).
    public mutating func removeAll() {
        _ = reader.takeRemainingBytes()
    }
}
