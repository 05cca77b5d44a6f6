import TraverseCore

/// A small HTTP server for Prometheus scrapes on the event loop: `GET /metrics` (and HEAD)
/// answers with the text `body` returns, anything else with an error status. Loop thread
/// only: `start`, `close` and `body` all run there.
///
/// Each connection runs one `MetricsHTTPExchange`: one request, one response, then the
/// connection closes. The request head must arrive within `Limits.headTimeout`; a
/// connection is closed after `Limits.connectionLifetime` whatever it is doing (a client
/// that never reads its response cannot hold a slot); at most `Limits.maximumConnections`
/// are open at once, and a connection beyond that is closed as soon as it is accepted.
///
/// The endpoint serves until `close()` or the loop's shutdown, whether or not the caller
/// keeps a reference to it.
final class MetricsEndpoint {
    /// The bounds on the endpoint's connections.
    struct Limits: Sendable {
        /// Connections open at once; more are closed when accepted (default 16).
        var maximumConnections = 16
        /// Time from accept to the end of the request head (default 10 s).
        var headTimeout: Duration = .seconds(10)
        /// Time from accept after which the connection is closed however far it got
        /// (default 30 s).
        var connectionLifetime: Duration = .seconds(30)
        /// The largest request head accepted (default 8 KiB; larger gets 431).
        var maximumHeadLength = 8192

        /// The default limits.
        init() {}
    }

    /// The address it listens on, with the real port when port 0 was asked for.
    private(set) var localAddress: SocketAddress
    /// The limits it was started with.
    let limits: Limits

    private let eventLoop: EventLoop
    private var listener: TCPListener?
    /// The provider of the exposition text; dropped on close.
    private var body: (() -> String)?
    private var connections: [ObjectIdentifier: MetricsConnection] = [:]

    /// The number of connections open now.
    var openConnectionCount: Int { connections.count }

    private init(address: SocketAddress, eventLoop: EventLoop, limits: Limits, body: @escaping () -> String) {
        localAddress = address
        self.eventLoop = eventLoop
        self.limits = limits
        self.body = body
    }

    /// Listens on `address` (port 0 picks a free port: see `localAddress`) and serves each
    /// scrape with what `body` returns (the exposition text, such as
    /// `PrometheusExposition.text`). `body` is called on the loop thread, once per metrics
    /// request.
    ///
    /// - Throws: the listen error (`.addressInUse`…), `.cancelled` once the loop is
    ///   shutting down.
    static func start(
        on address: SocketAddress, eventLoop: EventLoop, limits: Limits = Limits(),
        body: @escaping () -> String
    ) throws(SocketError) -> MetricsEndpoint {
        eventLoop.preconditionInLoopThread()
        let endpoint = MetricsEndpoint(address: address, eventLoop: eventLoop, limits: limits, body: body)
        // The listener keeps the endpoint until it closes (on `close()` or shutdown).
        let listener = try eventLoop.listenTCP(on: address) { socket in endpoint.accept(socket) }
        endpoint.listener = listener
        endpoint.localAddress = listener.localAddress
        return endpoint
    }

    /// Stops listening and closes every open connection at once. Idempotent.
    func close() {
        eventLoop.preconditionInLoopThread()
        listener?.close()
        listener = nil
        body = nil
        let open = connections.values
        connections.removeAll()
        for connection in open { connection.close() }
    }

    private func accept(_ socket: TCPSocket) {
        guard body != nil, connections.count < limits.maximumConnections else {
            socket.close()
            return
        }
        let connection = MetricsConnection(socket: socket, eventLoop: eventLoop, endpoint: self)
        connections[ObjectIdentifier(connection)] = connection
        connection.start()
    }

    /// The exposition text for one request, or `nil` once closed.
    func exposition() -> String? { body?() }

    /// Forgets a connection that closed.
    func connectionEnded(_ connection: MetricsConnection) {
        connections[ObjectIdentifier(connection)] = nil
    }
}
