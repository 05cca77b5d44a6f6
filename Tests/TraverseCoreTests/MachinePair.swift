import TraverseCore

/// How a `MachinePair` cuts the bytes it carries.
enum Chunking {
    /// Everything pending in one piece.
    case whole
    /// One byte at a time.
    case bytewise
    /// Random piece sizes from a seeded generator.
    case random(seed: UInt64)
}

/// Two byte-stream machines wired to each other in memory, with virtual time.
struct MachinePair<A: ByteStreamMachine, B: ByteStreamMachine>: MachinePairing {
    var a: A
    var b: B
    var now = Instant.zero
    var chunking: Chunking
    var eventsA: [A.Event] = []
    var eventsB: [B.Event] = []
    /// Bytes on the wire from A to B and from B to A, not yet delivered.
    var wireAB: [UInt8] = []
    var wireBA: [UInt8] = []
    private var generator: SeededGenerator

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

    /// Moves bytes both ways until neither side has anything to send; collects events.
    /// Returns the number of bytes carried.
    @discardableResult
    mutating func run(maximumRounds: Int = 100_000) -> Int {
        var carried = 0
        for _ in 0..<maximumRounds {
            _ = a.pollTransmit(into: &wireAB)
            _ = b.pollTransmit(into: &wireBA)
            drainEvents()
            if wireAB.isEmpty && wireBA.isEmpty { break }
            var toB: [UInt8] = []
            swap(&toB, &wireAB)
            carried += deliver(&toB, toA: false)
            var toA: [UInt8] = []
            swap(&toA, &wireBA)
            carried += deliver(&toA, toA: true)
            drainEvents()
        }
        return carried
    }


    private mutating func deliver(_ wire: inout [UInt8], toA: Bool) -> Int {
        let total = wire.count
        var offset = 0
        while offset < total {
            let size: Int
            switch chunking {
            case .whole: size = total - offset
            case .bytewise: size = 1
            case .random: size = min(total - offset, Int.random(in: 1...max(1, min(total, 70_000)), using: &generator))
            }
            let piece = wire[offset..<(offset + size)]
            let now = self.now
            piece.withUnsafeBufferPointer { buffer in
                if toA { a.receive(buffer.span, now: now) } else { b.receive(buffer.span, now: now) }
            }
            offset += size
        }
        wire.removeAll(keepingCapacity: true)
        return total
    }
}

/// A machine whose streams can be read (a Yamux session or a connection).
protocol StreamReading {
    associatedtype ReadError: Error
    mutating func read(
        _ stream: YamuxStreamID, into destination: inout [UInt8], maximum: Int, now: Instant
    ) throws(ReadError) -> YamuxReadResult
}

extension YamuxSession: StreamReading {}
extension Connection: StreamReading {}

extension StreamReading {
    /// Reads everything buffered on `stream`; `ended` when the end of the stream was seen.
    mutating func readAll(_ stream: YamuxStreamID, now: Instant = .zero) throws(ReadError) -> (bytes: [UInt8], ended: Bool) {
        var bytes: [UInt8] = []
        while true {
            switch try read(stream, into: &bytes, maximum: .max, now: now) {
            case .bytes: continue
            case .wouldBlock: return (bytes, false)
            case .endOfStream: return (bytes, true)
            }
        }
    }
}

/// Two machines wired together in a test, with virtual time: what every pair shares.
protocol MachinePairing {
    associatedtype A: ByteStreamMachine
    associatedtype B: ByteStreamMachine
    var a: A { get set }
    var b: B { get set }
    var now: Instant { get set }
    var eventsA: [A.Event] { get set }
    var eventsB: [B.Event] { get set }
}

extension MachinePairing {
    /// Advances virtual time, firing both machines' deadlines that have passed.
    mutating func advance(by duration: Duration) {
        now = now + duration
        if let deadline = a.nextDeadline, deadline <= now { a.handleTimeout(now: now) }
        if let deadline = b.nextDeadline, deadline <= now { b.handleTimeout(now: now) }
        drainEvents()
    }

    mutating func drainEvents() {
        while let event = a.pollEvent() { eventsA.append(event) }
        while let event = b.pollEvent() { eventsB.append(event) }
    }
}
