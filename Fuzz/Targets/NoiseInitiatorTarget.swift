@_spi(Fuzzing) import TraverseCore

extension FuzzTarget {
    /// A Noise initiator whose first message was sent. By the first byte (mode): 0
    /// arbitrary bytes as the responder's reply; 1 a genuine responder whose (correctly
    /// encrypted) message 2 carries the input as its payload, for the payload decoder; 2 a
    /// genuine message 2 coalesced with genuine transport frames (from a copy of the
    /// initiator that finished the handshake), mutated and split by the input, for the
    /// transport phase and the bytes carried from the handshake; 3 a mutated message 2.
    public static let noiseInitiator = FuzzTarget(name: "noise-initiator") { input in
        typealias Support = NoiseFuzzSupport
        let bytes = input.array
        let plan = Support.Plan(bytes)
        let expectPeer = plan.mode & 0x10 != 0
        var initiator = Support.machine(.initiator, expectPeer: expectPeer, seed: 2)
        let first = Support.drain(&initiator)
        precondition(first.count == 34, "message 1 is the framed ephemeral key alone")

        switch plan.mode % 4 {
        case 0:
            Support.feed(Array(bytes.dropFirst()), to: &initiator, sizes: plan.chunkSizes)
            let third = Support.drain(&initiator)
            let events = Support.events(&initiator)
            Support.checkCompleted(events, remote: Support.responderIdentity)
            precondition(third.isEmpty || initiator.isCompleted, "message 3 only follows an authenticated message 2")

        case 1:
            var responder = Support.machine(.responder, rawPayload: Array(plan.rest.prefix(16_000)), seed: 3)
            responder.receive(first.span, now: .zero)
            Support.feed(Support.drain(&responder), to: &initiator, sizes: plan.chunkSizes)
            _ = Support.drain(&initiator)
            Support.checkCompleted(Support.events(&initiator), remote: Support.responderIdentity)

        case 2:
            var responder = Support.machine(.responder, seed: 3)
            responder.receive(first.span, now: .zero)
            let second = Support.drain(&responder)
            // A copy completes the handshake so the responder can send transport frames.
            var twin = initiator
            twin.receive(second.span, now: .zero)
            responder.receive(Support.drain(&twin).span, now: .zero)
            guard case .completed = responder.pollEvent(), var sender = try? responder.finish() else {
                preconditionFailure("a genuine responder completes on a genuine message 3")
            }
            var wire = second
            let messages = Support.transportMessages(plan.rest)
            for message in messages {
                guard (try? sender.encrypt(message.span, into: &wire)) != nil else { preconditionFailure("fresh nonces") }
            }
            let mutated = plan.mutate(wire)
            let cut = plan.chunkSizes.isEmpty ? mutated.count : min(mutated.count, Int(plan.chunkSizes[0]) * 41)
            Support.feed(Array(mutated[..<cut]), to: &initiator, sizes: plan.chunkSizes)
            var events = Support.events(&initiator)
            var rest = Array(mutated[cut...])
            if events.isEmpty {
                Support.feed(rest, to: &initiator, sizes: plan.chunkSizes)
                events = Support.events(&initiator)
                rest = []
            }
            Support.checkCompleted(events, remote: Support.responderIdentity)
            let third = Support.drain(&initiator)
            if events.count == 1, case .completed = events[0], var transport = try? initiator.finish() {
                precondition(!third.isEmpty, "message 3 is sent")
                Support.checkTransport(&transport, wire: rest, sizes: plan.chunkSizes,
                                       expected: messages.flatMap { $0 }, intact: plan.mutations.isEmpty)
            } else {
                precondition(!plan.mutations.isEmpty, "a genuine handshake completes")
            }

        default:
            var responder = Support.machine(.responder, seed: 3)
            responder.receive(first.span, now: .zero)
            Support.feed(plan.mutate(Support.drain(&responder)), to: &initiator, sizes: plan.chunkSizes)
            _ = Support.drain(&initiator)
            let events = Support.events(&initiator)
            Support.checkCompleted(events, remote: Support.responderIdentity)
            if plan.mutations.isEmpty {
                precondition(events.count == 1 && initiator.isCompleted, "a genuine handshake completes")
            }
        }
    }
}
