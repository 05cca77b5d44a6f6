import TraverseCore

extension FuzzTarget {
    /// `MultistreamDialer` fed arbitrary listener bytes in pieces the input chooses; the
    /// first byte picks the configuration (see `MultistreamFuzzing.configuration`).
    public static let multistreamDialer = FuzzTarget(name: "multistream-dialer") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let configuration = MultistreamFuzzing.configuration(options)
        let protocols = options & 0b1 != 0 ? ["/yamux/1.0.0"] : ["/tls/1.0.0", "/noise", "/yamux/1.0.0"]
        guard var dialer = try? MultistreamDialer(protocols: protocols, configuration: configuration) else {
            preconditionFailure("valid dialer configuration rejected")
        }
        // The header and every proposal, once each, is all a dialer ever sends.
        let maximumTransmit = 1 + 19 + protocols.reduce(0) { $0 + 1 + $1.utf8.count + 1 }
        MultistreamFuzzing.run(
            &dialer, input: bytes.dropFirst(), allowed: protocols,
            maximumMessageLength: configuration.maximumMessageLength,
            maximumTransmit: maximumTransmit,
            bufferedByteCount: \.bufferedByteCount,
            negotiatedProtocol: \.negotiatedProtocol,
            takeRemainingBytes: { $0.takeRemainingBytes() })
    }
}
