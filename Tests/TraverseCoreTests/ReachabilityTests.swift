import Testing
@testable import TraverseCore

@Suite struct ObservedAddressBookTests {
    typealias F = AutoNATFixtures

    let local = SocketAddress.ipv4(IPv4Address(192, 168, 1, 10), port: 4001)
    let publicLocal = SocketAddress.ipv4(IPv4Address(81, 2, 3, 4), port: 4001)
    let peers = AutoNATFixtures.peers(8)

    /// The n-th observer's IP: each in its own /24 unless `sameGroup`.
    func observerIP(_ index: Int, sameGroup: Bool = false) -> IPAddress {
        .ipv4(IPv4Address(31, UInt8(10 + index), sameGroup ? 0 : UInt8(index), UInt8(1 + index)))
    }

    func observe(
        _ book: inout ObservedAddressBook, _ observed: String, by index: Int, local: SocketAddress? = nil,
        sameGroup: Bool = false, at seconds: Int64 = 0
    ) -> AddressObservationOutcome {
        book.record(
            observed: F.address(observed), local: local ?? self.local, observer: peers[index],
            observerIP: sameGroup ? .ipv4(IPv4Address(31, 10, 0, UInt8(1 + index))) : observerIP(index),
            now: .zero + .seconds(seconds))
    }

    @Test func observerGroups() {
        #expect(ObserverGroup(.ipv4(IPv4Address(203, 0, 113, 77))).description == "203.0.113.0/24")
        #expect(ObserverGroup(.ipv4(IPv4Address(203, 0, 113, 77))) == ObserverGroup(.ipv4(IPv4Address(203, 0, 113, 1))))
        #expect(ObserverGroup(.ipv4(IPv4Address(203, 0, 113, 77))) != ObserverGroup(.ipv4(IPv4Address(203, 0, 114, 77))))
        let a = IPAddress.ipv6(IPv6Address(high: 0x2606_4700_0000_00AB, low: 1))
        let b = IPAddress.ipv6(IPv6Address(high: 0x2606_4700_0000_00CD, low: 99))
        let c = IPAddress.ipv6(IPv6Address(high: 0x2606_4700_0000_01AB, low: 1))
        #expect(ObserverGroup(a) == ObserverGroup(b) && ObserverGroup(a) != ObserverGroup(c))
        #expect(ObserverGroup(a).description == "2606:4700::/56")
        #expect(ObserverGroup(a, ipv6PrefixLength: 128) != ObserverGroup(b, ipv6PrefixLength: 128))
        let mapped = IPAddress.ipv6(IPv6Address(ipv4Mapped: IPv4Address(203, 0, 113, 5)))
        #expect(ObserverGroup(mapped) == ObserverGroup(.ipv4(IPv4Address(203, 0, 113, 9))))
        #expect(ObserverGroup(.ipv4(IPv4Address(1, 2, 3, 4)), ipv4PrefixLength: 0).description == "0.0.0.0/0")
    }

    @Test func confirmedByDistinctObservers() {
        var book = ObservedAddressBook()
        #expect(observe(&book, "/ip4/81.2.3.4/tcp/4001", by: 0) == .recorded(newlyConfirmed: false))
        #expect(observe(&book, "/ip4/81.2.3.4/tcp/4001/p2p/\(F.client)", by: 1) == .recorded(newlyConfirmed: false))
        #expect(book.support(for: F.address("/ip4/81.2.3.4/tcp/4001"), now: .zero) == 2)
        #expect(book.confirmedAddresses(now: .zero).isEmpty)
        #expect(observe(&book, "/ip4/81.2.3.4/tcp/4001", by: 2) == .recorded(newlyConfirmed: true))
        #expect(book.confirmedAddresses(now: .zero) == [F.address("/ip4/81.2.3.4/tcp/4001")])
        #expect(observe(&book, "/ip4/81.2.3.4/tcp/4001", by: 3) == .recorded(newlyConfirmed: false))
        #expect(book.support(for: F.address("/ip4/81.2.3.4/tcp/4001"), now: .zero) == 4)
    }

    @Test func observersInOneGroupCountOnce() {
        var book = ObservedAddressBook()
        for index in 0..<5 { _ = observe(&book, "/ip4/81.2.3.4/tcp/4001", by: index, sameGroup: true) }
        #expect(book.support(for: F.address("/ip4/81.2.3.4/tcp/4001"), now: .zero) == 1)
        #expect(book.observationCount == 1)
        #expect(book.confirmedAddresses(now: .zero).isEmpty)
        // The same peer reporting again, too.
        var again = ObservedAddressBook()
        for _ in 0..<5 { _ = observe(&again, "/ip4/81.2.3.4/tcp/4001", by: 0) }
        #expect(again.support(for: F.address("/ip4/81.2.3.4/tcp/4001"), now: .zero) == 1)
    }

    @Test func confirmationsAreConfigurable() {
        var configuration = ObservedAddressBookConfiguration()
        configuration.confirmations = 2
        var book = ObservedAddressBook(configuration: configuration)
        _ = observe(&book, "/ip4/81.2.3.4/tcp/4001", by: 0)
        #expect(observe(&book, "/ip4/81.2.3.4/tcp/4001", by: 1) == .recorded(newlyConfirmed: true))
    }

    @Test func ignoredObservations() {
        var book = ObservedAddressBook()
        #expect(observe(&book, "/ip4/192.168.1.10/tcp/4001", by: 0) == .ignored(.observedAddressNotPublic))
        #expect(observe(&book, "/ip4/81.2.3.4/udp/4001/quic-v1", by: 0) == .ignored(.unsupportedAddress))
        #expect(observe(&book, "/dns4/example.com/tcp/4001", by: 0) == .ignored(.unsupportedAddress))
        #expect(observe(&book, "/ip4/81.2.3.4/tcp/0", by: 0) == .ignored(.unsupportedAddress))
        #expect(book.record(
            observed: F.address("/ip4/81.2.3.4/tcp/4001"), local: local, observer: peers[0],
            observerIP: .ipv4(IPv4Address(10, 0, 0, 1)), now: .zero) == .ignored(.observerNotPublic))
        #expect(book.observationCount == 0)
        var configuration = ObservedAddressBookConfiguration()
        configuration.publicScopes = nil
        var lan = ObservedAddressBook(configuration: configuration)
        #expect(lan.record(
            observed: F.address("/ip4/192.168.1.10/tcp/4001"), local: local, observer: peers[0],
            observerIP: .ipv4(IPv4Address(192, 168, 1, 20)), now: .zero) == .recorded(newlyConfirmed: false))
    }

    @Test func observationsExpire() {
        var book = ObservedAddressBook()
        for index in 0..<3 { _ = observe(&book, "/ip4/81.2.3.4/tcp/4001", by: index, at: Int64(index) * 60) }
        #expect(book.nextDeadline == .zero + .seconds(30 * 60))
        #expect(book.isConfirmed(F.address("/ip4/81.2.3.4/tcp/4001"), now: .zero + .seconds(1799)))
        #expect(!book.isConfirmed(F.address("/ip4/81.2.3.4/tcp/4001"), now: .zero + .seconds(1800)))
        #expect(book.natType(now: .zero + .seconds(1800)) == .unknown)
        book.removeExpired(now: .zero + .seconds(1800))
        #expect(book.observationCount == 2)
        #expect(book.nextDeadline == .zero + .seconds(1860))
        book.removeExpired(now: .zero + .seconds(2000))
        #expect(book.observationCount == 0 && book.nextDeadline == nil && book.localAddresses.isEmpty)
        // A fresh report of the first observer after expiry counts again.
        #expect(observe(&book, "/ip4/81.2.3.4/tcp/4001", by: 0, at: 2000) == .recorded(newlyConfirmed: false))
    }

    @Test func sizeIsBounded() {
        var configuration = ObservedAddressBookConfiguration()
        configuration.maximumObserversPerLocalAddress = 4
        configuration.maximumLocalAddresses = 2
        var book = ObservedAddressBook(configuration: configuration)
        for index in 0..<8 { _ = observe(&book, "/ip4/81.2.3.4/tcp/\(5000 + index)", by: index, at: Int64(index)) }
        #expect(book.observationCount == 4)
        // The oldest were forgotten.
        #expect(book.observations(for: local, now: .zero + .seconds(10)).map(\.observer) == Array(peers[4..<8].reversed()))
        let second = SocketAddress.ipv4(IPv4Address(192, 168, 1, 10), port: 4002)
        let third = SocketAddress.ipv4(IPv4Address(192, 168, 1, 10), port: 4003)
        _ = observe(&book, "/ip4/81.2.3.4/tcp/6000", by: 0, local: second, at: 20)
        _ = observe(&book, "/ip4/81.2.3.4/tcp/6001", by: 0, local: third, at: 21)
        #expect(book.localAddresses.count == 2)
        #expect(!book.localAddresses.contains(local))
        book.forget(local: second)
        #expect(book.localAddresses == [third])
    }

    @Test func natTypePublic() {
        var book = ObservedAddressBook()
        for index in 0..<2 { _ = observe(&book, "/ip4/81.2.3.4/tcp/4001", by: index, local: publicLocal) }
        #expect(book.natType(now: .zero) == .unknown)
        _ = observe(&book, "/ip4/81.2.3.4/tcp/4001", by: 2, local: publicLocal)
        #expect(book.natType(for: publicLocal, now: .zero) == .public)
        #expect(book.natType(now: .zero) == .public)
    }

    @Test func natTypeConsistentMapping() {
        var book = ObservedAddressBook()
        for index in 0..<3 { _ = observe(&book, "/ip4/81.2.3.4/tcp/53001", by: index) }
        #expect(book.natType(for: local, now: .zero) == .private)
        // One stray report does not change the picture: 3 of 4 agree.
        _ = observe(&book, "/ip4/81.2.3.4/tcp/53999", by: 3)
        #expect(book.natType(now: .zero) == .private)
    }

    @Test func natTypeSymmetric() {
        var book = ObservedAddressBook()
        _ = observe(&book, "/ip4/81.2.3.4/tcp/53001", by: 0)
        _ = observe(&book, "/ip4/81.2.3.4/tcp/53002", by: 1)
        #expect(book.natType(now: .zero) == .unknown)
        _ = observe(&book, "/ip4/81.2.3.4/tcp/53003", by: 2)
        #expect(book.natType(for: local, now: .zero) == .symmetric)
        #expect(book.natType(now: .zero) == .symmetric)
        #expect(book.confirmedAddresses(now: .zero).isEmpty)
        // Two agreeing out of three is neither confirmed nor symmetric.
        var mixed = ObservedAddressBook()
        _ = observe(&mixed, "/ip4/81.2.3.4/tcp/53001", by: 0)
        _ = observe(&mixed, "/ip4/81.2.3.4/tcp/53001", by: 1)
        _ = observe(&mixed, "/ip4/81.2.3.4/tcp/53002", by: 2)
        #expect(mixed.natType(now: .zero) == .unknown)
        // Different ports on different local ports are not symmetric: each is its own key.
        var perPort = ObservedAddressBook()
        for index in 0..<3 {
            _ = observe(&perPort, "/ip4/81.2.3.4/tcp/\(53001 + index)", by: index,
                        local: .ipv4(IPv4Address(192, 168, 1, 10), port: UInt16(40000 + index)))
        }
        #expect(perPort.natType(now: .zero) == .unknown)
    }

    @Test func publicWinsOverSymmetric() {
        var book = ObservedAddressBook()
        for index in 0..<3 { _ = observe(&book, "/ip4/81.2.3.4/tcp/\(53001 + index)", by: index) }
        #expect(book.natType(now: .zero) == .symmetric)
        for index in 3..<6 { _ = observe(&book, "/ip4/81.2.3.4/tcp/4001", by: index, local: publicLocal) }
        #expect(book.natType(now: .zero) == .public)
    }
}

@Suite struct ReachabilityStatusTests {
    typealias F = AutoNATFixtures
    let peers = AutoNATFixtures.peers(8)

    @Test func needsAgreeingResultsFromDistinctPeers() {
        var status = ReachabilityStatus()
        #expect(status.reachability == .unknown && !status.relayRequired)
        #expect((status.record(.private, from: peers[0], now: .zero)) == false)
        // The same peer again does not count.
        #expect((status.record(.private, from: peers[0], now: .zero)) == false)
        #expect((status.record(.private, from: peers[1], now: .zero)) == false)
        #expect(status.reachability == .unknown)
        #expect((status.record(.private, from: peers[2], now: .zero + .seconds(5))) == true)
        #expect(status.reachability == .private && status.confidence == 3 && status.relayRequired)
        #expect(status.changedAt == .zero + .seconds(5))
    }

    @Test func flippingTakesSeveralContraryResults() {
        var status = ReachabilityStatus()
        for peer in peers.prefix(3) { status.record(.public, from: peer, now: .zero) }
        #expect(status.reachability == .public)
        // One contrary result lowers the confidence, and an agreeing one clears the streak.
        #expect((status.record(.private, from: peers[3], now: .zero)) == false)
        #expect(status.confidence == 2 && status.reachability == .public)
        #expect((status.record(.public, from: peers[4], now: .zero)) == false)
        #expect(status.confidence == 3)
        #expect((status.record(.private, from: peers[3], now: .zero)) == false)
        #expect((status.record(.private, from: peers[5], now: .zero)) == false)
        #expect(status.reachability == .public && status.confidence == 1)
        #expect((status.record(.private, from: peers[6], now: .zero)) == true)
        #expect(status.reachability == .private && status.confidence == 3)
    }

    @Test func resultsToFlipIsConfigurable() {
        var configuration = ReachabilityStatusConfiguration()
        configuration.resultsToFlip = 1
        configuration.maximumConfidence = 5
        var status = ReachabilityStatus(configuration: configuration)
        #expect((status.record(.public, from: peers[0], now: .zero)) == true)
        #expect(status.confidence == 1)
        for peer in peers.prefix(6) { status.record(.public, from: peer, now: .zero) }
        #expect(status.confidence == 5)
        #expect((status.record(.private, from: peers[0], now: .zero)) == true)
    }

    @Test func clientEventsCount() {
        var status = ReachabilityStatus()
        status.record(.refused(.dialRefused, statusText: nil), from: peers[0], now: .zero)
        status.record(.failed(.timeout), from: peers[1], now: .zero)
        #expect(status.lastResultAt == nil)
        let address = F.address("/ip4/81.2.3.4/tcp/4001")
        for peer in peers.prefix(3) { status.record(.reachable(address: address), from: peer, now: .zero) }
        #expect(status.reachability == .public && status.lastReachedAddress == address)
    }

    @Test func decaysWithoutResultsAndResets() {
        var status = ReachabilityStatus()
        #expect(status.nextDeadline == nil)
        for peer in peers.prefix(3) { status.record(.public, from: peer, now: .zero) }
        #expect(status.nextDeadline == .zero + .seconds(3600))
        #expect((status.expire(now: .zero + .seconds(3599))) == false)
        #expect((status.expire(now: .zero + .seconds(3600))) == true)
        #expect(status.reachability == .unknown && status.confidence == 0)
        for peer in peers.prefix(3) { status.record(.private, from: peer, now: .zero + .seconds(4000)) }
        #expect((status.reset(now: .zero + .seconds(4001))) == true)
        #expect(status.reachability == .unknown)
    }

    @Test func probeSchedule() {
        var status = ReachabilityStatus()
        #expect(status.nextProbe(after: nil, now: .zero + .seconds(3)) == .zero + .seconds(3))
        #expect(status.nextProbe(after: .zero, now: .zero) == .zero + .seconds(90))
        for peer in peers.prefix(3) { status.record(.public, from: peer, now: .zero) }
        #expect(status.nextProbe(after: .zero, now: .zero) == .zero + .seconds(900))
        status.record(.private, from: peers[4], now: .zero)
        #expect(status.nextProbe(after: .zero, now: .zero) == .zero + .seconds(90))
    }
}

@Suite struct NodeStatusTests {
    typealias F = AutoNATFixtures
    let peers = AutoNATFixtures.peers(8)

    func observe(_ book: inout ObservedAddressBook, port: UInt16, by index: Int) {
        book.record(
            observed: F.address("/ip4/81.2.3.4/tcp/\(port)"), local: .ipv4(IPv4Address(192, 168, 1, 10), port: 4001),
            observer: peers[index], observerIP: .ipv4(IPv4Address(31, UInt8(index), UInt8(index), 1)), now: .zero)
    }

    @Test func combinesTheParts() {
        var book = ObservedAddressBook()
        for index in 0..<3 { observe(&book, port: 53001, by: index) }
        var reachability = ReachabilityStatus()
        let listen = [
            F.address("/ip4/192.168.1.10/tcp/4001"), F.address("/ip6/2606:4700::5/tcp/4001/p2p/\(F.client)"),
            F.address("/ip4/81.2.3.9/tcp/1/p2p/\(F.server)/p2p-circuit/p2p/\(F.client)"),
        ]
        var status = NodeStatus(reachability: reachability, observedAddresses: book, listenAddresses: listen, now: .zero)
        #expect(status.natType == .private && status.reachability == .unknown && !status.relayRequired)
        #expect(status.publicAddresses == [F.address("/ip6/2606:4700::5/tcp/4001"), F.address("/ip4/81.2.3.4/tcp/53001")])
        for peer in peers.prefix(3) { reachability.record(.unreachable(statusText: nil), from: peer, now: .zero) }
        status = NodeStatus(reachability: reachability, observedAddresses: book, listenAddresses: listen, now: .zero)
        #expect(status.reachability == .private && status.confidence == 3 && status.relayRequired)
    }

    @Test func symmetricNATNeedsARelayBeforeAutoNATSays() {
        var book = ObservedAddressBook()
        for index in 0..<3 { observe(&book, port: UInt16(53001 + index), by: index) }
        let status = NodeStatus(reachability: ReachabilityStatus(), observedAddresses: book, listenAddresses: [], now: .zero)
        #expect(status.natType == .symmetric && status.relayRequired && status.publicAddresses.isEmpty)
    }
}
