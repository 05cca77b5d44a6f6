import Testing
@testable import TraverseCore

@Suite struct RelayResourcesTests {
    let ip1 = IPAddress.ipv4(IPv4Address(10, 0, 0, 1))
    let ip2 = IPAddress.ipv4(IPv4Address(10, 0, 0, 2))
    func peer(_ seed: UInt64) -> PeerID { RelayFixtures.key(1000 + seed).publicKey.peerID }
    func at(_ seconds: Int64) -> Instant { .zero + .seconds(seconds) }

    @Test func tokenBucketRefillsOnInjectedTime() {
        var bucket = TokenBucket(capacity: 4, refillAmount: 4, every: .seconds(60), now: .zero)
        for _ in 0..<4 { #expect((bucket.take(now: .zero)) == true) }
        #expect((!bucket.take(now: .zero)) == true)
        #expect(bucket.whenAvailable(now: .zero) == at(15))
        #expect((!bucket.take(now: at(14))) == true)
        #expect((bucket.take(now: at(15))) == true)
        #expect(bucket.available(now: at(1000)) == 4)
        #expect(bucket.whenAvailable(5, now: at(1000)) == nil)
        #expect(bucket.takeUpTo(10, now: at(1000)) == 4)
        // A clock going backwards refills nothing and traps nowhere.
        #expect(bucket.available(now: .zero) == 0)
    }

    @Test func defaultsAreTheSeeds() {
        let hop = RelayHopConfiguration()
        #expect(hop.maximumReservationsPerIP == 8 && hop.maximumCircuitsPerIP == 16)
        #expect(hop.reservationRatePerIP == 4 && hop.circuitRatePerIP == 8)
        #expect(hop.maximumCircuitsTotal == 64 && hop.maximumReservationsTotal == 32)
        #expect(hop.maximumBandwidthPerCircuit == 1_048_576 && hop.maximumBandwidthTotal == 10_485_760)
        #expect(hop.reservationTTL == .seconds(3600))
        let client = RelayClientConfiguration()
        #expect(client.reservationRefreshThreshold == 0.8 && client.maximumConcurrentReservations == 2)
        #expect(RelayConfiguration().roles == [.stop, .client])
        #expect(RelayRoles.hop.rawValue == 1 && RelayRoles.stop.rawValue == 2 && RelayRoles.client.rawValue == 4)
        #expect(RelayLimits().circuitLimit == CircuitLimit(durationSeconds: 3600, dataBytes: 1 << 30))
        #expect(RelayLimits(duration: nil, data: nil).circuitLimit == nil)
    }

    @Test func reservationsExpireRefreshAndSweep() throws {
        var resources = RelayResources(now: .zero)
        let a = peer(1)
        let first = try resources.reserve(peer: a, address: ip1, relayed: false, now: .zero).get()
        #expect(first.expiresAt == at(3600))
        #expect(resources.nextDeadline == at(3600))
        let refreshed = try resources.reserve(peer: a, address: ip1, relayed: false, now: at(2880)).get()
        #expect(refreshed.expiresAt == at(6480))
        #expect(resources.reservationCount == 1 && resources.reservationCount(at: ip1) == 1)
        resources.handleTimeout(now: at(3600))
        #expect(resources.pollEvent() == nil)
        resources.handleTimeout(now: at(6480))
        #expect(resources.pollEvent() == .reservationExpired(a))
        #expect(resources.reservationCount == 0 && resources.reservationCount(at: ip1) == 0)
        #expect(resources.nextDeadline == nil)
    }

    @Test func expiredReservationsStopCountingBeforeTheSweepAndRefreshesExpireOnce() throws {
        var configuration = RelayHopConfiguration()
        configuration.limits.maximumReservations = 2
        configuration.reservationRatePerIP = 1_000_000
        var resources = RelayResources(configuration: configuration, now: .zero)
        _ = try resources.reserve(peer: peer(1), address: ip1, relayed: false, now: .zero).get()
        _ = try resources.reserve(peer: peer(2), address: ip2, relayed: false, now: at(10)).get()
        #expect(throws: RelayRefusal.reservationsTotalExceeded) {
            try resources.reserve(peer: peer(3), address: ip1, relayed: false, now: at(20)).get()
        }
        // Peer 1's reservation expired at 3600 and is not swept yet: it no longer counts.
        _ = try resources.reserve(peer: peer(3), address: ip1, relayed: false, now: at(3600)).get()
        // Many refreshes of one reservation end in one expiry, at the last refresh's TTL.
        for second in stride(from: 3700, through: 13_600, by: 100) {
            _ = try resources.reserve(peer: peer(2), address: ip2, relayed: false, now: at(Int64(second))).get()
        }
        var expired: [PeerID] = []
        var now = at(3600)
        while let deadline = resources.nextDeadline, deadline <= at(20_000) {
            now = max(now, deadline)
            resources.handleTimeout(now: now)
            while case .reservationExpired(let who)? = resources.pollEvent() { expired.append(who) }
        }
        #expect(expired == [peer(1), peer(3), peer(2)])
        #expect(now == at(17_200))
        #expect(resources.reservationCount == 0 && resources.nextDeadline == nil)
    }

    @Test func reservationRefusalsSayWhy() {
        var configuration = RelayHopConfiguration(maximumReservationsPerIP: 2, reservationRatePerIP: 3)
        configuration.limits.maximumReservations = 3
        configuration.deniedPeers = [peer(99)]
        var resources = RelayResources(configuration: configuration, now: .zero)
        #expect(resources.reserve(peer: peer(1), address: ip1, relayed: true, now: .zero) == .failure(.relayedConnection))
        #expect(RelayRefusal.relayedConnection.status == .permissionDenied)
        #expect(resources.reserve(peer: peer(99), address: ip1, relayed: false, now: .zero) == .failure(.peerNotPermitted(peer(99))))
        #expect(RelayRefusal.peerNotPermitted(peer(99)).status == .permissionDenied)
        _ = resources.reserve(peer: peer(1), address: ip1, relayed: false, now: .zero)
        _ = resources.reserve(peer: peer(2), address: ip1, relayed: false, now: .zero)
        #expect(resources.reserve(peer: peer(3), address: ip1, relayed: false, now: .zero) == .failure(.reservationsPerIPExceeded))
        _ = resources.reserve(peer: peer(3), address: ip2, relayed: false, now: .zero)
        #expect(resources.reserve(peer: peer(4), address: ip2, relayed: false, now: .zero) == .failure(.reservationsTotalExceeded))
        #expect(RelayRefusal.reservationsTotalExceeded.status == .reservationRefused)
        // A refresh is not counted again against the limits but takes a token: the third from
        // ip1 (refused requests take none); the fourth within the minute is over the rate of 3.
        #expect(resources.reserve(peer: peer(1), address: ip1, relayed: false, now: .zero).isSuccess)
        #expect(resources.reserve(peer: peer(1), address: ip1, relayed: false, now: .zero) == .failure(.reservationRateExceeded))
        #expect(resources.reserve(peer: peer(1), address: ip1, relayed: false, now: at(20)).isSuccess)
    }

    @Test func allowListPermitsOnlyItsPeers() {
        let configuration = RelayHopConfiguration(allowedPeers: [peer(1)])
        var resources = RelayResources(configuration: configuration, now: .zero)
        #expect(resources.reserve(peer: peer(1), address: nil, relayed: false, now: .zero).isSuccess)
        #expect(resources.reserve(peer: peer(2), address: nil, relayed: false, now: .zero) == .failure(.peerNotPermitted(peer(2))))
    }

    @Test func circuitAdmissionAndReleaseAlwaysDecrements() throws {
        var configuration = RelayHopConfiguration(maximumCircuitsPerIP: 2, maximumCircuitsPerPeer: 3, circuitRatePerIP: 100)
        configuration.limits.maximumCircuitConnections = 4
        var resources = RelayResources(configuration: configuration, now: .zero)
        let target = peer(1)
        #expect(resources.openCircuit(source: peer(2), address: ip1, relayed: false, target: target, now: .zero) == .failure(.noReservation))
        #expect(RelayRefusal.noReservation.status == .noReservation)
        _ = resources.reserve(peer: target, address: ip2, relayed: false, now: .zero)
        #expect(resources.openCircuit(source: peer(2), address: ip1, relayed: true, target: target, now: .zero) == .failure(.relayedConnection))
        let c1 = try resources.openCircuit(source: peer(2), address: ip1, relayed: false, target: target, now: .zero).get()
        let c2 = try resources.openCircuit(source: peer(3), address: ip1, relayed: false, target: target, now: .zero).get()
        #expect(resources.openCircuit(source: peer(4), address: ip1, relayed: false, target: target, now: .zero) == .failure(.circuitsPerIPExceeded))
        #expect(RelayRefusal.circuitsPerIPExceeded.status == .resourceLimitExceeded)
        let c3 = try resources.openCircuit(source: peer(4), address: ip2, relayed: false, target: target, now: .zero).get()
        #expect(resources.openCircuit(source: peer(5), address: nil, relayed: false, target: target, now: .zero) == .failure(.circuitsPerPeerExceeded(target)))
        #expect(resources.circuitCount == 3 && resources.circuitCount(of: target) == 3 && resources.circuitCount(at: ip1) == 2)
        #expect((resources.releaseCircuit(c1)) == true)
        #expect((!resources.releaseCircuit(c1)) == true)
        #expect(resources.releaseCircuit(c2) && resources.releaseCircuit(c3))
        #expect(resources.circuitCount == 0 && resources.circuitCount(of: target) == 0 && resources.circuitCount(at: ip1) == 0)
        // The reservation expired: NO_RESERVATION even before the sweep.
        #expect(resources.openCircuit(source: peer(2), address: ip1, relayed: false, target: target, now: at(3600)) == .failure(.noReservation))
    }

    @Test func circuitRateAndTotal() throws {
        var configuration = RelayHopConfiguration(circuitRatePerIP: 2)
        configuration.limits.maximumCircuitConnections = 3
        var resources = RelayResources(configuration: configuration, now: .zero)
        _ = resources.reserve(peer: peer(1), address: nil, relayed: false, now: .zero)
        _ = try resources.openCircuit(source: peer(2), address: ip1, relayed: false, target: peer(1), now: .zero).get()
        _ = try resources.openCircuit(source: peer(3), address: ip1, relayed: false, target: peer(1), now: .zero).get()
        #expect(resources.openCircuit(source: peer(4), address: ip1, relayed: false, target: peer(1), now: .zero) == .failure(.circuitRateExceeded))
        _ = try resources.openCircuit(source: peer(4), address: ip2, relayed: false, target: peer(1), now: .zero).get()
        #expect(resources.openCircuit(source: peer(5), address: ip2, relayed: false, target: peer(1), now: .zero) == .failure(.circuitsTotalExceeded))
        #expect(resources.openCircuit(source: peer(1), address: ip2, relayed: false, target: peer(1), now: .zero) == .failure(.connectToSelf))
    }

    @Test func totalBandwidthIsABucket() {
        var resources = RelayResources(configuration: RelayHopConfiguration(maximumBandwidthTotal: 1000), now: .zero)
        #expect(resources.takeBandwidth(600, now: .zero) == 600)
        #expect(resources.takeBandwidth(600, now: .zero) == 400)
        #expect(resources.takeBandwidth(600, now: .zero + .milliseconds(500)) == 500)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { true } else { false }
    }
}
