/// Starting lookups and reading their answers.
extension MultiaddrResolution {
    /// Adds `address` to the tree (as the root, or as a result of `parent`'s lookup) and
    /// starts its lookup when it needs one and the limits allow; returns its index.
    @discardableResult
    mutating func addNode(_ address: Multiaddr, depth: Int, to resolving: inout Resolving, now: Instant) -> Int {
        let index = resolving.tree.nextIndex
        let status: ResolutionTree.Status
        switch ResolvableAddress(address) {
        case .dialable:
            status = .dialable
        case .unsupported:
            status = .failed(.unsupportedAddress(address))
        case .host(let name, let family):
            if let refusal = refusal(of: address, depth: depth, in: resolving) {
                status = refusal
            } else if !ResolvableAddress.isAcceptableHostName(name) {
                status = .failed(.invalidName(name))
            } else {
                let request = makeRequestID()
                resolving.pending[request] = .hostLookup(node: index, name: name, family: family)
                resolving.queriesMade += 1
                resolving.lookedUp.insert(address)
                requests.append(.lookUpHost(request, name: name, family: family))
                status = .pending
            }
        case .dnsaddr(let host):
            let name = "_dnsaddr." + host
            if let refusal = refusal(of: address, depth: depth, in: resolving) {
                status = refusal
            } else {
                let query = QueryInFlight(
                    node: index, name: name, canonicalName: ResolvableAddress.canonicalName(name),
                    dnsID: 0, attempt: 0, deadline: now, lastFailure: nil)
                if send(query, in: &resolving, now: now) {
                    resolving.queriesMade += 1
                    resolving.lookedUp.insert(address)
                    status = .pending
                } else {
                    status = .failed(.invalidName(name))
                }
            }
        }
        return resolving.tree.add(address, depth: depth, status: status)
    }

    /// Why `address` is not looked up, as the status it gets, or `nil` when it may be.
    private func refusal(of address: Multiaddr, depth: Int, in resolving: Resolving) -> ResolutionTree.Status? {
        // A repeat adds nothing: its addresses come from the first lookup.
        if resolving.lookedUp.contains(address) { return .expanded([]) }
        if depth > limits.maximumDepth { return .failed(.tooDeep) }
        if resolving.queriesMade >= limits.maximumQueries { return .failed(.tooManyQueries) }
        return nil
    }

    /// Sends `query` (its `attempt`-th datagram) with a fresh DNS ID under a new request;
    /// `false` when its name cannot be encoded (then nothing is sent).
    private mutating func send(_ query: QueryInFlight, in resolving: inout Resolving, now: Instant) -> Bool {
        var query = query
        query.dnsID = UInt16.random(in: .min ... .max, using: &random)
        query.deadline = now + configuration.timeout
        guard let bytes = try? DNSQuery.encode(id: query.dnsID, name: query.name, type: .txt) else { return false }
        let servers = configuration.nameServers
        let server = servers[query.attempt % servers.count]
        let request = makeRequestID()
        resolving.pending[request] = .query(query)
        requests.append(.sendQuery(request, server: server, bytes: bytes))
        return true
    }

    /// Ends the datagram of `request` and sends the next one, or fails the query with its
    /// last failure once every server and round was tried.
    mutating func retry(
        _ query: QueryInFlight, replacing request: ResolutionRequestID, in resolving: inout Resolving, now: Instant
    ) {
        resolving.pending[request] = nil
        requests.append(.cancel(request))
        var next = query
        next.attempt += 1
        // The name encoded for the first datagram, so it encodes again.
        guard next.attempt < configuration.nameServers.count * configuration.attempts,
              send(next, in: &resolving, now: now)
        else {
            resolving.tree.setStatus(.failed(query.lastFailure ?? .timeout), of: query.node)
            return
        }
    }

    /// Applies the answer of a host lookup to `node`.
    mutating func completeHostLookup(
        node: Int, name: String, family: IPAddressFamily, result: Result<[IPAddress], ResolverDriverError>,
        in resolving: inout Resolving, now: Instant
    ) {
        let lookup = resolving.tree[node]
        switch result {
        case .failure(.nameNotFound):
            resolving.tree.setStatus(.failed(.nameNotFound(name)), of: node)
        case .failure(let error):
            resolving.tree.setStatus(.failed(.lookupFailed(error)), of: node)
        case .success(let ips):
            var children: [Int] = []
            for ip in ips where family.admits(ip.family) {
                guard children.count < limits.maximumAddresses else { break }
                if let resolved = ResolvableAddress.replacingName(of: lookup.address, with: ip) {
                    children.append(addNode(resolved, depth: lookup.depth + 1, to: &resolving, now: now))
                } else {
                    children.append(
                        resolving.tree.add(lookup.address, depth: lookup.depth + 1,
                                           status: .failed(.unsupportedAddress(lookup.address))))
                }
            }
            resolving.tree.setStatus(.expanded(children), of: node)
        }
    }

    /// Reads a datagram that arrived for `query`: drops it unless it answers the query,
    /// then applies the answer or moves to the next server.
    mutating func receiveReply(
        _ bytes: Span<UInt8>, for request: ResolutionRequestID, query: QueryInFlight,
        in resolving: inout Resolving, now: Instant
    ) {
        // Header: ID (2 bytes), then flags whose top bit says "response".
        guard bytes.count >= 12, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == query.dnsID, bytes[2] & 0x80 != 0 else {
            droppedReplies += 1
            return
        }
        let response: DNSResponse
        do {
            response = try DNSResponse(bytes: bytes)
        } catch {
            var failed = query
            failed.lastFailure = .malformedResponse(error)
            retry(failed, replacing: request, in: &resolving, now: now)
            return
        }
        if let question = response.question {
            guard question.name == query.canonicalName, question.type == DNSRecordType.txt.rawValue,
                  question.recordClass == 1
            else {
                droppedReplies += 1
                return
            }
        } else if response.responseCode == 0 || response.responseCode == 3 {
            // A decisive answer must say what it answers.
            droppedReplies += 1
            return
        }
        var failed = query
        if response.isTruncated {
            failed.lastFailure = .truncatedResponse
            retry(failed, replacing: request, in: &resolving, now: now)
            return
        }
        switch response.responseCode {
        case 0:
            resolving.pending[request] = nil
            requests.append(.cancel(request))
            let lookup = resolving.tree[query.node]
            let found = DNSAddr.addresses(in: response.answers, resolving: lookup.address)
            var children: [Int] = []
            for address in found.prefix(limits.maximumAddresses) {
                children.append(addNode(address, depth: lookup.depth + 1, to: &resolving, now: now))
            }
            resolving.tree.setStatus(.expanded(children), of: query.node)
        case 3:
            resolving.pending[request] = nil
            requests.append(.cancel(request))
            resolving.tree.setStatus(.failed(.nameNotFound(query.name)), of: query.node)
        default:
            failed.lastFailure = .serverFailure(responseCode: response.responseCode)
            retry(failed, replacing: request, in: &resolving, now: now)
        }
    }
}
