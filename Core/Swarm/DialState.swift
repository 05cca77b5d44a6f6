/// One dial in progress: the addresses left to try, the attempts running, the failures so
/// far, and who waits for the outcome.
struct DialState {
    let id: DialID
    /// The peer the address names (`/p2p/ID`) or the dial was for.
    let expectedPeer: PeerID?
    /// Resolved addresses not tried yet, in order.
    var addresses: [Multiaddr]
    /// Name resolutions still running.
    var pendingResolutions = 0
    var attempts: Set<ConnectionID> = []
    var failures: [DialAttemptFailure] = []
    /// Whether the NATS tier was tried (its attempt comes last, once).
    var natsAttempted = false
    let deadline: Instant
    /// When the next address is tried even though attempts are running.
    var nextAttemptAt: Instant?
    /// Application dials answered by this one (several dials to one peer share a dial).
    var waitingDials: [DialID]
    /// Requests that run on the connection once it is established.
    var waitingRequests: [RequestID] = []
}

/// A request waiting for its connection or running on a stream.
struct PendingRequest {
    let purpose: OutboundPurpose
    /// The application's protocols for a stream request.
    let protocols: [String]
    /// The peer it is for, and the tier of the connection its stream opened on (metrics).
    var peer: PeerID?
    var tier: ConnectionTier?
}
