/// Identify and identify push: what this node tells peers, and what it learns from them.
extension Swarm {
    /// This node's identify message (the observed address is added per connection).
    func localIdentifyInfo() -> IdentifyInfo {
        IdentifyInfo(
            publicKey: identityKey.publicKey, listenAddresses: listenAddresses, protocols: supportedProtocols,
            protocolVersion: configuration.protocolVersion, agentVersion: configuration.agentVersion,
            signedPeerRecord: cachedSignedRecord)
    }

    /// Re-signs the peer record with the new addresses and pushes identify to every peer.
    mutating func listenAddressesChanged(now: Instant) {
        recordSequence += 1
        cachedSignedRecord = try? SignedPeerRecord(
            sealing: PeerRecord(peerID: localPeer, seq: recordSequence, addresses: listenAddresses), with: identityKey)
        pushIdentify(now: now)
        // A public listen address is one of the node's public addresses.
        reportReachabilityIfChanged(now: now)
    }

    /// Sends identify push on every established connection.
    mutating func pushIdentify(now: Instant) {
        for id in connections.keys.sorted() {
            guard var slot = connections.removeValue(forKey: id) else { continue }
            if slot.summary != nil && !slot.remoteGoingAway {
                openBuiltinStream(&slot, id: id, purpose: .identifyPush, now: now)
            }
            settle(slot, id: id)
        }
    }

    /// The most peers remembered as reporting one observed address.
    static let maximumObserversPerAddress = 64

    /// A peer's identify message (or push) arrived on one of its connections.
    mutating func identified(_ peer: PeerID, info: IdentifyInfo, isPush: Bool, now: Instant) {
        peerStore.apply(info, from: peer, now: now, keeping: isConnectedPeer)
        discoverRelay(peer, info: info)
        events.append(.peerIdentified(peer, info))
        guard !isPush, let observed = info.observedAddress else { return }
        if observedAddresses[observed] == nil, observedAddresses.count >= configuration.maximumObservedAddresses {
            // Make room by forgetting the address the fewest peers reported.
            guard let weakest = observedAddresses.min(by: { $0.value.count < $1.value.count }), weakest.value.count <= 1 else {
                return
            }
            observedAddresses[weakest.key] = nil
        }
        // Enough observers to confirm the address; more would only grow with the peers.
        if observedAddresses[observed, default: []].count < Self.maximumObserversPerAddress {
            observedAddresses[observed, default: []].insert(peer)
        }
        events.append(.addressObserved(observed, by: peer))
    }
}
