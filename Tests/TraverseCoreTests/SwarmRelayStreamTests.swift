import Testing
@testable import TraverseCore

/// Application streams over relayed connections: bulk data both ways through the relay's
/// bandwidth shaping, several circuits at once, and circuits that outlive keepalive rounds.
@Suite struct SwarmRelayStreamTests {
    typealias Bed = RelayTestBed
    static let bulkProtocol = "/test/bulk/1"

    /// Bytes that differ per `seed` and do not repeat with a short period.
    static func pattern(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    /// Where `received` differs from `sent` (`nil`: identical), without the slow element
    /// diff an `#expect` on two large arrays would print.
    static func mismatch(_ received: [UInt8], _ sent: [UInt8]) -> String? {
        if received == sent { return nil }
        let first = zip(received, sent).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(received.count, sent.count)
        return "\(received.count) bytes received of \(sent.count), first difference at \(first)"
    }

    /// One side of an application stream: what it sends (then closes) and what it received.
    struct StreamEnd {
        let node: Int
        let stream: SwarmStreamID
        let outgoing: [UInt8]
        var sent = 0
        var closed = false
        var received: [UInt8] = []
        var ended = false

        var done: Bool { closed && ended }
    }

    /// Writes and reads every end until all sent and saw the end of the other's data,
    /// moving time from one deadline to the next (the relay shapes bandwidth). Returns how
    /// many deadlines it took; fails past `maximumSteps` or when nothing is left to wait for.
    @discardableResult
    static func exchange(_ ends: inout [StreamEnd], in network: inout SwarmNetwork, maximumSteps: Int = 2000) throws -> Int {
        for step in 0...maximumSteps {
            for index in ends.indices {
                var end = ends[index]
                if end.sent < end.outgoing.count {
                    end.sent += try network.nodes[end.node].swarm.write(
                        end.stream, end.outgoing.span.extracting(end.sent...), now: network.now)
                }
                if end.sent == end.outgoing.count && !end.closed {
                    try network.nodes[end.node].swarm.closeWrite(end.stream, now: network.now)
                    end.closed = true
                }
                while !end.ended {
                    guard network.nodes[end.node].swarm.readableByteCount(end.stream) > 0
                        || !network.nodes[end.node].events.contains(.streamClosed(end.stream))
                    else {
                        // Closed here first: reading the last byte finished the stream, and
                        // the swarm let go of it with `streamClosed` instead of an end of stream.
                        end.ended = true
                        break
                    }
                    let result = try network.nodes[end.node].swarm.read(end.stream, into: &end.received, now: network.now)
                    if result == .endOfStream { end.ended = true }
                    if result == .wouldBlock || result == .bytes(0) { break }
                }
                ends[index] = end
            }
            network.settle()
            if ends.allSatisfy(\.done) { return step }
            guard let next = network.nodes.compactMap(\.swarm.nextDeadline).min() else {
                Issue.record("exchange stalled: \(ends.map { ($0.sent, $0.received.count, $0.ended) })")
                return step
            }
            network.advance(by: next > network.now ? next - network.now : .zero)
            if network.timerLivelock { return step }
        }
        Issue.record("exchange unfinished after \(maximumSteps) deadlines: \(ends.map { ($0.sent, $0.received.count, $0.ended) })")
        return maximumSteps
    }

    /// Opens an application stream from `node` to `peer` (on the connection the swarm picks)
    /// and returns both sides: the opener's and the one `listener` was handed.
    static func openBulkStream(
        from node: Int, to peer: PeerID, listener: Int, in network: inout SwarmNetwork
    ) throws -> (SwarmStreamID, SwarmStreamID) {
        let request = network.nodes[node].swarm.openStream(to: peer, protocols: [bulkProtocol], now: network.now)
        network.settle()
        let opened = network.takeEvents(node).compactMap { event -> SwarmStreamID? in
            if case .streamOpened(request, let stream, bulkProtocol) = event { stream } else { nil }
        }
        let outbound = try #require(opened.first)
        let dialer = network.peer(node)
        let inbound = network.takeEvents(listener).compactMap { event -> SwarmStreamID? in
            if case .inboundStream(let stream, bulkProtocol, dialer) = event { stream } else { nil }
        }
        return (outbound, try #require(inbound.first))
    }

    @Test func applicationStreamCarriesHundredsOfKiBBothWays() throws {
        var hop = RelayHopConfiguration()
        hop.maximumBandwidthPerCircuit = 256 * 1024
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 2)
        let listener = network.peer(1), dialer = network.peer(2)
        network.nodes[1].swarm.addStreamHandler(Self.bulkProtocol, now: network.now)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, circuit, in: &network).get()
        _ = network.takeEvents(1)

        let (outbound, inbound) = try Self.openBulkStream(from: 2, to: listener, listener: 1, in: &network)
        #expect(outbound.connection == relayed)
        #expect(network.nodes[1].swarm.connections(to: dialer).first { $0.id == inbound.connection }?.isRelayed == true)
        let up = Self.pattern(count: 300 * 1024, seed: 1)
        let down = Self.pattern(count: 200 * 1024, seed: 2)
        let start = network.now
        var ends = [
            StreamEnd(node: 2, stream: outbound, outgoing: up),
            StreamEnd(node: 1, stream: inbound, outgoing: down),
        ]
        let steps = try Self.exchange(&ends, in: &network)
        #expect(Self.mismatch(ends[1].received, up) == nil)
        #expect(Self.mismatch(ends[0].received, down) == nil)
        // The circuit is shaped to 256 KiB/s with a burst of as much: 500 KiB (and the
        // connection's own bytes) need about a second more than the burst.
        let elapsed = network.now - start
        #expect(elapsed >= .milliseconds(900) && elapsed <= .seconds(3))
        // The shaped circuit wakes up for chunks (8 KiB), not for every byte.
        #expect(steps <= 100, "\(steps) deadlines")
        let relayStatistics = network.nodes[0].swarm.relayStatistics
        #expect(relayStatistics.bytesRelayed > UInt64(up.count + down.count))
        #expect(relayStatistics.circuits == 1)
        network.settle()
        #expect(network.takeEvents(2).contains(.streamClosed(outbound)))
    }

    @Test func relaysTotalBandwidthShapesItsCircuitsTogether() throws {
        // The relay's total (128 KiB/s) is below each circuit's (1 MiB/s): it alone holds
        // the two circuits back, and they go on as it refills.
        var hop = RelayHopConfiguration()
        hop.maximumBandwidthTotal = 128 * 1024
        hop.maximumBandwidthPerCircuit = 1 << 20
        var (network, relayAddress) = try Bed.network(hop: hop, clientCount: 3)
        let listener = network.peer(1)
        network.nodes[1].swarm.addStreamHandler(Self.bulkProtocol, now: network.now)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        var ends: [StreamEnd] = []
        for node in [2, 3] {
            _ = try Bed.dial(from: node, circuit, in: &network).get()
            let (outbound, inbound) = try Self.openBulkStream(from: node, to: listener, listener: 1, in: &network)
            ends.append(StreamEnd(node: node, stream: outbound, outgoing: Self.pattern(count: 200 * 1024, seed: UInt64(node))))
            ends.append(StreamEnd(node: 1, stream: inbound, outgoing: []))
        }
        let start = network.now
        let steps = try Self.exchange(&ends, in: &network)
        #expect(Self.mismatch(ends[1].received, ends[0].outgoing) == nil)
        #expect(Self.mismatch(ends[3].received, ends[2].outgoing) == nil)
        // 400 KiB and the connections' own bytes, less the 128 KiB burst, at 128 KiB/s.
        let elapsed = network.now - start
        #expect(elapsed >= .milliseconds(2000) && elapsed <= .seconds(6), "\(elapsed)")
        #expect(steps <= 200, "\(steps) deadlines")
    }

    @Test func threeRelayedConnectionsThroughOneRelayKeepTheirDataApart() throws {
        var (network, relayAddress) = try Bed.network(clientCount: 4)
        let listener = network.peer(1)
        network.nodes[1].swarm.addStreamHandler(Self.bulkProtocol, now: network.now)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let dialers = [2, 3, 4]
        for node in dialers {
            _ = try Bed.dial(from: node, circuit, in: &network).get()
        }
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 3)
        let inboundRelayed = network.nodes[1].swarm.establishedConnections.filter(\.isRelayed)
        #expect(Set(inboundRelayed.map(\.peer)) == Set(dialers.map { network.peer($0) }))
        _ = network.takeEvents(1)

        var ends: [StreamEnd] = []
        for node in dialers {
            let (outbound, inbound) = try Self.openBulkStream(from: node, to: listener, listener: 1, in: &network)
            ends.append(StreamEnd(node: node, stream: outbound, outgoing: Self.pattern(count: 120 * 1024, seed: UInt64(node))))
            ends.append(StreamEnd(node: 1, stream: inbound, outgoing: Self.pattern(count: 80 * 1024, seed: UInt64(100 + node))))
        }
        try Self.exchange(&ends, in: &network)
        for pair in stride(from: 0, to: ends.count, by: 2) {
            let dialerEnd = ends[pair], listenerEnd = ends[pair + 1]
            #expect(Self.mismatch(listenerEnd.received, dialerEnd.outgoing) == nil, "from node \(dialerEnd.node)")
            #expect(Self.mismatch(dialerEnd.received, listenerEnd.outgoing) == nil, "to node \(dialerEnd.node)")
        }
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 3)
        #expect(Bed.circuitEnds(network.takeEvents(0)).isEmpty)
    }

    @Test func idleRelayedConnectionOutlivesKeepalives() throws {
        var (network, relayAddress) = try Bed.network(clientCount: 2)
        let listener = network.peer(1)
        network.nodes[1].swarm.addStreamHandler(Self.bulkProtocol, now: network.now)
        let circuit = try Bed.reserved(1, on: relayAddress, in: &network)
        let relayed = try Bed.dial(from: 2, circuit, in: &network).get()
        _ = network.takeEvents(1)
        let (outbound, inbound) = try Self.openBulkStream(from: 2, to: listener, listener: 1, in: &network)

        // Four Yamux keepalive rounds on every connection, nothing else sent.
        network.advance(by: .seconds(125))
        #expect(network.nodes[2].swarm.connections(to: listener).map(\.id) == [relayed])
        #expect(Bed.circuitEnds(network.takeEvents(0)).isEmpty)
        #expect(network.nodes[0].swarm.relayStatistics.circuits == 1)
        var ends = [
            StreamEnd(node: 2, stream: outbound, outgoing: Self.pattern(count: 20_000, seed: 7)),
            StreamEnd(node: 1, stream: inbound, outgoing: Self.pattern(count: 30_000, seed: 8)),
        ]
        try Self.exchange(&ends, in: &network)
        #expect(Self.mismatch(ends[1].received, ends[0].outgoing) == nil)
        #expect(Self.mismatch(ends[0].received, ends[1].outgoing) == nil)
    }
}
