/// The NATS fallback tier of a swarm: the NATS server that carries pipes when neither a
/// direct nor a relayed connection to a peer can be made, and the tier's limits.
///
/// With it set, the swarm keeps one TCP connection to `server` (it asks the driver with
/// `SwarmAction.connect`, like any socket), subscribes to its inbound subject there, accepts
/// pipes other nodes open to it, and tries a pipe as the last attempt of a dial to a known
/// peer. Each pipe carries an ordinary Noise + Yamux connection, so the server sees only
/// ciphertext.
public struct NATSTierConfiguration: Hashable, Sendable {
    /// The NATS server's address (`nats://HOST:PORT`, resolved).
    public var server: SocketAddress
    /// The NATS client's, router's and pipes' settings.
    public var transport = NATSPipeTransportConfiguration()
    /// How long after the server connection failed or ended the swarm connects again.
    public var reconnectDelay: Duration = .seconds(5)
    /// The most connections carried by pipes at once (inbound and outbound); the router's
    /// own `maximumPipes` bounds the pipes underneath.
    public var maximumConnections = 64

    /// The tier through the NATS server at `server`, with the default limits.
    public init(server: SocketAddress) {
        self.server = server
    }
}

/// Why the swarm's connection to the NATS server is not (or no longer) up. Every connection
/// carried by a pipe of it has closed (each with `natsPipeFailed` first).
public enum NATSTierDisconnection: Error, Equatable, Sendable, CustomStringConvertible {
    /// The TCP connection to the server could not be opened.
    case connectFailed(TransportFailure)
    /// The NATS connection ended: the server closed it, broke the protocol, stopped
    /// answering keepalives, or refused the subscription.
    case transport(NATSPipeTransportError)
    /// The swarm shut down.
    case shutdown

    public var description: String {
        switch self {
        case .connectFailed(let failure): "cannot connect to the NATS server: \(failure)"
        case .transport(let error): "NATS connection lost: \(error)"
        case .shutdown: "NATS connection closed (shutdown)"
        }
    }
}
