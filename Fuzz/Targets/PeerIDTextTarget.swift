import TraverseCore

extension FuzzTarget {
    /// Peer IDs parsed from text (base58btc and CIDv1) and from bytes.
    public static let peerIDText = FuzzTarget(name: "peer-id-text") { input in
        let text = String(decoding: input.array, as: UTF8.self)
        if let peerID = try? PeerID(text) {
            precondition((try? PeerID(peerID.description)) == peerID, "base58 round trip")
            precondition((try? PeerID(peerID.cidString)) == peerID, "CID round trip")
            precondition((try? PeerID(bytes: peerID.bytes)) == peerID, "binary round trip")
        }
        if let peerID = try? PeerID(bytes: input) {
            precondition(peerID.bytes == input.array, "binary form is kept verbatim")
            _ = peerID.publicKey
        }
    }
}
