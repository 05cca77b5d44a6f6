import TraverseCore

extension FuzzTarget {
    /// `MultistreamListener` fed arbitrary dialer bytes in pieces the input chooses; the
    /// first byte picks the configuration (see `MultistreamFuzzing.configuration`).
    public static let multistreamListener = FuzzTarget(name: "multistream-listener") { input in
        let bytes = input.array
        guard let options = bytes.first else { return }
        let configuration = MultistreamFuzzing.configuration(options)
        let supported = ["/a", "/noise", "/yamux/1.0.0", "/ipfs/id/1.0.0"]
        guard var listener = try? MultistreamListener(supportedProtocols: supported, configuration: configuration) else {
            preconditionFailure("valid listener configuration rejected")
        }
        // The header, then at most `maximumProposals` answers, each no longer than the
        // longest of `na`, an echo and the `ls` answer.
        let longestAnswer = max(MultistreamFuzzing.listAnswerLength(supported), 1 + 14 + 1)
        let maximumTransmit = 20 + configuration.maximumProposals * longestAnswer
        MultistreamFuzzing.run(
            &listener, input: bytes.dropFirst(), allowed: supported,
            maximumMessageLength: configuration.maximumMessageLength,
            maximumTransmit: maximumTransmit,
            bufferedByteCount: \.bufferedByteCount,
            negotiatedProtocol: \.negotiatedProtocol,
            takeRemainingBytes: { $0.takeRemainingBytes() })
    }
}
