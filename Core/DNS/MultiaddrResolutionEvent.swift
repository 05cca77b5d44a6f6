/// The one final event of a `MultiaddrResolution`.
public enum MultiaddrResolutionEvent: Hashable, Sendable {
    /// The dialable addresses, in the order the records gave them, without duplicates:
    /// never empty (no address at all is `failed(.noAddresses)` or the failure that
    /// explains it). Branches that failed while others gave addresses are left out.
    case resolved([Multiaddr])
    /// No address came out; the reason is the first failure in record order, or
    /// `noAddresses` when every lookup succeeded but none gave a matching address.
    case failed(MultiaddrResolutionError)
}

/// Why a resolution (or one branch of it) gave no address. The network controls most of
/// these: they are reported, never trapped.
public enum MultiaddrResolutionError: Error, Hashable, Sendable {
    /// The address (the one to resolve, or one a TXT record gave) starts with neither an
    /// IP address nor a DNS name, or resolving its name makes it longer than a multiaddr
    /// may be.
    case unsupportedAddress(Multiaddr)
    /// The name cannot be looked up: a control character or space in it, or a label or
    /// name too long for a DNS query.
    case invalidName(String)
    /// The name does not exist (NXDOMAIN, or the host lookup's "no such name").
    case nameNotFound(String)
    /// Every lookup succeeded, but none gave an address that matches (`/dnsaddr` records
    /// whose suffix differs, no record of the family asked for, or no records at all).
    case noAddresses
    /// No answer in time: every server and attempt timed out, or the overall deadline
    /// passed.
    case timeout
    /// The last server tried answered with this response code (2: server failure,
    /// 4: not implemented, 5: refused, …).
    case serverFailure(responseCode: UInt8)
    /// The last server tried set the truncation bit (the answer does not fit 512 bytes).
    /// Traverse does not retry over TCP.
    case truncatedResponse
    /// The last server tried answered with a message that does not decode.
    case malformedResponse(DNSError)
    /// The driver could not do the lookup or send the query.
    case lookupFailed(ResolverDriverError)
    /// `/dnsaddr` records nest deeper than `MultiaddrResolutionLimits.maximumDepth`.
    case tooDeep
    /// The resolution needs more lookups than `MultiaddrResolutionLimits.maximumQueries`.
    case tooManyQueries
}

/// Local misuse of a `MultiaddrResolution`: thrown by an input, never caused by the
/// network. The machine is left as it was.
public enum MultiaddrResolutionUsageError: Error, Hashable, Sendable {
    /// No request with this ID was ever made.
    case unknownRequest(ResolutionRequestID)
    /// The input does not answer this kind of request (`queryAnswered` for a host lookup,
    /// say).
    case wrongRequestKind(ResolutionRequestID)
    /// A limit is out of range (the text says which).
    case invalidLimits(String)
}
