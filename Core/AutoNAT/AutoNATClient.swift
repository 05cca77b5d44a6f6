/// Settings of an AutoNAT v1 client stream.
public struct AutoNATClientConfiguration: Hashable, Sendable {
    /// The response must arrive within this time (the server dials back first; go-libp2p
    /// allows 60 s).
    public var timeout: Duration = .seconds(60)
    /// The most addresses sent in a DIAL (a server dials at most 16 anyway); further ones
    /// are dropped.
    public var maximumAddresses = 16

    /// The defaults.
    public init() {}
}

/// The client's side of `/libp2p/autonat/1.0.0`: asks a peer to dial this node back.
///
/// ```
/// > DIAL(local, addresses)        (queued at init; the client half-closes after it)
/// < DIAL_RESPONSE OK + addr       → reachable(address)
/// < DIAL_RESPONSE E_DIAL_ERROR    → unreachable(text)
/// < DIAL_RESPONSE other status    → refused(status, text)
/// < garbage, DIAL, end, deadline  → failed(error)   (reset the stream)
/// ```
///
/// Exactly one event. `AutoNATClientEvent.observation` turns it into what
/// `ReachabilityStatus` counts.
public struct AutoNATClient: StreamProtocolMachine {
    public typealias Event = AutoNATClientEvent

    /// This node.
    public let local: PeerID
    /// The addresses sent (at most `maximumAddresses`, without `/p2p`).
    public let addresses: [Multiaddr]
    /// When the client gives up.
    public let deadline: Instant

    private var done = false
    private var reader = AutoNATMessageReader()
    private var outbound: [UInt8] = []
    private var event: AutoNATClientEvent?

    /// Queues DIAL for `local` with `addresses` (their `/p2p` suffixes dropped; only the
    /// first `maximumAddresses` distinct ones sent), at `now`.
    ///
    /// - Throws: `AutoNATUsageError.noAddresses`, or `.requestTooLong` when the DIAL would
    ///   exceed `AutoNATMessage.maximumLength`.
    public init(
        local: PeerID, addresses: [Multiaddr], now: Instant, configuration: AutoNATClientConfiguration = .init()
    ) throws(AutoNATUsageError) {
        var sent: [Multiaddr] = []
        for address in addresses.map(\.withoutTrailingPeerID) where !address.isEmpty && !sent.contains(address) {
            guard sent.count < max(0, configuration.maximumAddresses) else { break }
            sent.append(address)
        }
        guard !sent.isEmpty else { throw .noAddresses }
        let message = AutoNATMessage.dial(peer: local, addresses: sent)
        let length = message.payloadLength
        guard length <= AutoNATMessage.maximumLength else {
            throw .requestTooLong(length: length, maximum: AutoNATMessage.maximumLength)
        }
        self.local = local
        self.addresses = sent
        deadline = now + configuration.timeout
        message.encode(into: &outbound)
    }

    /// Feeds bytes from the server.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0, !done else { return }
        let message: AutoNATMessage?
        do {
            message = try reader.append(bytes)
        } catch {
            finish(.failed(error))
            return
        }
        switch message {
        case nil:
            return
        case .dial?:
            finish(.failed(.unexpectedMessage))
        case .dialResponse(let response)?:
            switch response.status {
            case .ok:
                let address = response.address.map(\.withoutTrailingPeerID)
                finish(.reachable(address: address.flatMap { addresses.contains($0) ? $0 : nil }))
            case .dialError:
                finish(.unreachable(statusText: response.statusText))
            case .dialRefused, .badRequest, .internalError:
                finish(.refused(response.status, statusText: response.statusText))
            }
        }
    }

    /// The server half-closed: a failure before its response.
    public mutating func receiveEndOfStream(now: Instant) {
        guard !done else { return }
        finish(.failed(.endOfStream(bufferedBytes: reader.bufferedByteCount)))
    }

    /// Fails with `timeout` when no response arrived by the deadline.
    public mutating func handleTimeout(now: Instant) {
        guard !done, now >= deadline else { return }
        finish(.failed(.timeout))
    }

    /// Appends DIAL.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count
        guard count > 0 else { return 0 }
        buffer.append(contentsOf: outbound)
        outbound.removeAll()
        return count
    }

    /// The one event, once.
    public mutating func pollEvent() -> AutoNATClientEvent? {
        defer { event = nil }
        return event
    }

    /// The response's deadline.
    public var nextDeadline: Instant? { done ? nil : deadline }

    /// True: DIAL is all this side sends.
    public var wantsToCloseWrite: Bool { true }

    /// Room for the response.
    public var receiveCapacity: Int { done ? Int.max : reader.capacity }

    private mutating func finish(_ result: AutoNATClientEvent) {
        done = true
        outbound.removeAll()
        event = result
    }
}

/// The outcome of one AutoNAT request (exactly one per `AutoNATClient`).
public enum AutoNATClientEvent: Hashable, Sendable, CustomStringConvertible {
    /// The server dialed this node back. `address` is the one it reached, when it named
    /// one of the addresses asked (a server naming another is not believed on that point).
    case reachable(address: Multiaddr?)
    /// The server's dials back failed (`E_DIAL_ERROR`).
    case unreachable(statusText: String?)
    /// The server would not or could not try (`E_DIAL_REFUSED`, `E_BAD_REQUEST`,
    /// `E_INTERNAL_ERROR`): says nothing about reachability.
    case refused(AutoNATResponseStatus, statusText: String?)
    /// No valid response (malformed, unexpected, end of stream, timeout): reset the stream.
    case failed(AutoNATStreamError)

    public var description: String {
        switch self {
        case .reachable(let address?): "dialed back at \(address)"
        case .reachable(nil): "dialed back"
        case .unreachable(let text?): "not reachable (\(text))"
        case .unreachable(nil): "not reachable"
        case .refused(let status, let text): "refused: \(status)\(text.map { " (\($0))" } ?? "")"
        case .failed(let error): "failed: \(error)"
        }
    }

    /// What this outcome says about this node's reachability: `public` for a dial back,
    /// `private` for failed dials back, `nil` when it says nothing.
    public var observation: Reachability? {
        switch self {
        case .reachable: .public
        case .unreachable: .private
        case .refused, .failed: nil
        }
    }
}
