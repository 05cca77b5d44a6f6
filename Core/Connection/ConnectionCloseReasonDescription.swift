extension ConnectionCloseReason: CustomStringConvertible {
    /// One line for logs and users: what ended the connection.
    public var description: String {
        switch self {
        case .localClose: "closed locally"
        case .handshakeTimeout: "upgrade timed out"
        case .securityNegotiationFailed(let error): "peer does not speak /noise (\(error))"
        case .securityHandshakeFailed(.unexpectedPeer(let expected, let actual)):
            "wrong peer: expected \(expected), got \(actual)"
        case .securityHandshakeFailed(let error): "Noise handshake failed: \(error)"
        case .muxerNegotiationFailed(let error): "peer does not speak /yamux/1.0.0 (\(error))"
        case .decryptionFailed: "a frame failed to decrypt"
        case .muxerClosed(.localClose): "closed locally"
        case .muxerClosed(.keepaliveTimeout): "keepalive timed out"
        case .muxerClosed(let reason): "Yamux session ended: \(reason)"
        case .transportClosed: "connection closed by peer"
        case .nonceExhausted: "Noise nonces exhausted"
        }
    }
}
