/// A connection's per-stream bookkeeping above Yamux: streams still negotiating their
/// protocol, bytes that arrived behind the last multistream message, and which streams the
/// owner knows about (outbound ones from the start, inbound ones once negotiated).
struct StreamTable {
    struct Negotiation {
        var negotiator: ProtocolNegotiator
        let isOutbound: Bool
        let deadline: Instant
        /// The owner may write (the protocol is chosen, optimistically or not).
        var selected = false
        /// Negotiation bytes the stream's window could not take yet.
        var pendingOutput: [UInt8] = []
        /// Set when negotiation finished but `pendingOutput` is still waiting.
        var completedProtocol: String?
        var remainingAfterCompletion: [UInt8] = []
    }

    var negotiations: [UInt32: Negotiation] = [:]
    var leftovers: [UInt32: [UInt8]] = [:]
    var announced: Set<StreamID> = []
    /// Streams Yamux finished while the owner still had leftover bytes to read.
    var closedUnderLeftover: Set<StreamID> = []

    mutating func startNegotiation(_ id: StreamID, negotiator: ProtocolNegotiator, isOutbound: Bool, deadline: Instant) {
        negotiations[id.rawValue] = Negotiation(negotiator: negotiator, isOutbound: isOutbound, deadline: deadline)
    }

    mutating func removeNegotiation(_ id: StreamID) -> Negotiation? {
        negotiations.removeValueReleasingEmptyStorage(forKey: id.rawValue)
    }

    var inboundNegotiationCount: Int {
        negotiations.values.reduce(0) { $0 + ($1.isOutbound ? 0 : 1) }
    }

    /// Read after every input, so it walks the table without allocating.
    var earliestDeadline: Instant? {
        var earliest: Instant?
        for negotiation in negotiations.values {
            earliest = earliest.earliest(negotiation.deadline)
        }
        return earliest
    }

    func expiredNegotiations(at now: Instant) -> [StreamID] {
        negotiations.filter { $0.value.deadline <= now }.keys.sorted().map(StreamID.init)
    }

    /// Moves leftover bytes to `destination`; `nil` when the stream has none.
    mutating func readLeftover(_ id: StreamID, into destination: inout [UInt8], maximum: Int) -> Int? {
        guard maximum > 0, leftovers[id.rawValue]?.isEmpty == false,
              var bytes = leftovers.removeValueReleasingEmptyStorage(forKey: id.rawValue)
        else { return nil }
        let count = min(maximum, bytes.count)
        destination.append(contentsOf: bytes[0..<count])
        bytes.removeFirst(count)
        if !bytes.isEmpty { leftovers[id.rawValue] = bytes }
        return count
    }

    func hasLeftover(_ id: StreamID) -> Bool { leftovers[id.rawValue]?.isEmpty == false }

    func leftoverCount(_ id: StreamID) -> Int { leftovers[id.rawValue]?.count ?? 0 }

    /// Drops everything about a stream.
    mutating func forget(_ id: StreamID) {
        negotiations.removeValueReleasingEmptyStorage(forKey: id.rawValue)
        leftovers.removeValueReleasingEmptyStorage(forKey: id.rawValue)
        announced.removeReleasingEmptyStorage(id)
        closedUnderLeftover.removeReleasingEmptyStorage(id)
    }

    /// Yamux finished the stream: forget it, unless the owner still has bytes to read.
    mutating func forgetUnlessLeftover(_ id: StreamID) {
        if hasLeftover(id) {
            closedUnderLeftover.insert(id)
        } else {
            forget(id)
        }
    }
}
