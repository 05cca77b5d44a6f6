/// The server side of `/perf/1.0.0`: reads the 8-byte big-endian download size, discards
/// the upload until the client's end of stream, then sends that many zeros and half-closes.
///
/// A request above `maximumDownloadBytes` fails with `downloadTooLarge` as soon as the
/// header is read. The download is produced lazily as the owner drains `pollTransmit`, at
/// most `StreamProtocolLimits.transmitChunk` bytes per call.
public struct PerfServer: StreamProtocolMachine {
    public typealias Event = PerfServerEvent

    /// Reading the 8-byte header.
    private struct ReadingHeader {
        var value: UInt64 = 0
        var count = 0
    }

    /// Discarding the upload until the client's end of stream.
    private struct DiscardingUpload {
        var requested: UInt64
        var uploaded: UInt64 = 0
    }

    /// Sending the download.
    private struct Sending {
        var uploaded: UInt64
        var requested: UInt64
        var remaining: UInt64
    }

    private enum State {
        case readingHeader(ReadingHeader)
        case discardingUpload(DiscardingUpload)
        case sending(Sending)
        /// Everything sent: the owner half-closes.
        case finished
        case failed
    }

    /// The largest download the server sends.
    public let maximumDownloadBytes: UInt64

    private var state: State = .readingHeader(ReadingHeader())
    private var events: [PerfServerEvent] = []

    /// A server that sends at most `maximumDownloadBytes` (10 GiB by default) per stream.
    public init(maximumDownloadBytes: UInt64 = 10 << 30) {
        self.maximumDownloadBytes = maximumDownloadBytes
    }

    /// Reads the header, then counts and discards the upload.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        var offset = 0
        while offset < bytes.count {
            switch state {
            case .readingHeader(var phase):
                while offset < bytes.count && phase.count < 8 {
                    phase.value = phase.value << 8 | UInt64(bytes[offset])
                    phase.count += 1
                    offset += 1
                }
                guard phase.count == 8 else {
                    state = .readingHeader(phase)
                    return
                }
                guard phase.value <= maximumDownloadBytes else {
                    fail(.downloadTooLarge(requested: phase.value, maximum: maximumDownloadBytes))
                    return
                }
                state = .discardingUpload(DiscardingUpload(requested: phase.value))
            case .discardingUpload(var phase):
                phase.uploaded &+= UInt64(bytes.count - offset)
                offset = bytes.count
                state = .discardingUpload(phase)
            case .sending, .finished:
                fail(.unexpectedBytes)
                return
            case .failed:
                return
            }
        }
    }

    /// The client's end of stream: the download starts (or, before a whole header, the
    /// stream fails with `truncatedHeader`).
    public mutating func receiveEndOfStream(now: Instant) {
        switch state {
        case .readingHeader(let phase):
            fail(.truncatedHeader(receivedBytes: phase.count))
        case .discardingUpload(let phase):
            state = .sending(Sending(uploaded: phase.uploaded, requested: phase.requested, remaining: phase.requested))
            finishIfSent()
        case .sending, .finished, .failed:
            return
        }
    }

    /// Does nothing: the server has no timer (the owner bounds the stream).
    public mutating func handleTimeout(now: Instant) {}

    /// Appends the next piece of the download (at most `StreamProtocolLimits.transmitChunk`
    /// bytes) and returns how many; 0 when none.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        guard case .sending(var phase) = state else { return 0 }
        let piece = Int(min(phase.remaining, UInt64(StreamProtocolLimits.transmitChunk)))
        PerfPayload.appendZeros(piece, to: &buffer)
        phase.remaining -= UInt64(piece)
        state = .sending(phase)
        finishIfSent()
        return piece
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> PerfServerEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Always `nil`.
    public var nextDeadline: Instant? { nil }

    /// True once the whole download was handed out.
    public var wantsToCloseWrite: Bool {
        if case .finished = state { true } else { false }
    }

    /// Unlimited: the upload is counted, not kept.
    public var receiveCapacity: Int { .max }

    private mutating func finishIfSent() {
        guard case .sending(let phase) = state, phase.remaining == 0 else { return }
        state = .finished
        events.append(.finished(uploadBytes: phase.uploaded, downloadBytes: phase.requested))
    }

    private mutating func fail(_ error: PerfError) {
        state = .failed
        events.append(.failed(error))
    }
}

/// What a `PerfServer` reports.
public enum PerfServerEvent: Equatable, Hashable, Sendable {
    /// The whole download was handed out; the owner half-closes once it is written.
    case finished(uploadBytes: UInt64, downloadBytes: UInt64)
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(PerfError)
}
