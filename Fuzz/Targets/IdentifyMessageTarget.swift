import TraverseCore

extension FuzzTarget {
    /// `IdentifyMessageDecoder` fed arbitrary stream bytes in pieces the input chooses (see
    /// `MultistreamFuzzing.pieces`), then the end of the stream. The buffer, part count and
    /// total stay within the limits; the chunked result equals the one-shot result; and a
    /// decoded message re-encodes to bytes that decode to the same value.
    public static let identifyMessage = FuzzTarget(name: "identify-message") { input in
        let bytes = input.array
        let limits = IdentifyLimits()
        let whole: Result<IdentifyInfo, IdentifyError> = Result { () throws(IdentifyError) in
            try IdentifyMessageDecoder.decode(bytes.span, limits: limits)
        }
        var decoder = IdentifyMessageDecoder(limits: limits)
        var chunked: Result<IdentifyInfo, IdentifyError>?
        for piece in MultistreamFuzzing.pieces(bytes[...]) {
            do throws(IdentifyError) {
                try decoder.append(piece.span)
            } catch {
                chunked = .failure(error)
                break
            }
            precondition(decoder.bufferedByteCount <= limits.maximumPartLength + Varint.maximumLength,
                         "buffered more than one part")
            precondition(decoder.partCount <= limits.maximumParts)
            precondition(decoder.totalByteCount <= limits.maximumTotalLength)
        }
        if chunked == nil {
            chunked = Result { () throws(IdentifyError) in try decoder.finish() }
        }
        switch (whole, chunked) {
        case (.success(let a), .success(let b)):
            precondition(a == b, "chunked decoding differs from one-shot decoding")
        case (.failure, .failure):
            break
        default:
            preconditionFailure("chunked and one-shot decoding disagree on success")
        }
        guard case .success(let info) = whole else { return }
        precondition(info.protocols.count <= limits.maximumProtocols)
        precondition(info.listenAddresses.count <= limits.maximumListenAddresses)
        if let record = info.signedPeerRecord, let key = info.publicKey {
            precondition(record.record.peerID == key.peerID, "record of another peer accepted")
        }
        var encoded: [UInt8] = []
        guard (try? info.encode(into: &encoded)) != nil else { return }
        guard let again = try? IdentifyMessageDecoder.decode(encoded.span, limits: limits) else {
            preconditionFailure("a decoded message does not decode after re-encoding")
        }
        precondition(again == info, "re-encoding changed the message")
    }
}
