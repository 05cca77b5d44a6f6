/// The value of one sample, rendered the way Prometheus's own clients render it.
public enum MetricValue: Hashable, Sendable, CustomStringConvertible {
    /// A count or byte total.
    case unsigned(UInt64)
    /// A signed value (a gauge that may go below zero).
    case integer(Int)
    /// A floating-point value; infinities render as `+Inf` and `-Inf`, NaN as `NaN`.
    case double(Double)

    /// The value in the text exposition format.
    public var description: String {
        switch self {
        case .unsigned(let value): return String(value)
        case .integer(let value): return String(value)
        case .double(let value):
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
            return value.description
        }
    }
}
