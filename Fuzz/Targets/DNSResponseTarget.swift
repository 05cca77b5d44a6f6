import TraverseCore

extension FuzzTarget {
    /// DNS responses: decoding is bounded (answers, names, pointer jumps), and `/dnsaddr`
    /// extraction from whatever TXT records decode never traps.
    public static let dnsResponse = FuzzTarget(name: "dns-response") { input in
        guard let response = try? DNSResponse(bytes: input) else { return }
        precondition(response.answers.count <= DNSResponse.maximumAnswers)
        for record in response.answers { precondition(record.name.utf8.count <= 255 * 4) }
        if let address = try? Multiaddr("/dnsaddr/example.com") {
            precondition(DNSAddr.addresses(in: response.answers, resolving: address).count <= DNSAddr.maximumAddresses)
        }
    }
}
