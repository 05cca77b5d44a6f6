/// Names a socket the swarm asked the driver to open, or one the driver accepted.
/// Never reused within one swarm.
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The number, counting from 1.
    public let rawValue: UInt64
    /// The identifier with this number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "connection \(rawValue)" }
}

/// Names a listening socket the swarm asked the driver to open.
public struct ListenerID: Hashable, Sendable, CustomStringConvertible {
    /// The number, counting from 1.
    public let rawValue: UInt64
    /// The identifier with this number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "listener \(rawValue)" }
}

/// Names one dial the application asked for; its outcome is a `dialSucceeded` or
/// `dialFailed` event with this identifier.
public struct DialID: Hashable, Sendable, CustomStringConvertible {
    /// The number, counting from 1.
    public let rawValue: UInt64
    /// The identifier with this number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "dial \(rawValue)" }
}

/// Names one request of the application that ends with one event: opening a stream, a
/// ping, a perf run or an echo exchange.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    /// The number, counting from 1.
    public let rawValue: UInt64
    /// The identifier with this number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "request \(rawValue)" }
}

/// Names one name lookup or DNS query the swarm asked the driver for.
public struct LookupID: Hashable, Sendable, CustomStringConvertible {
    /// The number, counting from 1.
    public let rawValue: UInt64
    /// The identifier with this number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "lookup \(rawValue)" }
}

/// A stream of one of the swarm's connections, as the application sees it.
public struct SwarmStreamID: Hashable, Sendable, CustomStringConvertible {
    /// The connection that carries the stream.
    public let connection: ConnectionID
    /// The stream within that connection.
    public let stream: StreamID
    /// The stream `stream` of `connection`.
    public init(connection: ConnectionID, stream: StreamID) {
        self.connection = connection
        self.stream = stream
    }
    public var description: String { "stream \(stream.rawValue) of \(connection)" }
}
