import Foundation
import Testing
import TraverseCore
@testable import TraverseUV

@Suite struct SocketErrorAndAddressTests {
    @Test func libuvCodesMapToTheirCases() {
        // libuv's codes are negated errno values on Unix.
        #expect(SocketError(code: -ECONNREFUSED) == .connectionRefused)
        #expect(SocketError(code: -ETIMEDOUT) == .timedOut)
        #expect(SocketError(code: -EHOSTUNREACH) == .hostUnreachable)
        #expect(SocketError(code: -ENETUNREACH) == .networkUnreachable)
        #expect(SocketError(code: -ECONNRESET) == .connectionReset)
        #expect(SocketError(code: -EADDRINUSE) == .addressInUse)
        #expect(SocketError(code: -EADDRNOTAVAIL) == .addressNotAvailable)
        #expect(SocketError(code: -ECANCELED) == .cancelled)
        #expect(SocketError(code: -EPIPE) == .other(code: -EPIPE, name: "EPIPE"))
        #expect(SocketError(code: -EPIPE).description == "broken pipe")
        #expect(SocketError.addressInUse.description == "address already in use")
        #expect(SocketError(code: -999_999).description.contains("999999"))
        #expect(!SocketError(code: -999_999).description.contains("\n"))
    }

    @Test func socketAddressesRoundTripThroughSockaddr() throws {
        let addresses: [SocketAddress] = [
            .ipv4(IPv4Address(192, 0, 2, 42), port: 4001),
            .ipv4(IPv4Address(0, 0, 0, 0), port: 0),
            .ipv6(try #require(IPv6Address("2001:db8::1:2")), port: 65_535),
            .ipv6(IPv6Address(ipv4Mapped: IPv4Address(10, 1, 2, 3)), port: 1),
        ]
        for address in addresses {
            let back = address.withSockAddr { SocketAddress($0) }
            #expect(back == address)
        }
        // Network byte order on the wire.
        SocketAddress.ipv4(IPv4Address(192, 0, 2, 42), port: 0x1234).withSockAddr { pointer in
            let raw = UnsafeRawPointer(pointer)
            let ipv4 = raw.loadUnaligned(as: sockaddr_in.self)
            #expect(ipv4.sin_family == sa_family_t(AF_INET))
            withUnsafeBytes(of: ipv4.sin_port) { #expect(Array($0) == [0x12, 0x34]) }
            withUnsafeBytes(of: ipv4.sin_addr) { #expect(Array($0) == [192, 0, 2, 42]) }
        }
        try #require(IPv6Address("2001:db8::ff")).withSocketAddressBytes { bytes in
            #expect(bytes.first == 0x20 && bytes.last == 0xFF)
        }
    }
}

extension IPv6Address {
    /// The 16 address bytes of this address as a `sockaddr_in6` holds them.
    func withSocketAddressBytes(_ body: ([UInt8]) -> Void) {
        SocketAddress.ipv6(self, port: 0).withSockAddr { pointer in
            var ipv6 = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in6.self)
            withUnsafeBytes(of: &ipv6.sin6_addr) { body(Array($0)) }
        }
    }
}
