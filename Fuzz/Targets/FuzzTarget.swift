/// A libFuzzer target: one decoder or machine fed arbitrary bytes.
///
/// A target returns normally on any input the code under test rejects with a typed error;
/// it traps (through `precondition`) only when an invariant breaks, for example when
/// something that decoded does not re-encode to the same bytes. That trap is the finding.
public struct FuzzTarget: Sendable {
    /// The name used on the command line and for the corpus folder (`Fuzz/Corpus/<name>`).
    public let name: String
    /// Runs one input.
    public let run: @Sendable (Span<UInt8>) -> Void

    /// A target called `name` that runs `body` on each input.
    public init(name: String, run: @escaping @Sendable (Span<UInt8>) -> Void) {
        self.name = name
        self.run = run
    }

    /// Every target, in the order the fuzz script runs them.
    public static let all: [FuzzTarget] = [
        .varint, .multiaddrBinary, .multiaddrText, .peerIDText, .keyProtobuf, .envelope,
        .noiseResponder, .noiseInitiator, .multistreamDialer, .multistreamListener,
        .yamuxFrame, .yamuxSession, .dnsResponse, .identifyMessage, .pingServer, .perfServer,
        .multiaddrResolution, .swarmInbound,
        .relayMessage, .relayHopServer, .relayStopServer, .relayReservationClient,
        .metricsHTTPRequest,
        .autoNATMessage, .autoNATServer, .autoNATClient,
        .holePunchMessage, .holePunchInitiator, .holePunchResponder,
        .natsServerInput, .natsPipeFrame,
    ]

    /// The target called `name`.
    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

extension Span where Element == UInt8 {
    /// A copy of the bytes as an array.
    var array: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for index in indices { bytes.append(self[index]) }
        return bytes
    }
}
