import TraverseCore

/// What the multistream fuzz targets share: reading options and pieces out of the input,
/// and checking the events a machine reports.
enum MultistreamFuzzing {
    /// The configuration chosen by the first input byte: bit 0 turns optimistic negotiation
    /// on, bit 1 picks a 64-byte message limit instead of 1024, bits 2-4 pick 1-8 proposals.
    static func configuration(_ options: UInt8) -> MultistreamConfiguration {
        MultistreamConfiguration(
            maximumMessageLength: options & 0b10 != 0 ? 64 : 1024,
            maximumProposals: Int((options >> 2) & 0b111) + 1,
            optimisticNegotiation: options & 0b1 != 0)
    }

    /// `bytes` cut into pieces whose lengths come from the bytes themselves (1-16 bytes: the
    /// low four bits of each piece's first byte, plus one), so the wire bytes stay
    /// contiguous in the input and libFuzzer's mutations change the chunking too.
    static func pieces(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let length = Int(bytes[start] & 0x0F) + 1
            let end = min(start + length, bytes.endIndex)
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        return pieces
    }

    /// Checks that events follow the contract: `protocolSelected` and then
    /// `negotiationComplete` for the same allowed protocol, at most once each, or one
    /// `failed`, with nothing after `failed` or `negotiationComplete` (other than, for an
    /// optimistic dialer, `failed` after `protocolSelected`).
    struct EventChecker {
        let allowed: [String]
        var selected: String?
        var completed: String?
        var failure: MultistreamError?

        init(allowed: [String]) { self.allowed = allowed }

        mutating func check(_ event: MultistreamEvent) {
            precondition(failure == nil, "event \(event) after failure")
            precondition(completed == nil, "event \(event) after completion")
            switch event {
            case .protocolSelected(let name):
                precondition(selected == nil, "protocol selected twice")
                precondition(allowed.contains(name), "selected a protocol not on the list")
                selected = name
            case .negotiationComplete(let name):
                precondition(selected == name, "completion without selection of \(name)")
                completed = name
            case .failed(let error):
                failure = error
            }
        }
    }

    /// The length of the `ls` answer listing `protocols`.
    static func listAnswerLength(_ protocols: [String]) -> Int {
        let text = protocols.reduce(0) { total, name in
            let length = name.utf8.count + 1
            return total + Varint.encodedLength(UInt64(length)) + length
        }
        return Varint.encodedLength(UInt64(text + 1)) + text + 1
    }

    /// Runs one machine over the pieces of `input`, feeding every piece (also after the
    /// negotiation ended) and checking bounds and events after each.
    static func run<Machine: ByteStreamMachine>(
        _ machine: inout Machine, input: ArraySlice<UInt8>, allowed: [String],
        maximumMessageLength: Int, maximumTransmit: Int,
        bufferedByteCount: (Machine) -> Int,
        negotiatedProtocol: (Machine) -> String?,
        takeRemainingBytes: (inout Machine) -> [UInt8]
    ) where Machine.Event == MultistreamEvent {
        var checker = EventChecker(allowed: allowed)
        var transmitted = 0
        var scratch: [UInt8] = []
        func drain(_ machine: inout Machine, _ checker: inout EventChecker) {
            let failedBefore = checker.failure != nil
            while true {
                let count = machine.pollTransmit(into: &scratch)
                guard count > 0 else { break }
                precondition(count == scratch.count, "pollTransmit count differs from bytes appended")
                precondition(!failedBefore, "bytes queued after failure")
                scratch.removeAll(keepingCapacity: true)
                transmitted += count
            }
            while let event = machine.pollEvent() { checker.check(event) }
        }
        drain(&machine, &checker)
        for piece in pieces(input) {
            let completedBefore = checker.completed != nil
            machine.receive(piece.span, now: .zero)
            drain(&machine, &checker)
            precondition(bufferedByteCount(machine) <= maximumMessageLength + Varint.maximumLength,
                         "buffered more than one message")
            precondition(transmitted <= maximumTransmit, "transmitted more than the limits allow")
            precondition(machine.nextDeadline == nil)
            let remaining = takeRemainingBytes(&machine)
            if completedBefore {
                precondition(remaining == piece, "bytes after completion not handed over exactly")
            } else {
                precondition(remaining.count <= piece.count, "more leftover bytes than received")
                precondition(remaining.isEmpty || checker.completed != nil, "leftover bytes before completion")
            }
            precondition((negotiatedProtocol(machine) != nil) == (checker.completed != nil),
                         "negotiatedProtocol disagrees with the events")
            precondition(takeRemainingBytes(&machine).isEmpty, "leftover bytes handed over twice")
        }
    }
}
