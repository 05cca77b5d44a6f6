extension EnvelopeError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .tooLong(let length): "signed envelope of \(length) bytes is too long"
        case .malformed: "malformed signed envelope"
        case .missingPublicKey: "signed envelope without a public key"
        case .invalidPublicKey(let error): "signed envelope with an invalid key: \(error)"
        case .unexpectedPayloadType(let type): "signed envelope of unexpected payload type \(Hex.encode(type))"
        case .invalidSignature: "signed envelope signature does not verify"
        case .malformedPayload: "signed envelope payload does not decode"
        case .signerMismatch: "signed envelope signed by a peer other than the one it names"
        }
    }
}
