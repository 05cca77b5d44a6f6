@_spi(Fuzzing) import TraverseCore

extension FuzzTarget {
    /// Yamux frame headers: anything that decodes re-encodes to the same 12 bytes.
    public static let yamuxFrame = FuzzTarget(name: "yamux-frame") { input in
        var offset = 0
        while input.count - offset >= YamuxHeader.size {
            defer { offset += YamuxHeader.size }
            guard let header = try? YamuxHeader.decode(input, at: offset) else { continue }
            var encoded: [UInt8] = []
            header.encode(into: &encoded)
            for index in 0..<YamuxHeader.size {
                precondition(encoded[index] == input[offset + index], "header re-encoding differs")
            }
        }
    }

    /// A Yamux session fed arbitrary bytes in pieces, with the owner's commands interleaved
    /// (chosen by the input): nothing traps, buffers stay within the windows, and nothing
    /// happens after the session closed.
    public static let yamuxSession = FuzzTarget(name: "yamux-session") { input in
        let bytes = input.array
        guard let control = bytes.first else { return }
        var configuration = YamuxConfiguration()
        configuration.maximumStreams = 8
        configuration.maximumPendingTransmit = 4096
        var session = YamuxSession(role: control & 1 == 0 ? .client : .server, configuration: configuration, now: .zero)
        var now = Instant.zero
        var known: [YamuxStreamID] = []
        var closed = false
        var wire: [UInt8] = []
        var sink: [UInt8] = []
        var offset = 1
        while offset < bytes.count {
            let command = bytes[offset]
            let length = min(Int(command >> 2) + 1, bytes.count - offset - 1)
            offset += 1
            switch command & 3 {
            case 0, 1:
                let piece = bytes[offset..<(offset + length)]
                piece.withUnsafeBufferPointer { session.receive($0.span, now: now) }
                offset += length
            case 2:
                if let stream = try? session.openStream(now: now) { known.append(stream) }
                if let stream = known.last { _ = try? session.write(stream, [UInt8](repeating: command, count: length * 97).span, now: now) }
            default:
                now = now + .milliseconds(Int64(command) * 50)
                if session.nextDeadline.map({ $0 <= now }) == true { session.handleTimeout(now: now) }
                if let stream = known.first {
                    if command & 0x10 != 0 { try? session.closeWrite(stream, now: now) } else { try? session.reset(stream, now: now) }
                }
            }
            wire.removeAll(keepingCapacity: true)
            _ = session.pollTransmit(into: &wire)
            while let event = session.pollEvent() {
                precondition(!closed, "event after sessionClosed: \(event)")
                switch event {
                case .inboundStream(let stream):
                    known.append(stream)
                case .readable(let stream):
                    sink.removeAll(keepingCapacity: true)
                    _ = try? session.read(stream, into: &sink, now: now)
                    precondition(sink.count <= Int(configuration.maximumReceiveWindow), "more buffered than any window")
                case .sessionClosed:
                    closed = true
                default:
                    break
                }
            }
            precondition(session.streamCount <= configuration.maximumStreams)
        }
    }
}
