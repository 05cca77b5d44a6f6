/// What kind of NAT, if any, sits between this node and the internet, as observed addresses
/// (identify's `observedAddr` from peers on other networks) show it.
public enum NATType: Hashable, Sendable, CustomStringConvertible {
    /// Too few observations to say.
    case unknown
    /// No NAT: distinct observers see the local address itself (a public listen address).
    case `public`
    /// Behind a NAT with a consistent mapping ("cone", endpoint-independent): distinct
    /// observers see the same public address for one local address. Hole punching can work.
    case `private`
    /// Behind a NAT that maps one local address to different public ports per destination:
    /// distinct observers report different ports. Hole punching rarely works; use a relay.
    case symmetric

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .public: "public"
        case .private: "private"
        case .symmetric: "symmetric"
        }
    }
}
