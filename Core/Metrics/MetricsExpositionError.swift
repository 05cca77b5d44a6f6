/// Why a metric family, a sample or an exposition was refused.
///
/// Every case is a programming error of the code that builds the exposition (the names are
/// the program's own, not input from a peer): it is thrown rather than trapped so that a
/// daemon with a mistaken metric name keeps running and can report the error.
public enum MetricsExpositionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    case invalidMetricName(String)
    /// The label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`, or starts with `__`
    /// (reserved for Prometheus itself).
    case invalidLabelName(String)
    /// One sample names the same label twice.
    case duplicateLabelName(String)
    /// A family already has a sample with the same label set (in any order).
    case duplicateSample(metric: String, labels: [MetricLabel])
    /// The exposition already has a family of that name.
    case duplicateFamily(String)

    public var description: String {
        switch self {
        case .invalidMetricName(let name): "invalid metric name \"\(name)\""
        case .invalidLabelName(let name): "invalid label name \"\(name)\""
        case .duplicateLabelName(let name): "label \"\(name)\" given twice in one sample"
        case .duplicateSample(let metric, let labels):
            "\(metric) already has a sample labelled \(labels.map { "\($0.name)=\($0.value)" })"
        case .duplicateFamily(let name): "metric family \"\(name)\" added twice"
        }
    }
}
