/// Dialing names: `/dns`, `/dns4`, `/dns6` through the driver's host lookup, `/dnsaddr`
/// through DNS TXT queries the driver sends as datagrams (`MultiaddrResolution`).
extension Swarm {
    /// One resolution of a dial's address.
    struct ResolutionSlot {
        let dial: DialID
        let address: Multiaddr
        var machine: MultiaddrResolution
    }

    /// Whether the swarm can dial `address` once its name (if any) is resolved: TCP over an
    /// IP address or a `/dns*` name, or any `/dnsaddr`.
    static func isDialable(_ address: Multiaddr) -> Bool {
        if let (relayAddress, _) = address.splitCircuit() {
            // `…/p2p/RELAY/p2p-circuit[/p2p/TARGET]`: the relay part names the relay, and
            // is itself dialable or only the relay's ID (its addresses come from the store).
            guard relayAddress.peerID != nil, !relayAddress.isCircuit else { return false }
            return relayAddress.components.count == 1 || isDialable(relayAddress)
        }
        let components = address.withoutTrailingPeerID.components
        guard let first = components.first else { return false }
        switch first {
        case .dnsaddr:
            return components.count == 1
        case .ip4, .ip6, .dns, .dns4, .dns6:
            guard components.count == 2, case .tcp = components[1] else { return false }
            return true
        default:
            return false
        }
    }

    /// Starts resolving a dial's address that names a host.
    mutating func startResolution(of address: Multiaddr, for dial: DialID, now: Instant) {
        let machine: MultiaddrResolution
        do {
            machine = try MultiaddrResolution(
                resolving: address, configuration: configuration.resolver, limits: configuration.resolution,
                now: now, using: &generator)
        } catch {
            dials[dial]?.failures.append(DialAttemptFailure(address: address, reason: .resolution(.unsupportedAddress(address))))
            return
        }
        let key = makeIdentifier()
        dials[dial]?.pendingResolutions += 1
        resolutions[key] = ResolutionSlot(dial: dial, address: address, machine: machine)
        advanceResolution(key, now: now)
    }

    /// The driver's answer to `lookUpHost`.
    public mutating func hostLookupCompleted(
        _ id: LookupID, _ result: Result<[SocketAddress], TransportFailure>, now: Instant
    ) {
        latestInput = max(latestInput, now)
        guard let (key, request) = lookups.removeValue(forKey: id) else { return }
        let answer: Result<[IPAddress], ResolverDriverError> = switch result {
        case .success(let addresses):
            .success(addresses.map { address in
                switch address {
                case .ipv4(let ip, _): .ipv4(ip)
                case .ipv6(let ip, _): .ipv6(ip)
                }
            })
        case .failure(.nameNotFound): .failure(.nameNotFound)
        case .failure: .failure(.temporaryFailure)
        }
        try? resolutions[key]?.machine.hostLookupCompleted(request, answer, now: now)
        advanceResolution(key, now: now)
    }

    /// A datagram came back for `sendDatagram`.
    public mutating func datagramReceived(_ id: LookupID, _ bytes: Span<UInt8>, now: Instant) {
        latestInput = max(latestInput, now)
        guard let (key, request) = lookups[id] else { return }
        try? resolutions[key]?.machine.queryAnswered(request, bytes: bytes, now: now)
        advanceResolution(key, now: now)
    }

    /// `sendDatagram` failed (no route, refused, or no answer within the driver's timeout).
    public mutating func datagramFailed(_ id: LookupID, _ failure: TransportFailure, now: Instant) {
        latestInput = max(latestInput, now)
        guard let (key, request) = lookups.removeValue(forKey: id) else { return }
        try? resolutions[key]?.machine.queryFailed(request, .system(code: 0), now: now)
        advanceResolution(key, now: now)
    }

    /// Runs resolution timeouts.
    mutating func handleResolutionTimeouts(now: Instant) {
        for key in resolutions.keys.sorted() {
            guard let deadline = resolutions[key]?.machine.nextDeadline, deadline <= now else { continue }
            resolutions[key]?.machine.handleTimeout(now: now)
            advanceResolution(key, now: now)
        }
    }

    /// The earliest deadline of the resolutions.
    var resolutionDeadline: Instant? {
        var earliest: Instant?
        for slot in resolutions.values { earliest = earliest.earliest(slot.machine.nextDeadline) }
        return earliest
    }

    /// Abandons the resolutions of a dial.
    mutating func cancelResolutions(of dial: DialID) {
        for key in resolutions.keys where resolutions[key]?.dial == dial {
            resolutions[key]?.machine.cancel()
            resolutions[key] = nil
        }
        lookups = lookups.filter { resolutions[$0.value.resolution] != nil }
    }

    /// Turns a resolution's requests into actions and its final event into dial attempts.
    private mutating func advanceResolution(_ key: UInt64, now: Instant) {
        guard var slot = resolutions.removeValue(forKey: key) else { return }
        while let request = slot.machine.pollRequest() {
            switch request {
            case .lookUpHost(let request, let name, let family):
                let id = LookupID(rawValue: makeIdentifier())
                lookups[id] = (key, request)
                actions.append(.lookUpHost(id, name: name, family: family))
            case .sendQuery(let request, let server, let bytes):
                let id = LookupID(rawValue: makeIdentifier())
                lookups[id] = (key, request)
                actions.append(.sendDatagram(id, to: server, payload: bytes))
            case .cancel(let request):
                lookups = lookups.filter { !($0.value.resolution == key && $0.value.request == request) }
            }
        }
        guard let event = slot.machine.pollEvent() else {
            resolutions[key] = slot
            return
        }
        lookups = lookups.filter { $0.value.resolution != key }
        guard dials[slot.dial] != nil else { return }
        dials[slot.dial]?.pendingResolutions -= 1
        switch event {
        case .resolved(let addresses):
            let dialable = addresses.filter { SocketAddress(tcp: $0) != nil && $0.withoutTrailingPeerID.components.count == 2 }
            if dialable.isEmpty {
                dials[slot.dial]?.failures.append(DialAttemptFailure(address: slot.address, reason: .resolution(.noAddresses)))
            }
            let room = configuration.maximumAddressesPerDial
            dials[slot.dial]?.addresses.append(contentsOf: dialable.map(\.withoutTrailingPeerID).prefix(room))
        case .failed(let error):
            dials[slot.dial]?.failures.append(DialAttemptFailure(address: slot.address, reason: .resolution(error)))
        }
        startNextAttempt(slot.dial, now: now)
    }
}
