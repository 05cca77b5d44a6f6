import ArgumentParser
import Foundation
import TraverseCore

/// `--nats nats://HOST:PORT`: the NATS fallback tier.
struct NATSOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Use the NATS server at this URL (nats://HOST[:PORT], default port 4222) as the last-resort tier.",
            discussion: "Peers reach this node through the server by its peer ID; a dial to a peer falls back to NATS when direct and relayed attempts fail. The server sees only Noise ciphertext."))
    var nats: String?

    /// Applies the option to `configuration`: the URL is parsed strictly and a host name
    /// resolved (its first address, IPv4 preferred).
    func apply(to configuration: inout SwarmConfiguration) throws {
        guard let nats else { return }
        let url: NATSServerURL
        do {
            url = try NATSServerURL(nats)
        } catch {
            throw CommandFailure("--nats: \(error)")
        }
        let address = try url.socketAddress ?? Self.resolve(url)
        configuration.nats = NATSTierConfiguration(server: address)
    }

    /// Looks the URL's host up with the system resolver.
    private static func resolve(_ url: NATSServerURL) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(url.host, nil, &hints, &list)
        guard status == 0, let list else {
            throw CommandFailure("--nats: cannot resolve \(url.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let socketAddress = current.pointee.ai_addr {
                switch Int32(socketAddress.pointee.sa_family) {
                case AF_INET:
                    let ip = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                    let bytes = withUnsafeBytes(of: ip) { Array($0) }
                    if let address = IPv4Address(bytes: bytes) { found.append(.ipv4(address, port: url.port)) }
                case AF_INET6:
                    let bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    if let address = IPv6Address(bytes: bytes) { found.append(.ipv6(address, port: url.port)) }
                default:
                    break
                }
            }
            entry = current.pointee.ai_next
        }
        guard let first = found.first(where: { !$0.isIPv6 }) ?? found.first else {
            throw CommandFailure("--nats: \(url.host) has no address")
        }
        return first
    }
}
