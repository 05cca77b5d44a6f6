/// Metric families rendered in the Prometheus text exposition format, version 0.0.4.
///
/// ```swift
/// var exposition = PrometheusExposition()
/// try exposition.append(MetricFamily(
///     name: "traverse_relay_reservations_active", help: "Reservations held.", kind: .gauge,
///     value: .unsigned(12)))
/// let body = exposition.text   // served with `PrometheusExposition.contentType`
/// ```
///
/// Each family renders as `# HELP` (left out when the help text is empty), `# TYPE`, then
/// one line per sample: `name{label="value",…} value`. Label values escape backslash,
/// double quote and line feed (`\\`, `\"`, `\n`); help text escapes backslash and line feed.
/// Names are checked when families and samples are made (`MetricsExpositionError`), so a
/// rendered exposition is always well formed.
public struct PrometheusExposition: Hashable, Sendable {
    /// The `Content-Type` of the text format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The families, in the order they were appended (and are rendered).
    public private(set) var families: [MetricFamily] = []
    private var names: Set<String> = []

    /// An exposition without families.
    public init() {}

    /// Appends `family`.
    ///
    /// - Throws: `MetricsExpositionError.duplicateFamily` when a family of that name is
    ///   already there (the format allows one `# TYPE` per name).
    public mutating func append(_ family: MetricFamily) throws(MetricsExpositionError) {
        guard names.insert(family.name).inserted else { throw .duplicateFamily(family.name) }
        families.append(family)
    }

    /// The exposition text: every family, each line ending with a line feed.
    public var text: String {
        var text = ""
        for family in families { Self.render(family, into: &text) }
        return text
    }

    static func render(_ family: MetricFamily, into text: inout String) {
        if !family.help.isEmpty {
            text += "# HELP \(family.name) "
            escape(family.help, into: &text, quotes: false)
            text += "\n"
        }
        text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
        for sample in family.samples {
            text += family.name
            if !sample.labels.isEmpty {
                text += "{"
                for (index, label) in sample.labels.enumerated() {
                    if index > 0 { text += "," }
                    text += label.name
                    text += "=\""
                    escape(label.value, into: &text, quotes: true)
                    text += "\""
                }
                text += "}"
            }
            text += " \(sample.value)\n"
        }
    }

    /// Appends `value` with backslash and line feed escaped, and double quotes too when
    /// `quotes` is set (label values).
    static func escape(_ value: String, into text: inout String, quotes: Bool) {
        for character in value.unicodeScalars {
            switch character {
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\"" where quotes: text += "\\\""
            default: text.unicodeScalars.append(character)
            }
        }
    }

    /// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public static func isValidMetricName(_ name: String) -> Bool {
        isValidName(name, allowingColon: true)
    }

    /// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with
    /// `__` (reserved for Prometheus's own labels).
    public static func isValidLabelName(_ name: String) -> Bool {
        isValidName(name, allowingColon: false) && !name.utf8.starts(with: "__".utf8)
    }

    private static func isValidName(_ name: String, allowingColon: Bool) -> Bool {
        guard !name.isEmpty else { return false }
        for (index, byte) in name.utf8.enumerated() {
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            let isAllowed = isLetter || byte == UInt8(ascii: "_") || (allowingColon && byte == UInt8(ascii: ":"))
                || (index > 0 && isDigit)
            guard isAllowed else { return false }
        }
        return true
    }
}
