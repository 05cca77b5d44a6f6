import CUV
import TraverseCore

/// Which address families a name lookup asks for.
enum HostFamily: Sendable {
    /// IPv4 and IPv6 (in the system's preferred order).
    case any
    /// IPv4 only (`/dns4`).
    case ipv4
    /// IPv6 only (`/dns6`).
    case ipv6

    fileprivate var addressFamily: Int32 {
        switch self {
        case .any: AF_UNSPEC
        case .ipv4: AF_INET
        case .ipv6: AF_INET6
        }
    }
}

/// One `getaddrinfo` call on libuv's thread pool. Loop thread only.
final class HostResolution: LoopResource, OneShotCompletion {
    /// The longest DNS name (RFC 1035: 253 characters in text form).
    static let maximumHostLength = 253

    let eventLoop: EventLoop
    private let port: UInt16
    /// `nil` once reported.
    var completion: ((Result<[SocketAddress], SocketError>) -> Void)?
    /// The request while libuv runs it (its `data` holds this resolution).
    private var request: UnsafeMutablePointer<uv_getaddrinfo_t>?

    fileprivate init(
        eventLoop: EventLoop, port: UInt16, completion: @escaping (Result<[SocketAddress], SocketError>) -> Void
    ) {
        self.eventLoop = eventLoop
        self.port = port
        self.completion = completion
    }

    func closeForShutdown() {
        guard let completion else { return }
        self.completion = nil
        // Not started yet: it ends at once with EAI_CANCELED. Already running: shutdown waits
        // for the system resolver, but nobody hears the answer.
        if let request { uv_cancel(UnsafeMutablePointer<uv_req_t>(OpaquePointer(request))) }
        completion(.failure(.cancelled))
    }

    fileprivate func start(host: String, family: HostFamily) {
        guard !host.isEmpty, host.utf8.count <= Self.maximumHostLength, !host.utf8.contains(0) else {
            fail(.nameNotFound)
            return
        }
        var hints = addrinfo()
        hints.ai_family = family.addressFamily
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let status = uv_getaddrinfo(eventLoop.loop, request, resolvedCallback, host, nil, &hints)
        guard status == 0 else {
            Unmanaged<HostResolution>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            fail(SocketError(code: status))
            return
        }
        self.request = request
        eventLoop.register(self)
    }


    fileprivate func didResolve(status: Int32, addresses list: UnsafeMutablePointer<addrinfo>?) {
        request = nil
        guard let completion else { return }
        self.completion = nil
        eventLoop.unregister(self)
        guard status == 0 else {
            completion(.failure(SocketError(code: status)))
            return
        }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr.flatMap({ SocketAddress(UnsafePointer($0)) }) {
                let withPort = address.with(port: port)
                if !addresses.contains(withPort) { addresses.append(withPort) }
            }
            entry = current.pointee.ai_next
        }
        completion(addresses.isEmpty ? .failure(.nameNotFound) : .success(addresses))
    }
}

extension EventLoop {
    /// Looks `host` up with the system resolver (`getaddrinfo`, stream sockets) and reports
    /// its addresses with `port`, in the resolver's order, without duplicates. A numeric
    /// address resolves to itself. No address at all is `.nameNotFound`. The completion
    /// runs on a later iteration, with `.cancelled` if the loop shuts down first.
    func resolveHost(
        _ host: String, port: UInt16 = 0, family: HostFamily = .any,
        completion: @escaping (Result<[SocketAddress], SocketError>) -> Void
    ) {
        preconditionInLoopThread()
        let resolution = HostResolution(eventLoop: self, port: port, completion: completion)
        if isShuttingDown {
            resolution.fail(.cancelled)
        } else {
            resolution.start(host: host, family: family)
        }
    }
}

private let resolvedCallback: uv_getaddrinfo_cb = { request, status, addresses in
    defer { uv_freeaddrinfo(addresses) }
    guard let request else { return }
    let data = request.pointee.data
    request.deallocate()
    guard let data else { return }
    let resolution = Unmanaged<HostResolution>.fromOpaque(data).takeRetainedValue()
    resolution.didResolve(status: status, addresses: addresses)
}
