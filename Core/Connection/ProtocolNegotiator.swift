/// Either side of a multistream-select negotiation, so a connection can hold one whatever
/// its role. (Negotiation buffers are a few bytes, so taking the machine out of the enum to
/// mutate it costs nothing worth avoiding.)
enum ProtocolNegotiator {
    case dialer(MultistreamDialer)
    case listener(MultistreamListener)

    static func make(
        role: ConnectionRole, protocols: [String], configuration: MultistreamConfiguration
    ) throws(MultistreamUsageError) -> ProtocolNegotiator {
        switch role {
        case .client: .dialer(try MultistreamDialer(protocols: protocols, configuration: configuration))
        case .server: .listener(try MultistreamListener(supportedProtocols: protocols, configuration: configuration))
        }
    }

    mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        switch self {
        case .dialer(var dialer):
            dialer.receive(bytes, now: now)
            self = .dialer(dialer)
        case .listener(var listener):
            listener.receive(bytes, now: now)
            self = .listener(listener)
        }
    }

    mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        switch self {
        case .dialer(var dialer):
            let count = dialer.pollTransmit(into: &buffer)
            self = .dialer(dialer)
            return count
        case .listener(var listener):
            let count = listener.pollTransmit(into: &buffer)
            self = .listener(listener)
            return count
        }
    }

    mutating func pollEvent() -> MultistreamEvent? {
        switch self {
        case .dialer(var dialer):
            let event = dialer.pollEvent()
            self = .dialer(dialer)
            return event
        case .listener(var listener):
            let event = listener.pollEvent()
            self = .listener(listener)
            return event
        }
    }

    mutating func takeRemainingBytes() -> [UInt8] {
        switch self {
        case .dialer(var dialer):
            let bytes = dialer.takeRemainingBytes()
            self = .dialer(dialer)
            return bytes
        case .listener(var listener):
            let bytes = listener.takeRemainingBytes()
            self = .listener(listener)
            return bytes
        }
    }
}
