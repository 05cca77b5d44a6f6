@_spi(Fuzzing) import TraverseCore

extension FuzzTarget {
    /// A Noise responder. By the first byte (mode): 0 arbitrary bytes as the initiator's
    /// messages; 1 a genuine initiator whose (correctly encrypted) message 3 carries the
    /// input as its payload, for the payload decoder; 2 a genuine handshake whose message 3
    /// is coalesced with genuine transport frames, then mutated and split by the input, for
    /// the transport phase; 3 genuine handshake messages mutated by the input.
    public static let noiseResponder = FuzzTarget(name: "noise-responder") { input in
        typealias Support = NoiseFuzzSupport
        let bytes = input.array
        let plan = Support.Plan(bytes)
        let expectPeer = plan.mode & 0x10 != 0
        var responder = Support.machine(.responder, expectPeer: expectPeer, seed: 3)

        switch plan.mode % 4 {
        case 0:
            Support.feed(Array(bytes.dropFirst()), to: &responder, sizes: plan.chunkSizes)
            _ = Support.drain(&responder)
            let events = Support.events(&responder)
            Support.checkCompleted(events, remote: Support.initiatorIdentity)

        case 1:
            var initiator = Support.machine(.initiator, rawPayload: Array(plan.rest.prefix(16_000)), seed: 2)
            Support.feed(Support.drain(&initiator), to: &responder, sizes: [])
            initiator.receive(Support.drain(&responder).span, now: .zero)
            Support.feed(Support.drain(&initiator), to: &responder, sizes: plan.chunkSizes)
            Support.checkCompleted(Support.events(&responder), remote: Support.initiatorIdentity)

        case 2:
            var initiator = Support.machine(.initiator, seed: 2)
            Support.feed(Support.drain(&initiator), to: &responder, sizes: [])
            initiator.receive(Support.drain(&responder).span, now: .zero)
            var wire = Support.drain(&initiator)
            guard case .completed = initiator.pollEvent(), var sender = try? initiator.finish() else {
                preconditionFailure("a genuine initiator completes on a genuine message 2")
            }
            let messages = Support.transportMessages(plan.rest)
            for message in messages {
                guard (try? sender.encrypt(message.span, into: &wire)) != nil else { preconditionFailure("fresh nonces") }
            }
            let mutated = plan.mutate(wire)
            // Feed the handshake machine until it completes, then the transport the rest.
            let cut = plan.chunkSizes.isEmpty ? mutated.count : min(mutated.count, Int(plan.chunkSizes[0]) * 41)
            Support.feed(Array(mutated[..<cut]), to: &responder, sizes: plan.chunkSizes)
            var events = Support.events(&responder)
            if events.isEmpty {
                Support.feed(Array(mutated[cut...]), to: &responder, sizes: plan.chunkSizes)
                events = Support.events(&responder)
                Support.checkCompleted(events, remote: Support.initiatorIdentity)
                if events.count == 1, case .completed = events[0], var transport = try? responder.finish() {
                    Support.checkTransport(&transport, wire: [], sizes: [], expected: messages.flatMap { $0 },
                                           intact: plan.mutations.isEmpty)
                } else {
                    precondition(!plan.mutations.isEmpty, "a genuine handshake completes")
                }
            } else {
                Support.checkCompleted(events, remote: Support.initiatorIdentity)
                if events.count == 1, case .completed = events[0], var transport = try? responder.finish() {
                    Support.checkTransport(&transport, wire: Array(mutated[cut...]), sizes: plan.chunkSizes,
                                           expected: messages.flatMap { $0 }, intact: plan.mutations.isEmpty)
                } else {
                    precondition(!plan.mutations.isEmpty, "a genuine handshake completes")
                }
            }

        default:
            var initiator = Support.machine(.initiator, seed: 2)
            let first = Support.drain(&initiator)
            Support.feed(plan.mode & 0x20 != 0 ? plan.mutate(first) : first, to: &responder, sizes: plan.chunkSizes)
            initiator.receive(Support.drain(&responder).span, now: .zero)
            let third = Support.drain(&initiator)
            Support.feed(plan.mode & 0x20 != 0 ? third : plan.mutate(third), to: &responder, sizes: plan.chunkSizes)
            let events = Support.events(&responder)
            Support.checkCompleted(events, remote: Support.initiatorIdentity)
            if plan.mutations.isEmpty {
                precondition(events.count == 1 && responder.isCompleted, "a genuine handshake completes")
            }
        }
    }
}
