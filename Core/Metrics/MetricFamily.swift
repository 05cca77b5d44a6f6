/// The type of a metric family, as `# TYPE` declares it.
public enum MetricKind: String, Hashable, Sendable {
    /// A value that only goes up (restarting from zero when the process does).
    case counter
    /// A value that goes up and down.
    case gauge
}

/// One label of a sample: a validated name and any value (escaped when rendered).
public struct MetricLabel: Hashable, Sendable {
    /// The label's name (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`).
    public let name: String
    /// The label's value: any text.
    public let value: String

    /// A label called `name` with `value` (the name is checked when the sample is appended).
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One sample of a family: its labels, in the order given, and its value.
public struct MetricSample: Hashable, Sendable {
    /// The labels, in the order they are rendered.
    public let labels: [MetricLabel]
    /// The value.
    public let value: MetricValue
}

/// A metric family: one name, its help text and type, and its samples (one per label set).
///
/// ```swift
/// var refusals = try MetricFamily(
///     name: "traverse_relay_refusals_total", help: "Requests refused, by reason.", kind: .counter)
/// try refusals.append(.unsigned(3), labels: ["reason": "reservation_limit"])
/// try refusals.append(.unsigned(1), labels: ["reason": "no_reservation"])
/// ```
public struct MetricFamily: Hashable, Sendable {
    /// The metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    public let name: String
    /// The help text (any text; escaped when rendered; no `# HELP` line when empty).
    public let help: String
    /// Counter or gauge.
    public let kind: MetricKind
    /// The samples, in the order they were appended.
    public private(set) var samples: [MetricSample] = []
    /// The label set of every sample, for the duplicate check.
    private var labelSets: Set<Set<MetricLabel>> = []

    /// An empty family.
    ///
    /// - Throws: `MetricsExpositionError.invalidMetricName` unless `name` is a valid
    ///   Prometheus metric name.
    public init(name: String, help: String, kind: MetricKind) throws(MetricsExpositionError) {
        guard PrometheusExposition.isValidMetricName(name) else { throw .invalidMetricName(name) }
        self.name = name
        self.help = help
        self.kind = kind
    }

    /// A family with one unlabelled sample.
    ///
    /// - Throws: `MetricsExpositionError.invalidMetricName` unless `name` is valid.
    public init(name: String, help: String, kind: MetricKind, value: MetricValue) throws(MetricsExpositionError) {
        try self.init(name: name, help: help, kind: kind)
        samples = [MetricSample(labels: [], value: value)]
        labelSets = [[]]
    }

    /// Appends a sample with `labels` (rendered in this order).
    ///
    /// - Throws: `MetricsExpositionError.invalidLabelName` for a label name that is not
    ///   valid, `.duplicateLabelName` when a name repeats, `.duplicateSample` when the family
    ///   already has a sample with the same label set. The family is then unchanged.
    public mutating func append(
        _ value: MetricValue, labels: KeyValuePairs<String, String> = [:]
    ) throws(MetricsExpositionError) {
        try append(value, labels: labels.map { MetricLabel(name: $0.key, value: $0.value) })
    }

    /// Appends a sample with `labels` (rendered in this order); see the other `append`.
    public mutating func append(_ value: MetricValue, labels: [MetricLabel]) throws(MetricsExpositionError) {
        var names: Set<String> = []
        for label in labels {
            guard PrometheusExposition.isValidLabelName(label.name) else { throw .invalidLabelName(label.name) }
            guard names.insert(label.name).inserted else { throw .duplicateLabelName(label.name) }
        }
        guard labelSets.insert(Set(labels)).inserted else {
            throw .duplicateSample(metric: name, labels: labels)
        }
        samples.append(MetricSample(labels: labels, value: value))
    }
}
