/// The transport phase of a libp2p Noise session: frames `u16be(length) ‖ ciphertext ‖ tag`
/// in both directions, each direction with its own key and nonce counter.
///
/// It is a codec the connection owns, not a machine of its own: the connection encrypts
/// what it sends and decrypts what it receives, in place in its own buffers, so steady-state
/// traffic allocates nothing per frame once those buffers have grown.
///
/// Get one from `NoiseHandshake.finish()`. Transport bytes that arrived together with the
/// final handshake message are decrypted by the first `decrypt` call (pass an empty span to
/// get them at once; `hasCarriedBytes` says whether there are any).
public struct NoiseTransport: Sendable {
    /// The most plaintext one frame carries: 65535 minus the 16-byte tag.
    public static let maximumPlaintextPerFrame = Int(UInt16.max) - NoiseCipherState.tagLength

    /// The peer ID the remote side authenticated as.
    public let remotePeer: PeerID
    /// The remote side's identity key.
    public let remotePublicKey: PublicKey
    /// The muxer agreed on in the handshake, if any.
    public let negotiatedMuxer: String?

    private var sending: NoiseCipherState
    private var receiving: NoiseCipherState
    private var reader = NoiseFrameReader()
    private var carried: [UInt8]
    /// Set by the first decryption error; the receiving side stays broken after it.
    private var receiveFailure: NoiseError?

    init(result: NoiseHandshakeResult, sending: NoiseCipherState, receiving: NoiseCipherState, carried: [UInt8]) {
        remotePeer = result.remotePeer
        remotePublicKey = result.remotePublicKey
        negotiatedMuxer = result.negotiatedMuxer
        self.sending = sending
        self.receiving = receiving
        self.carried = carried
    }

    /// Whether bytes received with the final handshake message still await `decrypt`.
    public var hasCarriedBytes: Bool { !carried.isEmpty }

    /// Encrypts `plaintext` and appends it to `output` as frames of at most
    /// `maximumPlaintextPerFrame` plaintext bytes each (nothing for empty plaintext).
    ///
    /// The plaintext is copied once, into `output`, and encrypted there.
    /// - Throws: `.nonceExhausted` (leaving `output` and the transport unchanged) when the
    ///   frames would need a nonce past 2^64 − 2; the connection must then be closed.
    public mutating func encrypt(_ plaintext: Span<UInt8>, into output: inout [UInt8]) throws(NoiseUsageError) {
        let maximum = Self.maximumPlaintextPerFrame
        let frames = plaintext.count / maximum + (plaintext.count % maximum == 0 ? 0 : 1)
        guard UInt64(frames) <= sending.remainingMessages else { throw .nonceExhausted }
        var offset = 0
        while offset < plaintext.count {
            let length = min(maximum, plaintext.count - offset)
            let frameLength = length + NoiseCipherState.tagLength
            output.append(UInt8(truncatingIfNeeded: frameLength >> 8))
            output.append(UInt8(truncatingIfNeeded: frameLength))
            let start = output.count
            plaintext.extracting(offset..<(offset + length)).withUnsafeBufferPointer { output.append(contentsOf: $0) }
            do {
                try sending.encrypt(&output, from: start, ad: [])
            } catch {
                preconditionFailure("nonces were counted before encrypting")
            }
            offset += length
        }
    }

    /// Decrypts the frames completed by `ciphertext` (any chunking of the byte stream) and
    /// appends their plaintext to `plaintext`, decrypting in place there. A partial frame
    /// at the end is kept (at most 65537 bytes) until the rest arrives.
    ///
    /// - Throws: a `NoiseError` when a frame is too short or fails authentication, or the
    ///   peer used up the nonces. The failing frame's bytes are removed from `plaintext`
    ///   (frames before it in the same call stay), and every later call throws the same
    ///   error: the connection must be closed.
    public mutating func decrypt(_ ciphertext: Span<UInt8>, into plaintext: inout [UInt8]) throws(NoiseError) {
        if let receiveFailure { throw receiveFailure }
        do {
            if !carried.isEmpty {
                let earlier = carried
                carried = []
                try decryptFrames(earlier.span, into: &plaintext)
            }
            try decryptFrames(ciphertext, into: &plaintext)
        } catch {
            receiveFailure = error
            reader.reset()
            throw error
        }
    }

    private mutating func decryptFrames(_ input: Span<UInt8>, into plaintext: inout [UInt8]) throws(NoiseError) {
        var offset = 0
        while offset < input.count {
            if reader.isEmpty {
                // A whole frame in the input: append its body straight to the plaintext.
                let available = input.count - offset
                if available >= NoiseFrameReader.headerLength {
                    let length = Int(input[offset]) << 8 | Int(input[offset + 1])
                    if available - NoiseFrameReader.headerLength >= length {
                        let bodyStart = offset + NoiseFrameReader.headerLength
                        try open(input.extracting(bodyStart..<(bodyStart + length)), into: &plaintext)
                        offset = bodyStart + length
                        continue
                    }
                }
            }
            guard reader.fill(from: input, offset: &offset) else { break }
            let frame = reader.partial
            try open(frame.span.extracting(NoiseFrameReader.headerLength...), into: &plaintext)
            reader.reset()
        }
    }

    /// Appends `body` (ciphertext ‖ tag) to `plaintext` and decrypts it there.
    private mutating func open(_ body: Span<UInt8>, into plaintext: inout [UInt8]) throws(NoiseError) {
        guard body.count >= NoiseCipherState.tagLength else { throw .frameTooShort(length: body.count) }
        let start = plaintext.count
        body.withUnsafeBufferPointer { plaintext.append(contentsOf: $0) }
        do {
            try receiving.decrypt(&plaintext, from: start, ad: [])
        } catch {
            plaintext.removeSubrange(start...)
            throw error
        }
    }

    /// Sets both nonce counters; for tests of nonce exhaustion.
    mutating func setNonces(sending: UInt64, receiving: UInt64) {
        self.sending.setNonce(sending)
        self.receiving.setNonce(receiving)
    }
}
