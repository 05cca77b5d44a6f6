/// What a Noise handshake learned about the peer.
public struct NoiseHandshakeResult: Sendable, Hashable {
    /// The peer ID the remote side authenticated as.
    public let remotePeer: PeerID
    /// The remote side's identity key.
    public let remotePublicKey: PublicKey
    /// The muxer chosen through `NoiseExtensions.stream_muxers`: the first of the
    /// initiator's list that the responder also listed; `nil` if either side listed none (or
    /// they share none), and then the muxer is negotiated with multistream-select.
    public let negotiatedMuxer: String?
}

/// What a `NoiseHandshake` reports.
public enum NoiseHandshakeEvent: Sendable, Hashable {
    /// The handshake completed and the peer is authenticated: call `finish()`.
    case completed(NoiseHandshakeResult)
    /// The peer violated the protocol or failed to authenticate; close the connection.
    case failed(NoiseError)
}

/// The libp2p Noise handshake (`/noise`, `Noise_XX_25519_ChaChaPoly_SHA256`) as a sans-IO
/// machine.
///
/// Handshake messages travel as `u16be(length) ‖ message`. Message 1 (initiator) carries
/// an empty payload; messages 2 (responder) and 3 (initiator) carry the signed
/// `NoiseHandshakePayload`, whose extensions list `supportedMuxers` when there are any.
/// The initiator's first message is ready to transmit as soon as the machine exists.
///
/// After `.completed`, drain `pollTransmit` (the initiator's last message) and call
/// `finish()` to get the `NoiseTransport`. Bytes that arrived after the final handshake
/// message are handed to the transport, which decrypts them on its first `decrypt` call.
/// Noise has no timers, so `nextDeadline` is always `nil`.
public struct NoiseHandshake: ByteStreamMachine, Sendable {
    public typealias Event = NoiseHandshakeEvent

    /// How many bytes received after the final handshake message, and before `finish()`,
    /// the machine keeps for the transport (four full frames); more fails the handshake.
    public static let maximumCarriedBytes = 4 * NoiseFrameReader.maximumFrameLength

    private struct Handshaking: Sendable {
        var noise: NoiseHandshakeState
        var reader = NoiseFrameReader()
        let expectedRemotePeer: PeerID?
        let supportedMuxers: [String]
        /// The encoded payload of our signed message (2 for the responder, 3 for the initiator).
        let payload: [UInt8]
        /// The responder's muxer list, once message 2 was read (initiator only).
        var responderMuxers: [String] = []
    }

    private struct Completed: Sendable {
        let result: NoiseHandshakeResult
        let sending: NoiseCipherState
        let receiving: NoiseCipherState
        /// Transport bytes received after the final handshake message.
        var carried: [UInt8]
    }

    private enum State: Sendable {
        case handshaking(Handshaking)
        case completed(Completed)
        case failed(NoiseError)
    }

    /// The local role.
    public let role: NoiseRole
    private var state: State
    private var outgoing: [UInt8]
    private var events: [NoiseHandshakeEvent] = []

    /// A handshake in `role` for `identity`; its ephemeral key is drawn from `generator`.
    ///
    /// - Parameters:
    ///   - expectedRemotePeer: the peer that must answer (when dialling a known peer); any
    ///     other identity fails the handshake with `.unexpectedPeer`.
    ///   - supportedMuxers: muxer protocol IDs to offer through `NoiseExtensions`, most
    ///     preferred first; empty to negotiate the muxer afterwards.
    /// - Throws: `.payloadTooLong` if the signed payload with this muxer list does not fit
    ///   in one Noise message.
    public init(
        role: NoiseRole,
        identity: NoiseIdentity,
        expectedRemotePeer: PeerID? = nil,
        supportedMuxers: [String] = [],
        using generator: inout some RandomNumberGenerator
    ) throws(NoiseUsageError) {
        try self.init(
            role: role, identity: identity, expectedRemotePeer: expectedRemotePeer, supportedMuxers: supportedMuxers,
            payload: NoisePayload.encode(identity: identity, muxers: supportedMuxers),
            ephemeralKeyPair: X25519.KeyPair(using: &generator))
    }

    /// A handshake that sends `rawPayload` verbatim in place of its signed payload, so
    /// fuzzers can put arbitrary, correctly encrypted payloads in front of the peer's
    /// payload decoder. Not for use outside fuzzing.
    @_spi(Fuzzing)
    public init(
        role: NoiseRole, identity: NoiseIdentity, expectedRemotePeer: PeerID?, rawPayload: [UInt8],
        using generator: inout some RandomNumberGenerator
    ) throws(NoiseUsageError) {
        try self.init(
            role: role, identity: identity, expectedRemotePeer: expectedRemotePeer, supportedMuxers: [],
            payload: rawPayload, ephemeralKeyPair: X25519.KeyPair(using: &generator))
    }

    /// A handshake with a given payload and ephemeral key pair.
    init(
        role: NoiseRole, identity: NoiseIdentity, expectedRemotePeer: PeerID?,
        supportedMuxers: [String], payload: [UInt8], ephemeralKeyPair: X25519.KeyPair
    ) throws(NoiseUsageError) {
        let overhead = NoiseHandshakeState.messageOverhead[role == .initiator ? 2 : 1]
        guard payload.count + overhead <= Int(UInt16.max) else { throw .payloadTooLong(payload.count) }
        var handshaking = Handshaking(
            noise: NoiseHandshakeState(
                role: role, prologue: [], localStatic: identity.staticKeyPair, localEphemeral: ephemeralKeyPair),
            expectedRemotePeer: expectedRemotePeer,
            supportedMuxers: supportedMuxers, payload: payload)
        var firstMessage: [UInt8] = []
        if role == .initiator {
            // Message 1: `-> e` with an empty payload. Nothing in it can fail.
            do {
                try Self.writeFrame(&handshaking.noise, payload: [], into: &firstMessage)
            } catch {
                preconditionFailure("Noise message 1 failed: \(error)")
            }
        }
        self.role = role
        outgoing = firstMessage
        state = .handshaking(handshaking)
    }


    /// Feeds bytes from the peer, in any chunking. Handshake messages are processed as they
    /// complete; bytes after the final one are kept for the transport.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        switch state {
        case .failed:
            return
        case .completed(var completed):
            carry(bytes, from: 0, into: &completed)
        case .handshaking(var handshaking):
            var offset = 0
            while handshaking.reader.fill(from: bytes, offset: &offset) {
                let frame = handshaking.reader.partial
                handshaking.reader = NoiseFrameReader()
                do {
                    if var completed = try process(frame.span.extracting(NoiseFrameReader.headerLength...), in: &handshaking) {
                        events.append(.completed(completed.result))
                        carry(bytes, from: offset, into: &completed)
                        return
                    }
                } catch {
                    fail(error)
                    return
                }
            }
            state = .handshaking(handshaking)
        }
    }

    /// Noise has no timers: nothing happens.
    public mutating func handleTimeout(now: Instant) {}

    /// Appends the pending handshake message, if any, to `buffer`; returns its length.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outgoing.count
        buffer.append(contentsOf: outgoing)
        outgoing.removeAll()
        return count
    }

    /// The next event: `.completed` or `.failed`, each at most once.
    public mutating func pollEvent() -> NoiseHandshakeEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Always `nil`: the driver's connection timeout bounds the handshake.
    public var nextDeadline: Instant? { nil }

    /// Whether the handshake completed (and `finish()` will succeed once transmit is drained).
    public var isCompleted: Bool {
        if case .completed = state { return true }
        return false
    }

    /// The transport for the completed handshake, carrying any transport bytes that arrived
    /// with or after the final handshake message.
    ///
    /// - Throws: `.handshakeIncomplete` before `.completed`; `.handshakeFailed` after
    ///   `.failed`; `.transmitPending` if `pollTransmit` still holds the final handshake
    ///   message (drain it first).
    public consuming func finish() throws(NoiseUsageError) -> NoiseTransport {
        switch state {
        case .handshaking:
            throw .handshakeIncomplete
        case .failed(let reason):
            throw .handshakeFailed(reason)
        case .completed(let completed):
            guard outgoing.isEmpty else { throw .transmitPending }
            return NoiseTransport(
                result: completed.result, sending: completed.sending, receiving: completed.receiving,
                carried: completed.carried)
        }
    }

    // MARK: - Transitions

    /// Handles one handshake message; returns the completed phase when it was the last.
    private mutating func process(_ message: Span<UInt8>, in handshaking: inout Handshaking) throws(NoiseError) -> Completed? {
        var payload: [UInt8] = []
        try handshaking.noise.readMessage(message, payload: &payload)
        switch (handshaking.noise.role, handshaking.noise.messageIndex) {
        case (.responder, 1):
            // Message 1's payload is empty in libp2p; anything there is ignored.
            try Self.writeFrame(&handshaking.noise, payload: handshaking.payload, into: &outgoing)
            return nil
        case (.initiator, 2):
            let remote = try verify(payload, in: handshaking)
            try Self.writeFrame(&handshaking.noise, payload: handshaking.payload, into: &outgoing)
            let muxer = NoisePayload.negotiatedMuxer(initiator: handshaking.supportedMuxers, responder: remote.streamMuxers)
            return complete(handshaking, remote: remote, muxer: muxer)
        case (.responder, 3):
            let remote = try verify(payload, in: handshaking)
            let muxer = NoisePayload.negotiatedMuxer(initiator: remote.streamMuxers, responder: handshaking.supportedMuxers)
            return complete(handshaking, remote: remote, muxer: muxer)
        default:
            preconditionFailure("XX alternates turns; no other message can be read")
        }
    }

    private func verify(_ payload: [UInt8], in handshaking: Handshaking) throws(NoiseError) -> NoisePayload {
        guard let remoteStatic = handshaking.noise.remoteStatic else {
            preconditionFailure("XX reads the remote static key before its payload")
        }
        let remote = try NoisePayload(decoding: payload, remoteStaticKey: remoteStatic)
        let actual = remote.identityKey.peerID
        if let expected = handshaking.expectedRemotePeer, expected != actual {
            throw .unexpectedPeer(expected: expected, actual: actual)
        }
        return remote
    }

    private mutating func complete(_ handshaking: Handshaking, remote: NoisePayload, muxer: String?) -> Completed {
        let (sending, receiving) = handshaking.noise.split()
        let result = NoiseHandshakeResult(
            remotePeer: remote.identityKey.peerID, remotePublicKey: remote.identityKey, negotiatedMuxer: muxer)
        return Completed(result: result, sending: sending, receiving: receiving, carried: [])
    }

    /// Keeps `bytes[offset...]` for the transport, within `maximumCarriedBytes`.
    private mutating func carry(_ bytes: Span<UInt8>, from offset: Int, into completed: inout Completed) {
        let count = bytes.count - offset
        guard count <= Self.maximumCarriedBytes - completed.carried.count else {
            fail(.tooMuchEarlyData)
            return
        }
        if count > 0 {
            bytes.extracting(offset...).withUnsafeBufferPointer { completed.carried.append(contentsOf: $0) }
        }
        state = .completed(completed)
    }

    private mutating func fail(_ reason: NoiseError) {
        state = .failed(reason)
        outgoing.removeAll()
        events.append(.failed(reason))
    }

    /// Appends `u16be(length) ‖ WriteMessage(payload)` to `output`.
    private static func writeFrame(_ noise: inout NoiseHandshakeState, payload: [UInt8], into output: inout [UInt8]) throws(NoiseError) {
        let start = output.count
        output.append(contentsOf: [0, 0])
        try noise.writeMessage(payload: payload.span, into: &output)
        let length = output.count - start - NoiseFrameReader.headerLength
        precondition(length <= Int(UInt16.max), "payload size was checked at init")
        output[start] = UInt8(length >> 8)
        output[start + 1] = UInt8(length & 0xFF)
    }
}
