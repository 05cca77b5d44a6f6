/// A stream the swarm runs itself with one of the built-in protocol machines, and the
/// bytes on their way between the machine and the stream.
struct ProtocolStream {
    /// The machine, and what it is for.
    enum Machine {
        /// Reads a peer's identify message (a reply to our request, or a push).
        case identifyReader(IdentifyRequester, isPush: Bool)
        /// Sends our identify message (a reply, or a push).
        case identifyWriter(IdentifyResponder)
        case pingServer(PingServer)
        /// Sends `remaining` more pings after the one in flight, collecting their times.
        case pingClient(PingClient, remaining: Int, times: [Duration])
        case perfServer(PerfServer)
        case perfClient(PerfClient)
        case echoServer(EchoServer)
        case echoClient(EchoClient)
        /// A Circuit Relay v2 machine.
        case relay(RelayStreamMachine)
        /// DCUtR: the side that opened the stream (it accepted the relayed connection).
        case holePunchInitiator(HolePunchInitiator)
        /// DCUtR: the side that serves the stream (it dialed through the relay).
        case holePunchResponder(HolePunchResponder)
        /// AutoNAT: a peer asked this node to dial it back.
        case autoNATServer(AutoNATServer)
        /// AutoNAT: this node asked a peer to dial it back.
        case autoNATClient(AutoNATClient)
        /// Held only while a machine is taken out to be mutated, so its buffers are not
        /// copied on write.
        case moved
    }

    /// What draining the machine's events told the swarm.
    enum Outcome {
        /// A peer's identify message (or push) arrived, checked.
        case identified(IdentifyInfo, isPush: Bool)
        /// One ping came back.
        case pingRoundTrip(Duration)
        /// The request this stream serves finished.
        case completed(RequestOutcome)
        /// The peer broke the protocol or timed out: reset the stream.
        case failed(String)
        /// A relay machine's outcome.
        case relay(RelayStreamMachine.Outcome)
        /// A DCUtR machine's outcome: dial now, or the exchange failed.
        case holePunch(HolePunchEvent)
        /// An AutoNAT server's request or answer.
        case autoNATServer(AutoNATServerEvent)
        /// An AutoNAT client's result.
        case autoNATClient(AutoNATClientEvent)
    }

    /// What the stream becomes once its protocol hands it over (a relay stream that now
    /// carries a circuit); the pump stops feeding the machine then.
    enum Handoff {
        /// It carries the relayed connection with this identifier.
        case circuitCarrier(ConnectionID)
        /// It is one side of a circuit this node relays.
        case splice(RelayCircuitID)
    }

    var machine: Machine
    /// The application request this stream answers, for client machines.
    let request: RequestID?
    /// Machine output the stream did not take yet (flow control), from `pendingOffset`.
    var pendingOutput: [UInt8] = []
    var pendingOffset = 0
    /// Whether this side half-closed the stream.
    var writeClosed = false
    /// Whether the peer's end of stream was handed to the machine.
    var endOfStreamDelivered = false
    /// Whether the machine reported its final outcome (no more are expected).
    var finished = false
    /// Set when the stream is handed over; the pump then stores it as that.
    var handoff: Handoff?

    init(_ machine: Machine, request: RequestID? = nil) {
        self.machine = machine
        self.request = request
    }

    var hasPendingOutput: Bool { pendingOffset < pendingOutput.count }

    /// Whether the machine is a DCUtR one.
    var isHolePunch: Bool {
        switch machine {
        case .holePunchInitiator, .holePunchResponder: true
        default: false
        }
    }

    var receiveCapacity: Int {
        switch machine {
        case .identifyReader(let m, _): m.receiveCapacity
        case .identifyWriter(let m): m.receiveCapacity
        case .pingServer(let m): m.receiveCapacity
        case .pingClient(let m, _, _): m.receiveCapacity
        case .perfServer(let m): m.receiveCapacity
        case .perfClient(let m): m.receiveCapacity
        case .echoServer(let m): m.receiveCapacity
        case .echoClient(let m): m.receiveCapacity
        case .relay(let m): m.receiveCapacity
        case .holePunchInitiator(let m): m.receiveCapacity
        case .holePunchResponder(let m): m.receiveCapacity
        case .autoNATServer(let m): m.receiveCapacity
        case .autoNATClient(let m): m.receiveCapacity
        case .moved: 0
        }
    }

    var wantsToCloseWrite: Bool {
        switch machine {
        case .identifyReader(let m, _): m.wantsToCloseWrite
        case .identifyWriter(let m): m.wantsToCloseWrite
        case .pingServer(let m): m.wantsToCloseWrite
        case .pingClient(let m, _, _): m.wantsToCloseWrite
        case .perfServer(let m): m.wantsToCloseWrite
        case .perfClient(let m): m.wantsToCloseWrite
        case .echoServer(let m): m.wantsToCloseWrite
        case .echoClient(let m): m.wantsToCloseWrite
        case .relay(let m): m.wantsToCloseWrite
        case .holePunchInitiator(let m): m.wantsToCloseWrite
        case .holePunchResponder(let m): m.wantsToCloseWrite
        case .autoNATServer(let m): m.wantsToCloseWrite
        case .autoNATClient(let m): m.wantsToCloseWrite
        case .moved: false
        }
    }

    var nextDeadline: Instant? {
        switch machine {
        case .identifyReader(let m, _): m.nextDeadline
        case .identifyWriter(let m): m.nextDeadline
        case .pingServer(let m): m.nextDeadline
        case .pingClient(let m, _, _): m.nextDeadline
        case .perfServer(let m): m.nextDeadline
        case .perfClient(let m): m.nextDeadline
        case .echoServer(let m): m.nextDeadline
        case .echoClient(let m): m.nextDeadline
        case .relay(let m): m.nextDeadline
        case .holePunchInitiator(let m): m.nextDeadline
        case .holePunchResponder(let m): m.nextDeadline
        case .autoNATServer(let m): m.nextDeadline
        case .autoNATClient(let m): m.nextDeadline
        case .moved: nil
        }
    }

    mutating func receive(_ bytes: Span<UInt8>, now: Instant) {
        switch machine {
        case .identifyReader(var m, let push): machine = .moved; m.receive(bytes, now: now); machine = .identifyReader(m, isPush: push)
        case .identifyWriter(var m): machine = .moved; m.receive(bytes, now: now); machine = .identifyWriter(m)
        case .pingServer(var m): machine = .moved; m.receive(bytes, now: now); machine = .pingServer(m)
        case .pingClient(var m, let remaining, let times): machine = .moved;
            m.receive(bytes, now: now); machine = .pingClient(m, remaining: remaining, times: times)
        case .perfServer(var m): machine = .moved; m.receive(bytes, now: now); machine = .perfServer(m)
        case .perfClient(var m): machine = .moved; m.receive(bytes, now: now); machine = .perfClient(m)
        case .echoServer(var m): machine = .moved; m.receive(bytes, now: now); machine = .echoServer(m)
        case .echoClient(var m): machine = .moved; m.receive(bytes, now: now); machine = .echoClient(m)
        case .relay(var m): machine = .moved; m.receive(bytes, now: now); machine = .relay(m)
        case .holePunchInitiator(var m): machine = .moved; m.receive(bytes, now: now); machine = .holePunchInitiator(m)
        case .holePunchResponder(var m): machine = .moved; m.receive(bytes, now: now); machine = .holePunchResponder(m)
        case .autoNATServer(var m): machine = .moved; m.receive(bytes, now: now); machine = .autoNATServer(m)
        case .autoNATClient(var m): machine = .moved; m.receive(bytes, now: now); machine = .autoNATClient(m)
        case .moved: break
        }
    }

    mutating func receiveEndOfStream(now: Instant) {
        endOfStreamDelivered = true
        switch machine {
        case .identifyReader(var m, let push): machine = .moved; m.receiveEndOfStream(now: now); machine = .identifyReader(m, isPush: push)
        case .identifyWriter(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .identifyWriter(m)
        case .pingServer(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .pingServer(m)
        case .pingClient(var m, let remaining, let times): machine = .moved;
            m.receiveEndOfStream(now: now); machine = .pingClient(m, remaining: remaining, times: times)
        case .perfServer(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .perfServer(m)
        case .perfClient(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .perfClient(m)
        case .echoServer(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .echoServer(m)
        case .echoClient(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .echoClient(m)
        case .relay(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .relay(m)
        case .holePunchInitiator(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .holePunchInitiator(m)
        case .holePunchResponder(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .holePunchResponder(m)
        case .autoNATServer(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .autoNATServer(m)
        case .autoNATClient(var m): machine = .moved; m.receiveEndOfStream(now: now); machine = .autoNATClient(m)
        case .moved: break
        }
    }

    mutating func handleTimeout(now: Instant) {
        switch machine {
        case .identifyReader(var m, let push): machine = .moved; m.handleTimeout(now: now); machine = .identifyReader(m, isPush: push)
        case .identifyWriter(var m): machine = .moved; m.handleTimeout(now: now); machine = .identifyWriter(m)
        case .pingServer(var m): machine = .moved; m.handleTimeout(now: now); machine = .pingServer(m)
        case .pingClient(var m, let remaining, let times): machine = .moved;
            m.handleTimeout(now: now); machine = .pingClient(m, remaining: remaining, times: times)
        case .perfServer(var m): machine = .moved; m.handleTimeout(now: now); machine = .perfServer(m)
        case .perfClient(var m): machine = .moved; m.handleTimeout(now: now); machine = .perfClient(m)
        case .echoServer(var m): machine = .moved; m.handleTimeout(now: now); machine = .echoServer(m)
        case .echoClient(var m): machine = .moved; m.handleTimeout(now: now); machine = .echoClient(m)
        case .relay(var m): machine = .moved; m.handleTimeout(now: now); machine = .relay(m)
        case .holePunchInitiator(var m): machine = .moved; m.handleTimeout(now: now); machine = .holePunchInitiator(m)
        case .holePunchResponder(var m): machine = .moved; m.handleTimeout(now: now); machine = .holePunchResponder(m)
        case .autoNATServer(var m): machine = .moved; m.handleTimeout(now: now); machine = .autoNATServer(m)
        case .autoNATClient(var m): machine = .moved; m.handleTimeout(now: now); machine = .autoNATClient(m)
        case .moved: break
        }
    }

    /// Moves the machine's next output into `pendingOutput` when that is empty.
    mutating func refillPendingOutput() {
        guard !hasPendingOutput else { return }
        pendingOutput.removeAll(keepingCapacity: true)
        pendingOffset = 0
        switch machine {
        case .identifyReader(var m, let push): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .identifyReader(m, isPush: push)
        case .identifyWriter(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .identifyWriter(m)
        case .pingServer(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .pingServer(m)
        case .pingClient(var m, let remaining, let times): machine = .moved;
            _ = m.pollTransmit(into: &pendingOutput); machine = .pingClient(m, remaining: remaining, times: times)
        case .perfServer(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .perfServer(m)
        case .perfClient(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .perfClient(m)
        case .echoServer(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .echoServer(m)
        case .echoClient(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .echoClient(m)
        case .relay(var m): machine = .moved; m.pollTransmit(into: &pendingOutput); machine = .relay(m)
        case .holePunchInitiator(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .holePunchInitiator(m)
        case .holePunchResponder(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .holePunchResponder(m)
        case .autoNATServer(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .autoNATServer(m)
        case .autoNATClient(var m): machine = .moved; _ = m.pollTransmit(into: &pendingOutput); machine = .autoNATClient(m)
        case .moved: break
        }
    }

    /// Drains the machine's events into outcomes; a ping client with pings left sends the
    /// next one at once.
    mutating func drainOutcomes(now: Instant, using generator: inout some RandomNumberGenerator) -> [Outcome] {
        var outcomes: [Outcome] = []
        switch machine {
        case .identifyReader(var m, let push): machine = .moved;
            while let event = m.pollEvent() {
                switch event {
                case .received(let info): outcomes.append(.identified(info, isPush: push))
                case .failed(let error): outcomes.append(.failed("identify: \(error)"))
                }
            }
            machine = .identifyReader(m, isPush: push)
        case .identifyWriter(var m): machine = .moved;
            while let event = m.pollEvent() {
                if case .failed(let error) = event { outcomes.append(.failed("identify: \(error)")) }
            }
            machine = .identifyWriter(m)
        case .pingServer(var m): machine = .moved;
            while let event = m.pollEvent() {
                if case .failed(let error) = event { outcomes.append(.failed("ping: \(error)")) }
            }
            machine = .pingServer(m)
        case .pingClient(var m, var remaining, var times): machine = .moved;
            while let event = m.pollEvent() {
                switch event {
                case .roundTrip(let time):
                    times.append(time)
                    outcomes.append(.pingRoundTrip(time))
                    if remaining > 0 {
                        remaining -= 1
                        try? m.ping(now: now, using: &generator)
                    } else {
                        m.finish()
                        outcomes.append(.completed(.pinged(times)))
                    }
                case .failed(let error):
                    outcomes.append(.failed("ping: \(error)"))
                }
            }
            machine = .pingClient(m, remaining: remaining, times: times)
        case .perfServer(var m): machine = .moved;
            while let event = m.pollEvent() {
                if case .failed(let error) = event { outcomes.append(.failed("perf: \(error)")) }
            }
            machine = .perfServer(m)
        case .perfClient(var m): machine = .moved;
            while let event = m.pollEvent() {
                switch event {
                case .finished(let result): outcomes.append(.completed(.perf(result)))
                case .failed(let error): outcomes.append(.failed("perf: \(error)"))
                }
            }
            machine = .perfClient(m)
        case .echoServer(var m): machine = .moved;
            while let event = m.pollEvent() {
                if case .failed(let error) = event { outcomes.append(.failed("echo: \(error)")) }
            }
            machine = .echoServer(m)
        case .echoClient(var m): machine = .moved;
            while let event = m.pollEvent() {
                switch event {
                case .finished(let count, let elapsed): outcomes.append(.completed(.echoed(byteCount: count, elapsed: elapsed)))
                case .failed(let error): outcomes.append(.failed("echo: \(error)"))
                }
            }
            machine = .echoClient(m)
        case .relay(var m): machine = .moved;
            let (relayOutcomes, failure) = m.drainOutcomes()
            outcomes.append(contentsOf: relayOutcomes.map(Outcome.relay))
            if let failure { outcomes.append(.failed(failure)) }
            machine = .relay(m)
        case .holePunchInitiator(var m): machine = .moved;
            while let event = m.pollEvent() { outcomes.append(.holePunch(event)) }
            machine = .holePunchInitiator(m)
        case .holePunchResponder(var m): machine = .moved;
            while let event = m.pollEvent() { outcomes.append(.holePunch(event)) }
            machine = .holePunchResponder(m)
        case .autoNATServer(var m): machine = .moved;
            while let event = m.pollEvent() { outcomes.append(.autoNATServer(event)) }
            machine = .autoNATServer(m)
        case .autoNATClient(var m): machine = .moved;
            while let event = m.pollEvent() { outcomes.append(.autoNATClient(event)) }
            machine = .autoNATClient(m)
        case .moved:
            break
        }
        return outcomes
    }
}
