import Testing
import TraverseCore

@Suite struct HTTPRequestHeadTests {
    func parse(_ text: String) throws(HTTPRequestHeadError) -> HTTPRequestHead {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(HTTPRequestHeadError) in
            try HTTPRequestHead(parsing: buffer.span)
        }
    }

    @Test func partsOfARequestHead() throws {
        let head = try parse("\r\nGET /metrics?a=1 HTTP/1.1\r\nHost:  h:1 \r\nX-A: b c\r\n\r\n")
        #expect(head.method == "GET")
        #expect(head.target == "/metrics?a=1")
        #expect(head.path == "/metrics")
        #expect(head.version == HTTPVersion(major: 1, minor: 1))
        #expect(head.headerFields.map(\.name) == ["Host", "X-A"])
        #expect(head.value(ofField: "host") == "h:1")
        #expect(head.value(ofField: "x-a") == "b c")
        #expect(head.value(ofField: "missing") == nil)
    }

    @Test(arguments: [
        ("/a/b?c#d", "/a/b"), ("/", "/"), ("http://h", "/"), ("http://h?q", "/"), ("http://h:1/p?q", "/p"),
        ("HTTPS://h/p#f", "/p"), ("*", nil), ("h:443", nil), ("ftp://h/p", nil),
    ] as [(String, String?)])
    func pathsOfTargets(_ target: String, _ path: String?) throws {
        #expect(try parse("OPTIONS \(target) HTTP/1.0\r\n\r\n").path == path)
    }

    @Test(arguments: [
        ("", HTTPRequestHeadError.incomplete),
        ("\r\n\r\n", .incomplete),
        ("GET / HTTP/1.0\r\n", .incomplete),
        ("GET / HTTP/1.0\r\n\r\nX", .bytesAfterHead),
        ("GET / HTTP/1.0 \r\n\r\n", .malformedRequestLine),
        ("GET / HTTP/2.0\r\n\r\n", .unsupportedVersion),
        ("GET / HTTP/1.1\r\n\r\n", .missingHost),
        ("GET / HTTP/1.0\r\nHost: a\r\nHOST: a\r\n\r\n", .duplicateHost),
        ("GET / HTTP/1.0\r\nA\u{8}: b\r\n\r\n", .malformedHeaderField),
    ])
    func errorsOfRequestHeads(_ text: String, _ error: HTTPRequestHeadError) {
        #expect(throws: error) { try parse(text) }
    }
}
