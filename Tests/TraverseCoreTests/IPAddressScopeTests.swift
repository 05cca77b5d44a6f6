import Testing
@testable import TraverseCore

@Suite struct IPAddressScopeTests {
    @Test(arguments: [
        ("0.0.0.0", IPAddressScope.unspecified), ("0.1.2.3", .reserved), ("127.0.0.1", .loopback),
        ("127.255.255.254", .loopback), ("169.254.1.1", .linkLocal), ("169.255.0.1", .global),
        ("10.0.0.1", .privateNetwork), ("10.255.255.255", .privateNetwork), ("11.0.0.1", .global),
        ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork), ("172.15.255.255", .global),
        ("172.32.0.1", .global), ("192.168.1.1", .privateNetwork), ("192.169.0.1", .global),
        ("198.18.0.1", .privateNetwork), ("198.19.255.255", .privateNetwork), ("198.20.0.1", .global),
        ("100.64.0.1", .carrierGradeNAT), ("100.127.255.255", .carrierGradeNAT), ("100.63.255.255", .global),
        ("100.128.0.1", .global), ("192.0.2.1", .documentation), ("198.51.100.7", .documentation),
        ("203.0.113.9", .documentation), ("203.0.114.1", .global), ("192.0.0.8", .reserved),
        ("192.88.99.1", .reserved), ("224.0.0.1", .multicast), ("239.255.255.255", .multicast),
        ("255.255.255.255", .multicast), ("240.0.0.1", .reserved), ("255.255.255.254", .reserved),
        ("8.8.8.8", .global), ("1.1.1.1", .global),
    ])
    func ipv4(_ text: String, _ scope: IPAddressScope) throws {
        #expect(try #require(IPv4Address(text)).scope == scope, "\(text)")
        #expect(IPAddress.ipv4(try #require(IPv4Address(text))).scope == scope, "\(text)")
    }

    @Test(arguments: [
        ("::", IPAddressScope.unspecified), ("::1", .loopback), ("::2", .reserved), ("::1.2.3.4", .reserved),
        ("fe80::1", .linkLocal), ("febf::1", .linkLocal), ("fec0::1", .privateNetwork),
        ("fc00::1", .privateNetwork), ("fd12:3456::1", .privateNetwork), ("fe00::1", .reserved),
        ("2001:db8::1", .documentation), ("2001:db9::1", .global), ("3fff::1", .documentation),
        ("3fff:fff::1", .documentation), ("3fff:1000::1", .global),
        ("ff02::1", .multicast), ("ff0e::1", .multicast), ("2606:4700::1111", .global),
        ("64:ff9b::808:808", .global), ("64:ff9b::a00:1", .privateNetwork), ("64:ff9b:1::1", .privateNetwork),
        ("2002:c0a8:101::1", .privateNetwork), ("2002:808:808::1", .global),
        ("2001::1", .global), ("2001:2::1", .privateNetwork), ("2001:10::1", .reserved), ("2001:20::1", .reserved),
        ("100::1", .reserved), ("100:0:0:1::1", .reserved),
        ("::ffff:192.168.1.1", .privateNetwork), ("::ffff:8.8.8.8", .global), ("::ffff:127.0.0.1", .loopback),
        ("::ffff:100.64.0.1", .carrierGradeNAT), ("4000::1", .reserved), ("1fff::1", .reserved),
    ])
    func ipv6(_ text: String, _ scope: IPAddressScope) throws {
        #expect(try #require(IPv6Address(text)).scope == scope, "\(text)")
    }

    @Test func prefixes() throws {
        let address = try #require(IPv4Address("203.0.113.77"))
        #expect(address.isWithin(try #require(IPv4Address("203.0.113.0")), length: 24))
        #expect(!address.isWithin(try #require(IPv4Address("203.0.112.0")), length: 24))
        #expect(address.isWithin(IPv4Address(value: 0), length: 0))
        #expect(address.isWithin(address, length: 32) && address.isWithin(address, length: 99))
        let v6 = try #require(IPv6Address("2001:db8:1:2::77"))
        #expect(v6.isWithin(try #require(IPv6Address("2001:db8:1::")), length: 48))
        #expect(!v6.isWithin(try #require(IPv6Address("2001:db8:1:3::")), length: 64))
        #expect(v6.isWithin(try #require(IPv6Address("2001:db8:1:2::70")), length: 120))
        #expect(!v6.isWithin(try #require(IPv6Address("2001:db8:1:2::70")), length: 128))
        #expect(try #require(IPv6Address("2002:c000:204::")).embeddedIPv4 == IPv4Address(192, 0, 2, 4))
        #expect(try #require(IPv6Address("2001:db8::")).embeddedIPv4 == nil)
    }

    @Test func multiaddrAndSocketScope() throws {
        #expect(try Multiaddr("/ip4/192.168.0.2/tcp/4001").ipScope == .privateNetwork)
        #expect(try Multiaddr("/ip6/::1/tcp/4001").ipScope == .loopback)
        #expect(try Multiaddr("/dns4/example.com/tcp/4001").ipScope == nil)
        #expect(try Multiaddr("/ip4/1.2.3.4/tcp/1").ipAddress == .ipv4(IPv4Address(1, 2, 3, 4)))
        #expect(SocketAddress.ipv4(IPv4Address(100, 64, 1, 1), port: 9).scope == .carrierGradeNAT)
        #expect(IPAddressScope.global.isPublic && !IPAddressScope.carrierGradeNAT.isPublic)
        #expect(IPAddressScope.allCases.filter(\.isPublic) == [.global])
        #expect(IPAddressScope.privateNetwork.isDialable && !IPAddressScope.documentation.isDialable)
        #expect(!IPAddressScope.unspecified.isDialable && !IPAddressScope.multicast.isDialable)
    }
}
