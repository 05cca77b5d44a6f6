import TraverseCore

extension FuzzTarget {
    /// `PingServer` fed arbitrary bytes in pieces the input chooses, never more than its
    /// `receiveCapacity`, draining its output only after pieces whose first byte has bit 4
    /// set; then the end of the stream. The echo is exactly the whole 32-byte payloads sent
    /// (a prefix of them when a truncated end fails the stream), pending output stays within
    /// the limit, and the end is judged by the input's length.
    public static let pingServer = FuzzTarget(name: "ping-server") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let limit = 32 * (Int(options & 0x07) + 1)
        guard var server = try? PingServer(maximumPendingBytes: limit) else {
            preconditionFailure("valid ping server configuration rejected")
        }
        var fed: [UInt8] = []
        var echoed: [UInt8] = []
        var pending: [UInt8] = []
        for piece in MultistreamFuzzing.pieces(bytes.dropFirst()) {
            let accepted = Array(piece.prefix(server.receiveCapacity))
            server.receive(accepted.span, now: .zero)
            fed.append(contentsOf: accepted)
            if (piece.first ?? 0) & 0x10 != 0 {
                pending.removeAll(keepingCapacity: true)
                while server.pollTransmit(into: &pending) > 0 {}
                precondition(pending.count <= limit, "more echo pending than the limit")
                echoed.append(contentsOf: pending)
            }
            precondition(server.pollEvent() == nil, "event before the end of the stream")
        }
        server.receiveEndOfStream(now: .zero)
        while server.pollTransmit(into: &echoed) > 0 {}
        let whole = fed.count / 32 * 32
        // A truncated end fails the stream, dropping echoes not yet drained.
        precondition(echoed.count % 32 == 0 && echoed.count <= whole, "echoed a partial payload")
        precondition(echoed == Array(fed[..<echoed.count]), "echo differs from the payloads sent")
        let event = server.pollEvent()
        if whole == fed.count {
            precondition(echoed.count == whole, "whole payloads left unechoed")
            precondition(event == .finished(echoedPayloads: whole / 32) && server.wantsToCloseWrite)
        } else {
            precondition(event == .failed(.truncatedPayload(receivedBytes: fed.count - whole)))
        }
        precondition(server.pollEvent() == nil)
    }

    /// `PerfServer` (serving at most 1 MiB) fed arbitrary bytes in pieces the input chooses,
    /// then the end of the stream. It fails exactly when the header is short or asks too
    /// much; otherwise it sends exactly the requested bytes, in bounded pieces, then closes.
    public static let perfServer = FuzzTarget(name: "perf-server") { input in
        let bytes = input.array
        let maximum: UInt64 = 1 << 20
        var server = PerfServer(maximumDownloadBytes: maximum)
        for piece in MultistreamFuzzing.pieces(bytes[...]) {
            server.receive(piece.span, now: .zero)
        }
        server.receiveEndOfStream(now: .zero)
        var sent = 0
        var scratch: [UInt8] = []
        while true {
            scratch.removeAll(keepingCapacity: true)
            let count = server.pollTransmit(into: &scratch)
            guard count > 0 else { break }
            precondition(count == scratch.count && count <= StreamProtocolLimits.transmitChunk)
            precondition(scratch.allSatisfy { $0 == 0 })
            sent += count
        }
        let event = server.pollEvent()
        guard bytes.count >= 8 else {
            precondition(event == .failed(.truncatedHeader(receivedBytes: bytes.count)) && sent == 0)
            return
        }
        let requested = bytes[..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if requested > maximum {
            precondition(event == .failed(.downloadTooLarge(requested: requested, maximum: maximum)) && sent == 0)
        } else {
            precondition(event == .finished(uploadBytes: UInt64(bytes.count - 8), downloadBytes: requested))
            precondition(UInt64(sent) == requested && server.wantsToCloseWrite)
        }
    }
}
