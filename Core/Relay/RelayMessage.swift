import FoundationEssentials
import SwiftProtobuf

/// Constants of the circuit relay v2 message framing: each `HopMessage` and `StopMessage`
/// travels as one `uvarint(length) ‖ protobuf` message.
public enum RelayMessage {
    /// The largest message accepted (its protobuf bytes, after the length prefix): 4 KiB,
    /// go-libp2p's `maxMessageSize`. A reservation with a dozen addresses and an Ed25519
    /// voucher is about 700 bytes; an RSA voucher about 1 KiB.
    public static let maximumLength = 4096

    static func copy(_ bytes: Span<UInt8>) -> [UInt8] {
        var array: [UInt8] = []
        array.reserveCapacity(bytes.count)
        for index in bytes.indices { array.append(bytes[index]) }
        return array
    }

    /// Parses one message's protobuf bytes within the size limit.
    static func protobuf<Message: SwiftProtobuf.Message>(
        _ payload: Span<UInt8>, as type: Message.Type
    ) throws(RelayMessageError) -> Message {
        guard payload.count <= maximumLength else {
            throw .tooLong(length: UInt64(payload.count), maximum: maximumLength)
        }
        do {
            return try Message(serializedBytes: copy(payload), partial: true)
        } catch {
            throw .malformedProtobuf
        }
    }

    /// Frames a message's protobuf bytes with their length.
    static func frame(_ message: some SwiftProtobuf.Message, into buffer: inout [UInt8]) {
        let payload: [UInt8] = (try? message.serializedBytes()) ?? []
        LengthPrefixedMessage.encode(payload, into: &buffer)
    }
}

/// A relay message that can be framed for the wire.
public protocol RelayWireMessage {
    /// Appends the length-prefixed encoding.
    func encode(into buffer: inout [UInt8])
}

extension RelayWireMessage {
    /// The length-prefixed encoding as a new array.
    public var encoded: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }
}

/// A peer in a relay message (`Peer`): its ID and, rarely, addresses.
public struct RelayPeerInfo: Hashable, Sendable {
    /// The peer's ID.
    public var id: PeerID
    /// Addresses of the peer. Only "active relay" (deprecated by the spec) uses them;
    /// entries that do not decode are skipped, as go-libp2p skips them.
    public var addresses: [Multiaddr]

    /// A peer `id` with `addresses`.
    public init(id: PeerID, addresses: [Multiaddr] = []) {
        self.id = id
        self.addresses = addresses
    }

    var protobuf: Circuit_Pb_Peer {
        var peer = Circuit_Pb_Peer()
        peer.id = Data(id.bytes)
        peer.addrs = addresses.map { Data($0.bytes) }
        return peer
    }

    init(_ protobuf: Circuit_Pb_Peer) throws(RelayMessageError) {
        guard protobuf.hasID else { throw .missingPeer }
        do {
            id = try PeerID(bytes: [UInt8](protobuf.id))
        } catch {
            throw .invalidPeerID(error)
        }
        addresses = RelayPeerInfo.decodeAddresses(protobuf.addrs)
    }

    /// The addresses that decode, in order; the others are skipped.
    static func decodeAddresses(_ encoded: [Data]) -> [Multiaddr] {
        encoded.compactMap { try? Multiaddr(bytes: [UInt8]($0)) }
    }
}

/// The reservation a relay grants (`Reservation`), as it travels.
public struct RelayReservation: Hashable, Sendable {
    /// When the reservation expires, in UNIX seconds (UTC).
    public var expiration: UInt64
    /// The relay's public addresses, with its `/p2p` ID and without `/p2p-circuit`
    /// (entries that do not decode are skipped).
    public var addresses: [Multiaddr]
    /// The encoded signed envelope of the `ReservationVoucher`, if the relay sent one.
    public var voucher: [UInt8]?

    /// A reservation until `expiration` with the relay's `addresses` and `voucher`.
    public init(expiration: UInt64, addresses: [Multiaddr], voucher: [UInt8]?) {
        self.expiration = expiration
        self.addresses = addresses
        self.voucher = voucher
    }

    var protobuf: Circuit_Pb_Reservation {
        var reservation = Circuit_Pb_Reservation()
        reservation.expire = expiration
        reservation.addrs = addresses.map { Data($0.bytes) }
        if let voucher { reservation.voucher = Data(voucher) }
        return reservation
    }

    init(_ protobuf: Circuit_Pb_Reservation) {
        expiration = protobuf.expire
        addresses = RelayPeerInfo.decodeAddresses(protobuf.addrs)
        voucher = protobuf.hasVoucher ? [UInt8](protobuf.voucher) : nil
    }
}

/// A message of the hop protocol (`/libp2p/circuit/relay/0.2.0/hop`).
public enum RelayHopMessage: Hashable, Sendable, RelayWireMessage {
    /// A client asks the relay for a reservation.
    case reserve
    /// A client asks the relay for a circuit to `peer`.
    case connect(peer: RelayPeerInfo)
    /// The relay's answer; `reservation` and `limit` accompany `OK`.
    case status(RelayStatus, reservation: RelayReservation? = nil, limit: CircuitLimit? = nil)

    /// Appends the length-prefixed protobuf encoding to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        var message = Circuit_Pb_HopMessage()
        switch self {
        case .reserve:
            message.type = .reserve
        case .connect(let peer):
            message.type = .connect
            message.peer = peer.protobuf
        case .status(let status, let reservation, let limit):
            message.type = .status
            message.status = status.protobuf
            if let reservation { message.reservation = reservation.protobuf }
            if let limit { message.limit = limit.protobuf }
        }
        RelayMessage.frame(message, into: &buffer)
    }

    /// Decodes one message's protobuf bytes (without the length prefix). Unknown fields are
    /// ignored; a missing type, a CONNECT without a valid peer, or a STATUS without a known
    /// status are errors.
    public init(payload: Span<UInt8>) throws(RelayMessageError) {
        let message = try RelayMessage.protobuf(payload, as: Circuit_Pb_HopMessage.self)
        guard message.hasType else { throw .missingType }
        switch message.type {
        case .reserve:
            self = .reserve
        case .connect:
            guard message.hasPeer else { throw .missingPeer }
            self = .connect(peer: try RelayPeerInfo(message.peer))
        case .status:
            guard message.hasStatus, let status = RelayStatus(message.status) else { throw .missingStatus }
            self = .status(
                status,
                reservation: message.hasReservation ? RelayReservation(message.reservation) : nil,
                limit: message.hasLimit ? CircuitLimit(message.limit) : nil)
        case .UNRECOGNIZED:
            throw .missingType
        }
    }

    /// Decodes one message's protobuf bytes (without the length prefix).
    public init(payload: [UInt8]) throws(RelayMessageError) {
        try self.init(payload: payload.span)
    }
}

/// A message of the stop protocol (`/libp2p/circuit/relay/0.2.0/stop`).
public enum RelayStopMessage: Hashable, Sendable, RelayWireMessage {
    /// The relay tells the target that `peer` connects through it, under `limit`.
    case connect(peer: RelayPeerInfo, limit: CircuitLimit? = nil)
    /// The target's answer.
    case status(RelayStatus)

    /// Appends the length-prefixed protobuf encoding to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        var message = Circuit_Pb_StopMessage()
        switch self {
        case .connect(let peer, let limit):
            message.type = .connect
            message.peer = peer.protobuf
            if let limit { message.limit = limit.protobuf }
        case .status(let status):
            message.type = .status
            message.status = status.protobuf
        }
        RelayMessage.frame(message, into: &buffer)
    }

    /// Decodes one message's protobuf bytes (without the length prefix).
    public init(payload: Span<UInt8>) throws(RelayMessageError) {
        let message = try RelayMessage.protobuf(payload, as: Circuit_Pb_StopMessage.self)
        guard message.hasType else { throw .missingType }
        switch message.type {
        case .connect:
            guard message.hasPeer else { throw .missingPeer }
            self = .connect(
                peer: try RelayPeerInfo(message.peer),
                limit: message.hasLimit ? CircuitLimit(message.limit) : nil)
        case .status:
            guard message.hasStatus, let status = RelayStatus(message.status) else { throw .missingStatus }
            self = .status(status)
        case .UNRECOGNIZED:
            throw .missingType
        }
    }

    /// Decodes one message's protobuf bytes (without the length prefix).
    public init(payload: [UInt8]) throws(RelayMessageError) {
        try self.init(payload: payload.span)
    }
}

/// Why a relay message could not be read: a violation by the peer.
public enum RelayMessageError: Error, Hashable, Sendable {
    /// The length prefix declares more than `RelayMessage.maximumLength` bytes.
    case tooLong(length: UInt64, maximum: Int)
    /// The length prefix is not a valid varint.
    case malformedLength
    /// The bytes are not the message's protobuf.
    case malformedProtobuf
    /// The message has no (known) type.
    case missingType
    /// A CONNECT without its peer.
    case missingPeer
    /// The peer ID in a CONNECT does not decode.
    case invalidPeerID(PeerIDError)
    /// A STATUS without a status, or with one the spec does not define.
    case missingStatus
    /// The stream ended inside a message.
    case truncated(bufferedBytes: Int)
    /// More than the allowed bytes followed the message before it was answered.
    case trailingBytesExceeded(maximum: Int)
}

/// Reads the one length-prefixed relay message at the start of a stream and keeps the bytes
/// after it (the start of the relayed connection once a STATUS OK was exchanged).
///
/// It holds at most one message plus `maximumTrailingBytes`; a peer that sends more before
/// the message was handled is refused with `trailingBytesExceeded`.
public struct RelayMessageReader: Sendable {
    private var reader = LengthPrefixedReader(maximumMessageLength: RelayMessage.maximumLength)
    private var message: [UInt8]?
    private var failed = false

    /// How many bytes after the message are held for the owner.
    public let maximumTrailingBytes: Int

    /// A reader holding at most `maximumTrailingBytes` after the message (4 KiB by default).
    public init(maximumTrailingBytes: Int = RelayMessage.maximumLength) {
        self.maximumTrailingBytes = max(0, maximumTrailingBytes)
    }

    /// Bytes held that are not part of a returned message.
    public var bufferedByteCount: Int { reader.bufferedByteCount }

    /// How many more bytes `append` takes without exceeding its bounds (before the message
    /// is complete the message limit applies instead, so this is generous).
    public var capacity: Int {
        if message == nil { return RelayMessage.maximumLength + 10 + maximumTrailingBytes - reader.bufferedByteCount }
        return max(0, maximumTrailingBytes - reader.bufferedByteCount)
    }

    /// Adds bytes; returns the message's protobuf bytes once complete (once only), `nil`
    /// while more are needed or after the message was returned.
    ///
    /// - Throws: `RelayMessageError` for an oversized or malformed length, or when more than
    ///   `maximumTrailingBytes` follow the message.
    public mutating func append(_ bytes: Span<UInt8>) throws(RelayMessageError) -> [UInt8]? {
        guard !failed else { return nil }
        reader.append(bytes)
        if message != nil {
            guard reader.bufferedByteCount <= maximumTrailingBytes else {
                failed = true
                throw .trailingBytesExceeded(maximum: maximumTrailingBytes)
            }
            return nil
        }
        let next: [UInt8]?
        do {
            next = try reader.nextMessage()
        } catch {
            failed = true
            switch error {
            case .tooLong(let length, let maximum): throw .tooLong(length: length, maximum: maximum)
            case .malformedLength: throw .malformedLength
            }
        }
        guard let next else {
            // Prefix plus the largest message: anything beyond is rejected by the prefix.
            return nil
        }
        message = next
        guard reader.bufferedByteCount <= maximumTrailingBytes else {
            failed = true
            throw .trailingBytesExceeded(maximum: maximumTrailingBytes)
        }
        return next
    }

    /// The bytes received after the message, handed over once.
    public mutating func takeTrailingBytes() -> [UInt8] {
        reader.takeRemainingBytes()
    }
}
