/// The limits a relay applies to one relayed connection (the wire's `Limit`): its duration
/// and the bytes allowed in each direction. Zero means "no limit" for either field, and an
/// absent `Limit` (`nil` where this type is optional) means the relay applies none.
public struct CircuitLimit: Hashable, Sendable {
    /// The longest a circuit may stay open, in seconds; 0 for no limit.
    public var durationSeconds: UInt32
    /// The most bytes that may flow in each direction; 0 for no limit.
    public var dataBytes: UInt64

    /// A limit of `durationSeconds` seconds and `dataBytes` bytes per direction.
    public init(durationSeconds: UInt32, dataBytes: UInt64) {
        self.durationSeconds = durationSeconds
        self.dataBytes = dataBytes
    }

    /// The duration as a `Duration`, or `nil` when unlimited.
    public var duration: Duration? {
        durationSeconds == 0 ? nil : .seconds(Int64(durationSeconds))
    }

    /// The data limit per direction, or `nil` when unlimited.
    public var data: UInt64? {
        dataBytes == 0 ? nil : dataBytes
    }

    var protobuf: Circuit_Pb_Limit {
        var limit = Circuit_Pb_Limit()
        limit.duration = durationSeconds
        limit.data = dataBytes
        return limit
    }

    init(_ protobuf: Circuit_Pb_Limit) {
        durationSeconds = protobuf.duration
        dataBytes = protobuf.data
    }
}
