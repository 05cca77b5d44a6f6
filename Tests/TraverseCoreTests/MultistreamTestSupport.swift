@testable import TraverseCore

/// Helpers shared by the multistream-select suites.
enum MultistreamWire {
    /// `/multistream/1.0.0` as it appears on the wire.
    static let header = hex("13" + "2f6d756c746973747265616d2f312e302e30" + "0a")
    /// `na` as it appears on the wire.
    static let notAvailable = hex("036e610a")

    /// One message: `uvarint(len) ‖ text ‖ '\n'`.
    static func message(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        MultistreamMessage.encode(Array(text.utf8), into: &bytes)
        return bytes
    }

    /// Everything the machine has queued for the wire.
    static func transmit<Machine: ByteStreamMachine>(_ machine: inout Machine) -> [UInt8] {
        var bytes: [UInt8] = []
        while machine.pollTransmit(into: &bytes) > 0 {}
        return bytes
    }

    /// Every event the machine has pending.
    static func events<Machine: ByteStreamMachine>(_ machine: inout Machine) -> [Machine.Event] {
        var events: [Machine.Event] = []
        while let event = machine.pollEvent() { events.append(event) }
        return events
    }

    /// Feeds `bytes` in one piece.
    static func feed<Machine: ByteStreamMachine>(_ machine: inout Machine, _ bytes: [UInt8]) {
        machine.receive(bytes.span, now: .zero)
    }

    /// Feeds `bytes` one byte at a time.
    static func feedBytewise<Machine: ByteStreamMachine>(_ machine: inout Machine, _ bytes: [UInt8]) {
        for byte in bytes {
            let piece = [byte]
            machine.receive(piece.span, now: .zero)
        }
    }
}
