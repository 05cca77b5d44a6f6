/// Settings of an AutoNAT v1 server stream.
public struct AutoNATServerConfiguration: Hashable, Sendable {
    /// The most addresses dialed back per request (go-libp2p's `maxPeerAddresses`); the
    /// others are dropped.
    public var maximumDialBackAddresses = 16
    /// The whole exchange (request, dial back, response) must end within this time (go's
    /// stream deadline is 60 s). While the dial back runs, the deadline answers
    /// `E_DIAL_ERROR`.
    public var timeout: Duration = .seconds(60)
    /// Whether addresses that are not globally routable (private, loopback, CGNAT, …) may be
    /// dialed back. Off by default, as in go-libp2p; tests and LAN deployments turn it on.
    public var allowNonPublicAddresses = false
    /// The scopes that count as public (`.global` by default; a lab on documentation
    /// addresses adds `.documentation`).
    public var publicScopes: Set<IPAddressScope> = [.global]

    /// The defaults.
    public init() {}
}

/// Why a server answered a request without dialing.
public enum AutoNATRequestRejection: Hashable, Sendable, CustomStringConvertible {
    /// The request did not decode: `E_BAD_REQUEST`.
    case malformed(AutoNATMessageError)
    /// The request was not a DIAL: `E_BAD_REQUEST`.
    case unexpectedMessage
    /// The DIAL named `claimed`, not the connection's peer: `E_BAD_REQUEST`.
    case peerMismatch(claimed: PeerID)
    /// No address is on the connection's observed IP, TCP, direct and (unless allowed)
    /// public: `E_DIAL_REFUSED`.
    case noDialableAddress

    /// The status this rejection is answered with.
    public var status: AutoNATResponseStatus {
        switch self {
        case .malformed, .unexpectedMessage, .peerMismatch: .badRequest
        case .noDialableAddress: .dialRefused
        }
    }

    public var description: String {
        switch self {
        case .malformed(let error): "bad request: \(error)"
        case .unexpectedMessage: "bad request: not a DIAL"
        case .peerMismatch(let claimed): "bad request: DIAL for \(claimed), not the connection's peer"
        case .noDialableAddress: "no address to dial back on the observed IP"
        }
    }
}

/// The server's side of one inbound `/libp2p/autonat/1.0.0` stream.
///
/// ```
/// < DIAL peer addrs  → checks: peer == connection's peer, else E_BAD_REQUEST
///                      keeps addrs on the observed IP, /tcp, not relayed (≤ 16),
///                      none left → E_DIAL_REFUSED
///                    → dialBackRequested(addresses)
/// (owner dials)      dialBackSucceeded(address) > OK + addr        → answered
///                    dialBackFailed(reason)     > E_DIAL_ERROR     → answered
///                    refuse(status, text)       > status           → answered
/// < garbage, a DIAL_RESPONSE                    > E_BAD_REQUEST    → rejected
/// deadline while reading → failed(timeout); while dialing > E_DIAL_ERROR → answered
/// ```
///
/// The observed IP (the connection's remote IP) is given at construction: a relayed
/// connection has none, so no server can be built for one (the spec forbids serving
/// over relayed connections). Only addresses on that IP are dialed back, which stops the
/// RFC 3489 §12.1.1 amplification the spec warns of. Rate limits are the owner's
/// (`AutoNATServerAdmission`), consulted on `dialBackRequested`.
///
/// After `answered` and `rejected` the owner half-closes once the response is written;
/// after `failed` it resets. An `answered` or `failed` event while a dial back runs means
/// the owner should stop that dial.
public struct AutoNATServer: StreamProtocolMachine {
    public typealias Event = AutoNATServerEvent

    private enum State {
        case reading
        case awaitingDialBack(addresses: [Multiaddr])
        case answered
        case failed
    }

    /// The connection's peer, the only one a DIAL may name.
    public let peer: PeerID
    /// The IP the connection's peer is seen from; the only IP dialed back.
    public let observedIP: IPAddress
    /// The settings.
    public let configuration: AutoNATServerConfiguration
    /// When the exchange gives up.
    public let deadline: Instant

    private var state: State = .reading
    private var reader = AutoNATMessageReader()
    private var outbound: [UInt8] = []
    private var events: [AutoNATServerEvent] = []

    /// A server for a stream on a direct connection from `peer`, seen at `observedIP`,
    /// opened at `now`.
    public init(peer: PeerID, observedIP: IPAddress, now: Instant, configuration: AutoNATServerConfiguration = .init()) {
        self.peer = peer
        self.observedIP = observedIP.unmapped
        self.configuration = configuration
        deadline = now + configuration.timeout
    }

    /// The addresses being dialed back, while the server waits for the outcome.
    public var dialBackAddresses: [Multiaddr] {
        if case .awaitingDialBack(let addresses) = state { addresses } else { [] }
    }

    /// Feeds bytes from the client.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0 else { return }
        switch state {
        case .reading:
            let message: AutoNATMessage?
            do {
                message = try reader.append(bytes)
            } catch {
                switch error {
                case .malformedMessage(let error): reject(.malformed(error))
                default: fail(error)
                }
                return
            }
            guard let message else { return }
            handle(message)
        case .awaitingDialBack:
            fail(.unexpectedBytes)
        case .answered, .failed:
            return
        }
    }

    /// The client half-closed: a failure before the request is complete, expected after.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .reading = state else { return }
        fail(.endOfStream(bufferedBytes: reader.bufferedByteCount))
    }

    /// A dial back to `address` (one of `dialBackAddresses`) succeeded: answers OK with it.
    ///
    /// - Throws: `AutoNATUsageError.notAwaitingDialBack`, or `.addressNotRequested`.
    public mutating func dialBackSucceeded(_ address: Multiaddr, now: Instant) throws(AutoNATUsageError) {
        guard case .awaitingDialBack(let addresses) = state else { throw .notAwaitingDialBack }
        let address = address.withoutTrailingPeerID
        guard addresses.contains(address) else { throw .addressNotRequested(address) }
        answer(AutoNATDialResponse(status: .ok, address: address))
    }

    /// Every dial back failed: answers `E_DIAL_ERROR` with `reason` as its text.
    ///
    /// - Throws: `AutoNATUsageError.notAwaitingDialBack`.
    public mutating func dialBackFailed(reason: String? = nil, now: Instant) throws(AutoNATUsageError) {
        guard case .awaitingDialBack = state else { throw .notAwaitingDialBack }
        answer(AutoNATDialResponse(status: .dialError, statusText: reason.map(Self.bounded) ?? "dial back failed"))
    }

    /// Answers without dialing: `E_DIAL_REFUSED` when `AutoNATServerAdmission` refused, or
    /// `E_INTERNAL_ERROR`.
    ///
    /// - Throws: `AutoNATUsageError.okIsNotARefusal` for OK, `.notAwaitingDialBack`.
    public mutating func refuse(_ status: AutoNATResponseStatus, text: String? = nil, now: Instant) throws(AutoNATUsageError) {
        guard status != .ok else { throw .okIsNotARefusal }
        guard case .awaitingDialBack = state else { throw .notAwaitingDialBack }
        answer(AutoNATDialResponse(status: status, statusText: text.map(Self.bounded)))
    }

    /// At the deadline: fails while reading, answers `E_DIAL_ERROR` while dialing.
    public mutating func handleTimeout(now: Instant) {
        guard now >= deadline else { return }
        switch state {
        case .reading: fail(.timeout)
        case .awaitingDialBack: answer(AutoNATDialResponse(status: .dialError, statusText: "dial back timed out"))
        case .answered, .failed: return
        }
    }

    /// Appends the queued response.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count
        guard count > 0 else { return 0 }
        buffer.append(contentsOf: outbound)
        outbound.removeAll()
        return count
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> AutoNATServerEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// The exchange's deadline until it is answered.
    public var nextDeadline: Instant? {
        switch state {
        case .reading, .awaitingDialBack: deadline
        case .answered, .failed: nil
        }
    }

    /// True once the response was queued.
    public var wantsToCloseWrite: Bool {
        if case .answered = state { true } else { false }
    }

    /// Room for the request; anything after it is a violation, so `Int.max` otherwise.
    public var receiveCapacity: Int {
        if case .reading = state { reader.capacity } else { Int.max }
    }

    /// The addresses of `addresses` a server may dial back for `peer` seen at `observedIP`:
    /// `/ip4|ip6/<observedIP>/tcp/<port>` with a non-zero port, optionally followed by
    /// `/p2p/<peer>` (dropped), public unless the configuration allows otherwise; no
    /// duplicates, at most `maximumDialBackAddresses`, in the request's order.
    public static func dialBackAddresses(
        from addresses: [Multiaddr], peer: PeerID, observedIP: IPAddress,
        configuration: AutoNATServerConfiguration = .init()
    ) -> [Multiaddr] {
        let observed = observedIP.unmapped
        guard configuration.allowNonPublicAddresses || configuration.publicScopes.contains(observed.scope) else { return [] }
        var result: [Multiaddr] = []
        for address in addresses {
            guard result.count < max(0, configuration.maximumDialBackAddresses) else { break }
            let components = address.components
            guard components.count == 2 || components.count == 3,
                  address.ipAddress?.unmapped == observed,
                  case .tcp(let port) = components[1], port != 0
            else { continue }
            if components.count == 3 {
                guard case .p2p(let named) = components[2], named == peer else { continue }
            }
            let bare = address.withoutTrailingPeerID
            if !result.contains(bare) { result.append(bare) }
        }
        return result
    }

    /// The longest status text sent; longer texts are cut.
    public static let maximumStatusTextLength = 256

    private static func bounded(_ text: String) -> String {
        text.utf8.count <= maximumStatusTextLength ? text : String(decoding: text.utf8.prefix(maximumStatusTextLength), as: UTF8.self)
    }

    private mutating func handle(_ message: AutoNATMessage) {
        guard case .dial(let claimed, let addresses) = message else {
            reject(.unexpectedMessage)
            return
        }
        guard claimed == peer else {
            reject(.peerMismatch(claimed: claimed))
            return
        }
        let dialable = Self.dialBackAddresses(
            from: addresses, peer: peer, observedIP: observedIP, configuration: configuration)
        guard !dialable.isEmpty else {
            reject(.noDialableAddress)
            return
        }
        state = .awaitingDialBack(addresses: dialable)
        events.append(.dialBackRequested(addresses: dialable))
    }

    private mutating func answer(_ response: AutoNATDialResponse) {
        AutoNATMessage.dialResponse(response).encode(into: &outbound)
        state = .answered
        events.append(.answered(response))
    }

    private mutating func reject(_ rejection: AutoNATRequestRejection) {
        AutoNATMessage.dialResponse(AutoNATDialResponse(status: rejection.status, statusText: Self.bounded(rejection.description)))
            .encode(into: &outbound)
        state = .answered
        events.append(.rejected(rejection))
    }

    private mutating func fail(_ error: AutoNATStreamError) {
        state = .failed
        outbound.removeAll()
        events.append(.failed(error))
    }
}

/// What an `AutoNATServer` reports.
public enum AutoNATServerEvent: Hashable, Sendable {
    /// A valid DIAL: ask `AutoNATServerAdmission`, then dial `addresses` (a new connection
    /// that must prove the peer's ID, not an existing one) and report with
    /// `dialBackSucceeded`, `dialBackFailed` or `refuse`.
    case dialBackRequested(addresses: [Multiaddr])
    /// A response was queued (`OK`, `E_DIAL_ERROR`, or a refusal): half-close.
    case answered(AutoNATDialResponse)
    /// The request was refused for itself (`rejection.status` was queued): half-close.
    case rejected(AutoNATRequestRejection)
    /// The stream failed without a response: reset it.
    case failed(AutoNATStreamError)
}
