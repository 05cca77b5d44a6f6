import Testing
import TraverseCore

@Suite struct PrometheusExpositionTests {
    @Test func rendersHelpTypeAndSamplesOfEachFamilyInOrder() throws {
        var exposition = PrometheusExposition()
        try exposition.append(MetricFamily(
            name: "traverse_relay_reservations_active", help: "Reservations held.", kind: .gauge, value: .unsigned(3)))
        var refusals = try MetricFamily(name: "traverse_relay_refusals_total", help: "Refusals.", kind: .counter)
        try refusals.append(.unsigned(7), labels: ["reason": "reservation_limit"])
        try refusals.append(.unsigned(0), labels: ["reason": "no_reservation", "direction": "in"])
        try exposition.append(refusals)
        let expected = """
            # HELP traverse_relay_reservations_active Reservations held.
            # TYPE traverse_relay_reservations_active gauge
            traverse_relay_reservations_active 3
            # HELP traverse_relay_refusals_total Refusals.
            # TYPE traverse_relay_refusals_total counter
            traverse_relay_refusals_total{reason="reservation_limit"} 7
            traverse_relay_refusals_total{reason="no_reservation",direction="in"} 0

            """
        #expect(exposition.text == expected)
        #expect(exposition.families.map(\.name) == ["traverse_relay_reservations_active", "traverse_relay_refusals_total"])
        #expect(PrometheusExposition.contentType == "text/plain; version=0.0.4; charset=utf-8")
    }

    @Test func anEmptyExpositionIsEmptyAndAFamilyWithoutSamplesHasOnlyItsComments() throws {
        #expect(PrometheusExposition().text == "")
        var exposition = PrometheusExposition()
        try exposition.append(MetricFamily(name: "idle", help: "", kind: .counter))
        #expect(exposition.text == "# TYPE idle counter\n", "no HELP line for empty help")
    }

    @Test func labelValuesEscapeBackslashQuoteAndNewline() throws {
        var family = try MetricFamily(name: "m", help: "h", kind: .gauge)
        try family.append(.integer(1), labels: ["path": #"C:\dir "quoted"\#nnext"#])
        var exposition = PrometheusExposition()
        try exposition.append(family)
        let sampleLine = exposition.text.split(separator: "\n").last.map(String.init)
        #expect(sampleLine == #"m{path="C:\\dir \"quoted\"\nnext"} 1"#)
    }

    @Test func helpTextEscapesBackslashAndNewlineButNotQuotes() throws {
        var exposition = PrometheusExposition()
        try exposition.append(MetricFamily(name: "m", help: "a \\ b \"c\"\nd", kind: .gauge))
        #expect(exposition.text.hasPrefix(#"# HELP m a \\ b "c"\nd"# + "\n# TYPE m gauge\n"))
    }

    @Test func labelValuesKeepOtherTextAsIs() throws {
        var family = try MetricFamily(name: "m", help: "", kind: .gauge)
        try family.append(.unsigned(1), labels: ["peer": "12D3Koo {}=,\t✓"])
        var exposition = PrometheusExposition()
        try exposition.append(family)
        #expect(exposition.text.hasSuffix("m{peer=\"12D3Koo {}=,\t✓\"} 1\n"))
    }

    @Test(arguments: [
        (MetricValue.unsigned(.max), "18446744073709551615"),
        (.unsigned(0), "0"),
        (.integer(-42), "-42"),
        (.integer(.min), "-9223372036854775808"),
        (.double(0.5), "0.5"),
        (.double(-2.25), "-2.25"),
        (.double(.infinity), "+Inf"),
        (.double(-.infinity), "-Inf"),
        (.double(.nan), "NaN"),
        (.double(1e300), "1e+300"),
    ])
    func valuesRenderAsPrometheusReadsThem(_ value: MetricValue, _ text: String) throws {
        #expect(value.description == text)
        var exposition = PrometheusExposition()
        try exposition.append(MetricFamily(name: "v", help: "", kind: .gauge, value: value))
        #expect(exposition.text == "# TYPE v gauge\nv \(text)\n")
    }

    @Test func finiteDoublesRenderAsNumbersThatReadBackExactly() {
        for value in [0.1, 1.0 / 3, 123_456.789, Double.leastNonzeroMagnitude, -0.0, Double.greatestFiniteMagnitude] {
            #expect(Double(MetricValue.double(value).description) == value)
        }
    }

    @Test(arguments: ["a", "_", ":", "traverse_relay_bytes_total", "job:rate5m", "A_b:C9", "_1"])
    func validMetricNamesAreAccepted(_ name: String) throws {
        #expect(PrometheusExposition.isValidMetricName(name))
        _ = try MetricFamily(name: name, help: "", kind: .counter)
    }

    @Test(arguments: ["", "1abc", "9", "a-b", "a b", "a.b", "é", "a\n", "metric{}", "a\"b"])
    func invalidMetricNamesAreATypedError(_ name: String) {
        #expect(!PrometheusExposition.isValidMetricName(name))
        #expect(throws: MetricsExpositionError.invalidMetricName(name)) {
            try MetricFamily(name: name, help: "", kind: .gauge)
        }
        #expect(throws: MetricsExpositionError.invalidMetricName(name)) {
            try MetricFamily(name: name, help: "", kind: .gauge, value: .unsigned(1))
        }
    }

    @Test(arguments: ["a", "_a", "reason", "A9_z", "_"])
    func validLabelNamesAreAccepted(_ name: String) throws {
        #expect(PrometheusExposition.isValidLabelName(name))
        var family = try MetricFamily(name: "m", help: "", kind: .gauge)
        try family.append(.unsigned(1), labels: [MetricLabel(name: name, value: "v")])
        #expect(family.samples.count == 1)
    }

    @Test(arguments: ["", "1a", "a:b", ":", "a-b", "__name__", "__x", "ü", "a b"])
    func invalidLabelNamesAreATypedErrorAndLeaveTheFamilyUnchanged(_ name: String) throws {
        #expect(!PrometheusExposition.isValidLabelName(name))
        var family = try MetricFamily(name: "m", help: "", kind: .gauge)
        #expect(throws: MetricsExpositionError.invalidLabelName(name)) {
            try family.append(.unsigned(1), labels: [MetricLabel(name: "ok", value: "v"), MetricLabel(name: name, value: "v")])
        }
        #expect(family.samples.isEmpty)
    }

    @Test func aRepeatedLabelNameIsRefused() throws {
        var family = try MetricFamily(name: "m", help: "", kind: .gauge)
        #expect(throws: MetricsExpositionError.duplicateLabelName("a")) {
            try family.append(.unsigned(1), labels: ["a": "1", "a": "2"])
        }
        #expect(family.samples.isEmpty)
    }

    @Test func aRepeatedLabelSetIsRefusedInAnyOrder() throws {
        var family = try MetricFamily(name: "m", help: "", kind: .counter)
        try family.append(.unsigned(1), labels: ["a": "1", "b": "2"])
        try family.append(.unsigned(2), labels: ["a": "1", "b": "3"])
        try family.append(.unsigned(3))
        #expect(throws: MetricsExpositionError.self) { try family.append(.unsigned(4), labels: ["b": "2", "a": "1"]) }
        #expect(throws: MetricsExpositionError.self) { try family.append(.unsigned(5)) }
        #expect(family.samples.map(\.value) == [.unsigned(1), .unsigned(2), .unsigned(3)])
    }

    @Test func aRepeatedFamilyNameIsRefused() throws {
        var exposition = PrometheusExposition()
        try exposition.append(MetricFamily(name: "m", help: "first", kind: .gauge, value: .unsigned(1)))
        #expect(throws: MetricsExpositionError.duplicateFamily("m")) {
            try exposition.append(MetricFamily(name: "m", help: "second", kind: .counter, value: .unsigned(2)))
        }
        #expect(exposition.families.count == 1)
        #expect(exposition.text.contains("first") && !exposition.text.contains("second"))
    }

    @Test func errorsDescribeTheName() {
        #expect(MetricsExpositionError.invalidMetricName("1x").description.contains("\"1x\""))
        #expect(MetricsExpositionError.invalidLabelName("__x").description.contains("\"__x\""))
    }
}
