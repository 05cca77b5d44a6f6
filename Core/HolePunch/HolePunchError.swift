/// Why a DCUtR exchange failed: a violation by the peer, time, or nothing to dial. Reported
/// in a `failed` event; the owner resets the stream and counts the attempt as failed.
public enum HolePunchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The peer's message did not decode.
    case malformedMessage(HolePunchMessageError)
    /// The peer sent a message that is not the one expected now (SYNC before CONNECT, a
    /// second CONNECT, anything from the responder after its CONNECT…).
    case unexpectedMessage(HolePunchMessageType)
    /// The exchange did not complete within `HolePunchConfiguration.exchangeTimeout`.
    case timeout
    /// The peer ended the stream before the exchange completed.
    case endOfStream(bufferedBytes: Int)
    /// None of the addresses in the peer's CONNECT can be dialed (`received`: how many it
    /// sent that decoded and were not relayed).
    case noDialableAddresses(received: Int)
    /// This node has no address to send in its CONNECT (nothing was sent).
    case noLocalAddresses

    public var description: String {
        switch self {
        case .malformedMessage(let error): "malformed DCUtR message: \(error)"
        case .unexpectedMessage(let type): "unexpected DCUtR \(type)"
        case .timeout: "DCUtR exchange timed out"
        case .endOfStream(let buffered): "DCUtR stream ended early (\(buffered) bytes of an incomplete message)"
        case .noDialableAddresses(let received): "none of the peer's \(received) addresses can be dialed"
        case .noLocalAddresses: "no local address to offer"
        }
    }
}

/// The steps both DCUtR machines share: read messages, queue output and events, stop
/// reading once the exchange is over.
struct HolePunchExchange: Sendable {
    var reader = HolePunchMessageReader()
    var outbound: [UInt8] = []
    var events: [HolePunchEvent] = []

    mutating func send(_ message: HolePunchMessage) {
        message.encode(into: &outbound)
    }

    mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count
        guard count > 0 else { return 0 }
        buffer.append(contentsOf: outbound)
        outbound.removeAll()
        return count
    }

    mutating func pollEvent() -> HolePunchEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }
}
