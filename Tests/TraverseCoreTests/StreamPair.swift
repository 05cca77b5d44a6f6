import TraverseCore

/// Two stream protocol machines on the two ends of one in-memory stream, with half-closes
/// and backpressure: each side's `wantsToCloseWrite` (after its output is drained) becomes
/// the other side's `receiveEndOfStream` once every byte before it was delivered, and no
/// side is handed more than its `receiveCapacity`.
struct StreamPair<A: StreamProtocolMachine, B: StreamProtocolMachine>: MachinePairing {
    var a: A
    var b: B
    var now = Instant.zero
    var eventsA: [A.Event] = []
    var eventsB: [B.Event] = []
    /// Whether each side half-closed (its end of stream reached the other side or is queued).
    private(set) var aClosedWrite = false
    private(set) var bClosedWrite = false
    /// Whether each side received the other's end of stream.
    private(set) var aSawEndOfStream = false
    private(set) var bSawEndOfStream = false
    /// Bytes carried each way.
    private(set) var carriedAB = 0
    private(set) var carriedBA = 0
    private var wireAB = Wire()
    private var wireBA = Wire()
    private var generator: SeededGenerator
    private let chunking: Chunking

    private struct Wire {
        var bytes: [UInt8] = []
        var offset = 0
        var pending: Int { bytes.count - offset }
        mutating func consume(_ count: Int) {
            offset += count
            if offset == bytes.count { bytes.removeAll(keepingCapacity: true); offset = 0 }
        }
    }

    init(_ a: A, _ b: B, chunking: Chunking = .whole) {
        self.a = a
        self.b = b
        self.chunking = chunking
        if case .random(let seed) = chunking {
            generator = SeededGenerator(seed: seed)
        } else {
            generator = SeededGenerator(seed: 0)
        }
    }

    /// Moves bytes and half-closes both ways until nothing moves; collects events.
    mutating func run(maximumRounds: Int = 1_000_000) {
        for _ in 0..<maximumRounds {
            var progress = false
            if !aClosedWrite {
                if a.pollTransmit(into: &wireAB.bytes) > 0 { progress = true }
                else if a.wantsToCloseWrite { aClosedWrite = true; progress = true }
            }
            if !bClosedWrite {
                if b.pollTransmit(into: &wireBA.bytes) > 0 { progress = true }
                else if b.wantsToCloseWrite { bClosedWrite = true; progress = true }
            }
            drainEvents()
            if deliverToB() { progress = true }
            if deliverToA() { progress = true }
            drainEvents()
            if !progress { break }
        }
    }


    private mutating func pieceSize(_ pending: Int, capacity: Int) -> Int {
        let size: Int
        switch chunking {
        case .whole: size = pending
        case .bytewise: size = 1
        case .random: size = Int.random(in: 1...70_000, using: &generator)
        }
        return min(size, pending, capacity)
    }

    private mutating func deliverToB() -> Bool {
        var moved = false
        while wireAB.pending > 0 {
            let size = pieceSize(wireAB.pending, capacity: b.receiveCapacity)
            guard size > 0 else { break }
            let range = wireAB.offset..<(wireAB.offset + size)
            let now = self.now
            wireAB.bytes.withUnsafeBufferPointer { b.receive(UnsafeBufferPointer(rebasing: $0[range]).span, now: now) }
            wireAB.consume(size)
            carriedAB += size
            moved = true
        }
        if wireAB.pending == 0 && aClosedWrite && !bSawEndOfStream {
            bSawEndOfStream = true
            b.receiveEndOfStream(now: now)
            moved = true
        }
        return moved
    }

    private mutating func deliverToA() -> Bool {
        var moved = false
        while wireBA.pending > 0 {
            let size = pieceSize(wireBA.pending, capacity: a.receiveCapacity)
            guard size > 0 else { break }
            let range = wireBA.offset..<(wireBA.offset + size)
            let now = self.now
            wireBA.bytes.withUnsafeBufferPointer { a.receive(UnsafeBufferPointer(rebasing: $0[range]).span, now: now) }
            wireBA.consume(size)
            carriedBA += size
            moved = true
        }
        if wireBA.pending == 0 && bClosedWrite && !aSawEndOfStream {
            aSawEndOfStream = true
            a.receiveEndOfStream(now: now)
            moved = true
        }
        return moved
    }
}

/// Helpers for driving one stream protocol machine alone.
extension StreamProtocolMachine {
    /// Feeds `bytes` in pieces cut by `chunking`.
    mutating func receive(_ bytes: [UInt8], chunking: Chunking, now: Instant = .zero) {
        var generator = SeededGenerator(seed: { if case .random(let seed) = chunking { seed } else { 0 } }())
        var offset = 0
        while offset < bytes.count {
            let size: Int
            switch chunking {
            case .whole: size = bytes.count - offset
            case .bytewise: size = 1
            case .random: size = min(bytes.count - offset, Int.random(in: 1...64, using: &generator))
            }
            bytes[offset..<(offset + size)].withUnsafeBufferPointer { receive($0.span, now: now) }
            offset += size
        }
    }

    /// Drains `pollTransmit` into one array.
    mutating func transmitted() -> [UInt8] {
        var bytes: [UInt8] = []
        while pollTransmit(into: &bytes) > 0 {}
        return bytes
    }

    /// Drains `pollEvent`.
    mutating func events() -> [Event] {
        var events: [Event] = []
        while let event = pollEvent() { events.append(event) }
        return events
    }
}
