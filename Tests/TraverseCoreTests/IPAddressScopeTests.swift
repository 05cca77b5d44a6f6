import Testing
@testable import TraverseCore

@Suite struct IPAddressScopeTests {
    @Test(arguments: [
        ("0.0.0.0", IPAddressScope.unspecified), ("127.0.0.1", .loopback), ("127.255.255.254", .loopback),
        ("169.254.1.1", .linkLocal), ("10.0.0.1", .privateNetwork), ("172.16.0.1", .privateNetwork),
        ("172.31.255.255", .privateNetwork), ("172.32.0.1", .global), ("192.168.1.1", .privateNetwork),
        ("198.18.0.1", .privateNetwork), ("198.19.255.255", .privateNetwork), ("198.20.0.1", .global),
        ("100.64.0.1", .carrierGradeNAT), ("100.127.255.255", .carrierGradeNAT), ("100.128.0.1", .global),
        ("192.0.2.1", .documentation), ("198.51.100.7", .documentation), ("203.0.113.9", .documentation),
        ("224.0.0.1", .multicast), ("255.255.255.255", .multicast), ("240.0.0.1", .reserved),
        ("8.8.8.8", .global), ("1.1.1.1", .global),
    ])
    func ipv4(_ text: String, _ scope: IPAddressScope) throws {
        #expect(try #require(IPv4Address(text)).scope == scope, "\(text)")
    }

    @Test(arguments: [
        ("::", IPAddressScope.unspecified), ("::1", .loopback), ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("fc00::1", .privateNetwork), ("fd12:3456::1", .privateNetwork), ("2001:db8::1", .documentation),
        ("ff02::1", .multicast), ("2606:4700::1111", .global), ("64:ff9b::808:808", .global),
        ("::ffff:192.168.1.1", .privateNetwork), ("::ffff:8.8.8.8", .global), ("4000::1", .reserved),
    ])
    func ipv6(_ text: String, _ scope: IPAddressScope) throws {
        #expect(try #require(IPv6Address(text)).scope == scope, "\(text)")
    }

    @Test func multiaddrScope() throws {
        #expect(try Multiaddr("/ip4/192.168.0.2/tcp/4001").ipScope == .privateNetwork)
        #expect(try Multiaddr("/ip6/::1/tcp/4001").ipScope == .loopback)
        #expect(try Multiaddr("/dns4/example.com/tcp/4001").ipScope == nil)
        #expect(IPAddressScope.global.isPublic && !IPAddressScope.carrierGradeNAT.isPublic)
    }
}
