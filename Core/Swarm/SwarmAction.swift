/// What the swarm asks its driver to do. The driver drains `Swarm.pollAction()` after
/// every input (and after draining `pollTransmit`), performs each action, and reports the
/// outcome through the swarm's input methods.
public enum SwarmAction: Equatable, Sendable {
    /// Open a TCP listener on `address` (port 0: any port) with SO_REUSEADDR and
    /// SO_REUSEPORT. Report `listenerStarted` or `listenerFailed`.
    case listen(ListenerID, on: SocketAddress)
    /// Close a listener. Nothing more is reported for it.
    case closeListener(ListenerID)
    /// Open a TCP connection to `remote`, from `local` when given (a listening port reused
    /// as the source port). Report `connected` or `connectFailed`.
    case connect(ConnectionID, to: SocketAddress, from: SocketAddress?)
    /// Send what is queued for the connection, then close the socket. Nothing more is
    /// reported for it, and its identifier is not used again.
    case close(ConnectionID)
    /// Stop reading the socket: the swarm cannot take its bytes now.
    case pauseReading(ConnectionID)
    /// Read the socket again.
    case resumeReading(ConnectionID)
    /// Look up the addresses of a host name (getaddrinfo). Report `hostLookupCompleted`.
    case lookUpHost(LookupID, name: String, family: IPAddressFamily)
    /// Send one UDP datagram (a DNS query) to `server` and report the first datagram that
    /// comes back from it with `datagramReceived`, or `datagramFailed`.
    case sendDatagram(LookupID, to: SocketAddress, payload: [UInt8])
}

/// Why the driver could not open, keep or use a socket.
public enum TransportFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The remote host refused the connection.
    case connectionRefused
    /// The operation timed out.
    case timedOut
    /// No route to the host or its network.
    case unreachable
    /// The peer reset the connection.
    case connectionReset
    /// The local address is taken.
    case addressInUse
    /// The local address does not belong to this host.
    case addressNotAvailable
    /// The host name has no addresses.
    case nameNotFound
    /// Any other failure, with the system's description.
    case other(String)

    public var description: String {
        switch self {
        case .connectionRefused: "connection refused"
        case .timedOut: "timed out"
        case .unreachable: "host or network unreachable"
        case .connectionReset: "connection reset by peer"
        case .addressInUse: "address already in use"
        case .addressNotAvailable: "address not available"
        case .nameNotFound: "name not found"
        case .other(let text): text
        }
    }
}
