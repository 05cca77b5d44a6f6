/// Why an AutoNAT stream machine failed: a violation by the peer, or time.
public enum AutoNATStreamError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The peer's message did not decode.
    case malformedMessage(AutoNATMessageError)
    /// The peer sent a message this side does not expect (a DIAL_RESPONSE to a server, a
    /// DIAL to a client).
    case unexpectedMessage
    /// The peer sent bytes after its one message.
    case unexpectedBytes
    /// The exchange did not finish in time.
    case timeout
    /// The peer ended the stream before its message was complete.
    case endOfStream(bufferedBytes: Int)

    public var description: String {
        switch self {
        case .malformedMessage(let error): "\(error)"
        case .unexpectedMessage: "unexpected AutoNAT message"
        case .unexpectedBytes: "bytes after the AutoNAT message"
        case .timeout: "AutoNAT exchange timed out"
        case .endOfStream(let buffered): "AutoNAT stream ended inside a message (\(buffered) bytes held)"
        }
    }
}

/// Local misuse of an AutoNAT machine: a command in the wrong phase or with a value it cannot
/// send. The machine is unchanged.
public enum AutoNATUsageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server is not waiting for the outcome of a dial back.
    case notAwaitingDialBack
    /// `refuse` was given `OK`.
    case okIsNotARefusal
    /// `dialBackSucceeded` named an address the server did not ask to dial.
    case addressNotRequested(Multiaddr)
    /// A client was given no address to be dialed on.
    case noAddresses
    /// A client's DIAL would exceed `AutoNATMessage.maximumLength`.
    case requestTooLong(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .notAwaitingDialBack: "the AutoNAT server is not waiting for a dial back"
        case .okIsNotARefusal: "OK is not a refusal"
        case .addressNotRequested(let address): "\(address) was not among the dial-back addresses"
        case .noAddresses: "an AutoNAT request needs at least one address"
        case .requestTooLong(let length, let maximum): "AutoNAT request of \(length) bytes exceeds \(maximum)"
        }
    }
}
