import TraverseCore

extension FuzzTarget {
    /// Signed envelope opening, as a voucher, as a peer record, and with an arbitrary domain.
    public static let envelope = FuzzTarget(name: "envelope") { input in
        let bytes = input.array
        if let opened = try? ReservationVoucher.open(bytes) {
            precondition(opened.envelope.signer.peerID == opened.voucher.relay)
            precondition((try? ReservationVoucher(payload: opened.voucher.payload)) == opened.voucher)
        }
        if let opened = try? PeerRecord.open(bytes) {
            precondition(opened.envelope.signer.peerID == opened.record.peerID)
            precondition((try? PeerRecord(payload: opened.record.payload)) == opened.record)
        }
        if let envelope = try? SignedEnvelope.open(bytes, domain: "fuzz") {
            let reopened = try? SignedEnvelope.open(envelope.encoded, domain: "fuzz")
            precondition(reopened == envelope, "envelope re-encoding round trip")
        }
        _ = try? ReservationVoucher(payload: bytes)
        _ = try? PeerRecord(payload: bytes)
    }
}
