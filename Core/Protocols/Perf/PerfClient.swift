/// The client side of `/perf/1.0.0`: sends the 8-byte big-endian download size, uploads
/// `uploadBytes` zeros, half-closes (`wantsToCloseWrite`), then counts the download until
/// the server's end of stream and reports a `PerfResult`.
///
/// The upload is produced lazily as the owner drains `pollTransmit`, at most
/// `StreamProtocolLimits.transmitChunk` bytes per call, so memory does not grow with its size.
public struct PerfClient: StreamProtocolMachine {
    public typealias Event = PerfClientEvent

    /// Uploading (the owner drains the upload) while counting any download bytes.
    private struct Running {
        var headerSent = false
        var uploadRemaining: UInt64
        var downloaded: UInt64 = 0
        /// When the first downloaded byte arrived: the end of the upload.
        var firstDownloadAt: Instant?
    }

    private enum State {
        case running(Running)
        case finished
        case failed
    }

    /// Bytes to upload after the header.
    public let uploadBytes: UInt64
    /// Bytes asked of the server.
    public let downloadBytes: UInt64
    /// When the run started.
    public let startedAt: Instant

    private var state: State
    private var events: [PerfClientEvent] = []

    /// A run that uploads `uploadBytes` and downloads `downloadBytes`, starting at `now`.
    public init(uploadBytes: UInt64, downloadBytes: UInt64, now: Instant) {
        self.uploadBytes = uploadBytes
        self.downloadBytes = downloadBytes
        self.startedAt = now
        state = .running(Running(uploadRemaining: uploadBytes))
    }

    /// Bytes downloaded so far.
    public var downloadedBytes: UInt64 {
        switch state {
        case .running(let phase): phase.downloaded
        case .finished: downloadBytes
        case .failed: 0
        }
    }

    /// Counts downloaded bytes; more than `downloadBytes` fails with `downloadTooLong`.
    public mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        guard bytes.count > 0 else { return }
        switch state {
        case .running(var phase):
            let (total, overflow) = phase.downloaded.addingReportingOverflow(UInt64(bytes.count))
            guard !overflow, total <= downloadBytes else {
                fail(.downloadTooLong(expected: downloadBytes))
                return
            }
            phase.downloaded = total
            if phase.firstDownloadAt == nil { phase.firstDownloadAt = now }
            state = .running(phase)
        case .finished:
            fail(.unexpectedBytes)
        case .failed:
            return
        }
    }

    /// The server's end of stream: the run is over, or fails if the upload or the
    /// download is incomplete.
    public mutating func receiveEndOfStream(now: Instant) {
        guard case .running(let phase) = state else { return }
        guard phase.headerSent, phase.uploadRemaining == 0 else {
            fail(.closedDuringUpload)
            return
        }
        guard phase.downloaded == downloadBytes else {
            fail(.downloadTruncated(received: phase.downloaded, expected: downloadBytes))
            return
        }
        let uploadEnd = phase.firstDownloadAt ?? now
        state = .finished
        events.append(.finished(PerfResult(
            uploadBytes: uploadBytes, downloadBytes: downloadBytes,
            uploadDuration: uploadEnd - startedAt, downloadDuration: now - uploadEnd,
            total: now - startedAt)))
    }

    /// Does nothing: the run has no timer (the owner bounds it).
    public mutating func handleTimeout(now: Instant) {}

    /// Appends the header and the next piece of the upload (at most
    /// `StreamProtocolLimits.transmitChunk` bytes) and returns how many; 0 when none.
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        guard case .running(var phase) = state else { return 0 }
        var budget = StreamProtocolLimits.transmitChunk
        var appended = 0
        if !phase.headerSent {
            for shift in stride(from: 56, through: 0, by: -8) {
                buffer.append(UInt8(truncatingIfNeeded: downloadBytes >> UInt64(shift)))
            }
            phase.headerSent = true
            budget -= 8
            appended += 8
        }
        let piece = Int(min(phase.uploadRemaining, UInt64(budget)))
        PerfPayload.appendZeros(piece, to: &buffer)
        phase.uploadRemaining -= UInt64(piece)
        appended += piece
        state = .running(phase)
        return appended
    }

    /// The next event, or `nil` when there is none.
    public mutating func pollEvent() -> PerfClientEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Always `nil`.
    public var nextDeadline: Instant? { nil }

    /// True once the header and the whole upload were handed out.
    public var wantsToCloseWrite: Bool {
        if case .running(let phase) = state { phase.headerSent && phase.uploadRemaining == 0 } else { false }
    }

    /// Unlimited: downloaded bytes are counted, not kept.
    public var receiveCapacity: Int { .max }

    private mutating func fail(_ error: PerfError) {
        state = .failed
        events.append(.failed(error))
    }
}

/// What a `PerfClient` reports.
public enum PerfClientEvent: Equatable, Hashable, Sendable {
    /// The run completed.
    case finished(PerfResult)
    /// The stream failed; the owner resets it. Nothing follows.
    case failed(PerfError)
}
