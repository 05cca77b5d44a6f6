import FoundationEssentials
import SwiftProtobuf

/// The protocol ID of AutoNAT v1.
extension StreamProtocolID {
    /// AutoNAT v1: the client asks the server to dial it back; one DIAL, one DIAL_RESPONSE.
    public static let autoNAT = "/libp2p/autonat/1.0.0"
}

/// A status of an AutoNAT v1 `DialResponse`.
public enum AutoNATResponseStatus: Int, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A dial back succeeded: the client is reachable at the response's address.
    case ok = 0
    /// Every dial back failed.
    case dialError = 100
    /// The server would not dial (no address it may dial, rate limits, policy).
    case dialRefused = 101
    /// The request was malformed, or named another peer than the connection's.
    case badRequest = 200
    /// The server failed on its side.
    case internalError = 300

    init?(_ protobuf: Autonat_Pb_Message.ResponseStatus) {
        self.init(rawValue: protobuf.rawValue)
    }

    var protobuf: Autonat_Pb_Message.ResponseStatus {
        Autonat_Pb_Message.ResponseStatus(rawValue: rawValue) ?? .eInternalError
    }

    /// The spec's name (`OK`, `E_DIAL_ERROR`, …).
    public var description: String {
        switch self {
        case .ok: "OK"
        case .dialError: "E_DIAL_ERROR"
        case .dialRefused: "E_DIAL_REFUSED"
        case .badRequest: "E_BAD_REQUEST"
        case .internalError: "E_INTERNAL_ERROR"
        }
    }
}

/// The answer of an AutoNAT v1 server (`DialResponse`).
public struct AutoNATDialResponse: Hashable, Sendable {
    /// The outcome.
    public var status: AutoNATResponseStatus
    /// A human-readable explanation, if the server sent one.
    public var statusText: String?
    /// The address the server dialed successfully (with `OK`), if it said.
    public var address: Multiaddr?

    /// A response with `status`, `statusText` and `address`.
    public init(status: AutoNATResponseStatus, statusText: String? = nil, address: Multiaddr? = nil) {
        self.status = status
        self.statusText = statusText
        self.address = address
    }
}

/// A message of AutoNAT v1 (`/libp2p/autonat/1.0.0`), one length-prefixed protobuf
/// `Message` each, at most `maximumLength` bytes.
///
/// Decoding ignores unknown fields and skips addresses that do not decode (as go-libp2p
/// does); a missing type, peer or status, an invalid peer ID, or more than
/// `maximumAddresses` addresses are typed errors.
public enum AutoNATMessage: Hashable, Sendable {
    /// `DIAL`: the client `peer` asks to be dialed back on `addresses`.
    case dial(peer: PeerID, addresses: [Multiaddr])
    /// `DIAL_RESPONSE`: the server's answer.
    case dialResponse(AutoNATDialResponse)

    /// The largest message accepted or sent (its protobuf bytes, after the length prefix):
    /// 4 KiB, go-libp2p's `maxMsgSize`.
    public static let maximumLength = 4096
    /// The most addresses a `DIAL` may carry (before undecodable ones are skipped). A
    /// server dials at most `AutoNATServerConfiguration.maximumDialBackAddresses` of them.
    public static let maximumAddresses = 64

    /// Appends the length-prefixed protobuf encoding to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        let payload: [UInt8] = (try? protobuf.serializedBytes()) ?? []
        LengthPrefixedMessage.encode(payload, into: &buffer)
    }

    /// The length-prefixed encoding as a new array.
    public var encoded: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// The size of the protobuf bytes (without the length prefix).
    public var payloadLength: Int {
        let payload: [UInt8]? = try? protobuf.serializedBytes()
        return payload?.count ?? 0
    }

    private var protobuf: Autonat_Pb_Message {
        var message = Autonat_Pb_Message()
        switch self {
        case .dial(let peer, let addresses):
            message.type = .dial
            var info = Autonat_Pb_Message.PeerInfo()
            info.id = Data(peer.bytes)
            info.addrs = addresses.map { Data($0.bytes) }
            var dial = Autonat_Pb_Message.Dial()
            dial.peer = info
            message.dial = dial
        case .dialResponse(let response):
            message.type = .dialResponse
            var protobuf = Autonat_Pb_Message.DialResponse()
            protobuf.status = response.status.protobuf
            if let text = response.statusText { protobuf.statusText = text }
            if let address = response.address { protobuf.addr = Data(address.bytes) }
            message.dialResponse = protobuf
        }
        return message
    }

    /// Decodes one message's protobuf bytes (without the length prefix).
    public init(payload: Span<UInt8>) throws(AutoNATMessageError) {
        guard payload.count <= Self.maximumLength else {
            throw .tooLong(length: UInt64(payload.count), maximum: Self.maximumLength)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count)
        for index in payload.indices { bytes.append(payload[index]) }
        let message: Autonat_Pb_Message
        do {
            message = try Autonat_Pb_Message(serializedBytes: bytes, partial: true)
        } catch {
            throw .malformedProtobuf
        }
        guard message.hasType else { throw .missingType }
        switch message.type {
        case .dial:
            guard message.hasDial, message.dial.hasPeer else { throw .missingPeer }
            let info = message.dial.peer
            guard info.hasID else { throw .missingPeer }
            let peer: PeerID
            do {
                peer = try PeerID(bytes: [UInt8](info.id))
            } catch {
                throw .invalidPeerID(error)
            }
            guard info.addrs.count <= Self.maximumAddresses else {
                throw .tooManyAddresses(count: info.addrs.count, maximum: Self.maximumAddresses)
            }
            self = .dial(peer: peer, addresses: info.addrs.compactMap { try? Multiaddr(bytes: [UInt8]($0)) })
        case .dialResponse:
            guard message.hasDialResponse else { throw .missingDialResponse }
            let protobuf = message.dialResponse
            guard protobuf.hasStatus, let status = AutoNATResponseStatus(protobuf.status) else { throw .missingStatus }
            let address = protobuf.hasAddr ? try? Multiaddr(bytes: [UInt8](protobuf.addr)) : nil
            self = .dialResponse(
                AutoNATDialResponse(
                    status: status, statusText: protobuf.hasStatusText ? protobuf.statusText : nil, address: address))
        }
    }

    /// Decodes one message's protobuf bytes (without the length prefix).
    public init(payload: [UInt8]) throws(AutoNATMessageError) {
        try self.init(payload: payload.span)
    }
}

/// Why an AutoNAT message could not be read: a violation by the peer.
public enum AutoNATMessageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The length prefix declares more than `AutoNATMessage.maximumLength` bytes.
    case tooLong(length: UInt64, maximum: Int)
    /// The length prefix is not a valid varint.
    case malformedLength
    /// The bytes are not the message's protobuf.
    case malformedProtobuf
    /// The message has no type.
    case missingType
    /// A DIAL without its peer or the peer's ID.
    case missingPeer
    /// The peer ID in a DIAL does not decode.
    case invalidPeerID(PeerIDError)
    /// A DIAL with more than `AutoNATMessage.maximumAddresses` addresses.
    case tooManyAddresses(count: Int, maximum: Int)
    /// A DIAL_RESPONSE without its response.
    case missingDialResponse
    /// A response without a status, or with one the spec does not define.
    case missingStatus

    public var description: String {
        switch self {
        case .tooLong(let length, let maximum): "AutoNAT message of \(length) bytes exceeds \(maximum)"
        case .malformedLength: "AutoNAT message with a malformed length prefix"
        case .malformedProtobuf: "AutoNAT message is not a valid protobuf"
        case .missingType: "AutoNAT message without a type"
        case .missingPeer: "AutoNAT DIAL without a peer ID"
        case .invalidPeerID(let error): "AutoNAT DIAL: \(error)"
        case .tooManyAddresses(let count, let maximum): "AutoNAT DIAL with \(count) addresses (at most \(maximum))"
        case .missingDialResponse: "AutoNAT DIAL_RESPONSE without a response"
        case .missingStatus: "AutoNAT DIAL_RESPONSE without a known status"
        }
    }
}

/// Reads the one length-prefixed AutoNAT message at the start of a stream.
///
/// It holds at most one message (plus its prefix); anything after the message is the peer's
/// violation (`unexpectedBytes`), since each side sends exactly one message.
public struct AutoNATMessageReader: Sendable {
    private var reader = LengthPrefixedReader(maximumMessageLength: AutoNATMessage.maximumLength)
    private var done = false

    /// A reader for the start of a stream.
    public init() {}

    /// Bytes held that are not part of a returned message.
    public var bufferedByteCount: Int { reader.bufferedByteCount }

    /// How many more bytes `append` takes: the largest message and its prefix, less what
    /// is held.
    public var capacity: Int {
        done ? 0 : max(0, AutoNATMessage.maximumLength + Varint.maximumLength - reader.bufferedByteCount)
    }

    /// Adds bytes; returns the message once complete (once only), `nil` while more are
    /// needed.
    ///
    /// - Throws: `AutoNATStreamError` for an oversized or malformed length prefix, a message
    ///   that does not decode, or bytes after the message.
    public mutating func append(_ bytes: Span<UInt8>) throws(AutoNATStreamError) -> AutoNATMessage? {
        guard bytes.count > 0 else { return nil }
        guard !done else { throw .unexpectedBytes }
        reader.append(bytes)
        let payload: [UInt8]?
        do {
            payload = try reader.nextMessage()
        } catch {
            done = true
            switch error {
            case .tooLong(let length, let maximum): throw .malformedMessage(.tooLong(length: length, maximum: maximum))
            case .malformedLength: throw .malformedMessage(.malformedLength)
            }
        }
        guard let payload else { return nil }
        done = true
        guard reader.bufferedByteCount == 0 else { throw .unexpectedBytes }
        do {
            return try AutoNATMessage(payload: payload)
        } catch {
            throw .malformedMessage(error)
        }
    }
}
