import FulcrumProxy
import Testing

@Suite("HTTPRequestHeadParser")
struct HTTPRequestHeadParserTests {
    @Test func simpleGet() throws {
        let p = ParsedRequestFixture(
            "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8 \t\r\n\r\n"
        )
        let head = try #require(p.head)
        #expect(head.method == .get)
        #expect(p.string(head.methodRange) == "GET")
        #expect(p.string(head.targetRange) == "/index.html?q=1")
        #expect(head.version == .http1_1)
        #expect(head.headerCount == 2)
        #expect(p.fields.count == 2)
        #expect(p.string(head.hostRange) == "example.com")
        #expect(p.header("user-agent") == "curl/8")
        #expect(head.headLength == p.bytes.count)
        #expect(head.contentLength == nil)
        #expect(!head.isChunked)
        #expect(head.keepAlive)
        #expect(!head.expectsContinue)
        #expect(head.bodyMode == .none)
        #expect(head.connectionTokens.isEmpty)
    }

    @Test func postWithContentLength() throws {
        let p = ParsedRequestFixture("POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello")
        let head = try #require(p.head)
        #expect(head.method == .post)
        #expect(head.contentLength == 5)
        #expect(head.bodyMode == .contentLength(5))
        #expect(head.headLength == p.bytes.count - 5)
        let body = Array(p.bytes[head.headLength...])
        #expect(frameBody(head.bodyMode, body) == .success(5))
    }

    @Test func chunkedPostWithExtensionsAndTrailers() throws {
        let head = "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
        let body = "5;name=value;q=\"a \\\" b\"\r\nhello\r\n6;x\r\n world\r\n0;last\r\nDigest: abc\r\nX-T: 1\r\n\r\n"
        let p = ParsedRequestFixture(head + body + "GET /next HTTP/1.1\r\n")
        let parsed = try #require(p.head)
        #expect(parsed.isChunked)
        #expect(parsed.contentLength == nil)
        #expect(parsed.bodyMode == .chunked)
        let rest = Array(p.bytes[parsed.headLength...])
        #expect(frameBody(.chunked, rest) == .success(body.utf8.count))
        var framer = HTTPBodyFramer(mode: .chunked)
        _ = rest.withUnsafeBytes { framer.consume($0) }
        #expect(framer.payloadBytes == 11)
    }

    @Test func keepAliveSemantics() throws {
        func keepAlive(_ version: String, _ extra: String) throws -> Bool {
            try #require(ParsedRequestFixture("GET / \(version)\r\nHost: a\r\n\(extra)\r\n").head).keepAlive
        }
        #expect(try keepAlive("HTTP/1.1", ""))
        #expect(try !keepAlive("HTTP/1.1", "Connection: close\r\n"))
        #expect(try !keepAlive("HTTP/1.1", "Connection: Upgrade, CLOSE\r\n"))
        #expect(try !keepAlive("HTTP/1.0", ""))
        #expect(try keepAlive("HTTP/1.0", "Connection: Keep-Alive\r\n"))
        #expect(try !keepAlive("HTTP/1.0", "Connection: keep-alive\r\nConnection: close\r\n"))

        let p = ParsedRequestFixture("GET / HTTP/1.0\r\nConnection: keep-alive, , X-Private\r\n\r\n")
        let head = try #require(p.head)
        #expect(head.version == .http1_0)
        #expect(head.hostRange == nil)
        #expect(head.connectionTokens.map { p.string($0)! } == ["keep-alive", "X-Private"])
        #expect(head.connectionTokens.containsKeepAlive)
        #expect(!head.connectionTokens.containsClose)
    }

    @Test func expectContinue() throws {
        let p = ParsedRequestFixture("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
        #expect(try #require(p.head).expectsContinue)
        // RFC 9110 §10.1.1: ignore 100-continue from HTTP/1.0 clients.
        let old = ParsedRequestFixture("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        #expect(try !#require(old.head).expectsContinue)
    }

    @Test func pipelinedHeads() throws {
        let first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        let second = "HEAD /b HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
        let bytes = Array((first + second).utf8)
        var parser = HTTPRequestHeadParser()
        var fields: [HTTPHeaderField] = []
        let one = bytes.withUnsafeBytes { parser.parse($0, fields: &fields) }
        guard case .complete(let h1) = one else {
            Issue.record("expected complete, got \(one)")
            return
        }
        #expect(h1.headLength == first.utf8.count)
        let rest = Array(bytes[h1.headLength...])
        let two = rest.withUnsafeBytes { parser.parse($0, fields: &fields) }
        guard case .complete(let h2) = two else {
            Issue.record("expected complete, got \(two)")
            return
        }
        #expect(h2.method == .head)
        #expect(h2.headLength == second.utf8.count)
        #expect(!h2.keepAlive)
        #expect(fields.count == 2)
    }

    @Test func leadingEmptyLinesAreSkipped() throws {
        let p = ParsedRequestFixture("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = try #require(p.head)
        #expect(head.methodRange == 4..<7)
        #expect(head.headLength == p.bytes.count)
        // A bare LF is not an empty line.
        #expect(ParsedRequestFixture("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").error?.status == 400)
    }

    @Test func requestTargetForms() throws {
        let accepted = [
            "OPTIONS * HTTP/1.1", "CONNECT example.com:443 HTTP/1.1", "CONNECT [::1]:8443 HTTP/1.1",
            "GET http://example.com:8080/a/b?c=d HTTP/1.1", "GET /%41%2f;p=1:@!$&'()*+,= HTTP/1.1",
            "GET /?a=b/?c HTTP/1.1",
            "PURGE /cache HTTP/1.1",
        ]
        for line in accepted {
            let p = ParsedRequestFixture(line + "\r\nHost: a\r\n\r\n")
            #expect(p.head != nil, "\(line): \(p.result)")
        }
    }

    @Test func everyBytePositionSplit() throws {
        let text =
            "\r\nPOST /a/b?c=%20 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 12\r\n"
            + "Connection: keep-alive, X-Hop\r\nExpect: 100-continue\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n"
        let bytes = Array(text.utf8)
        var oneShotFields: [HTTPHeaderField] = []
        let expected = bytes.withUnsafeBytes { HTTPRequestHeadParser.parse($0, fields: &oneShotFields) }
        guard case .complete = expected else {
            Issue.record("expected complete, got \(expected)")
            return
        }
        // Growing prefixes through one parser instance, one byte at a time.
        var parser = HTTPRequestHeadParser()
        var fields: [HTTPHeaderField] = []
        for n in 0...bytes.count {
            let result = bytes[0..<n].withUnsafeBytes { parser.parse($0, fields: &fields) }
            if n < bytes.count {
                #expect(result == .incomplete, "prefix \(n)")
            } else {
                #expect(result == expected)
                #expect(fields == oneShotFields)
            }
        }
        // Two pieces, with a fresh parser per split point.
        for split in 0...bytes.count {
            var parser = HTTPRequestHeadParser()
            var fields: [HTTPHeaderField] = []
            let first = bytes[0..<split].withUnsafeBytes { parser.parse($0, fields: &fields) }
            if split < bytes.count { #expect(first == .incomplete) }
            let second = bytes.withUnsafeBytes { parser.parse($0, fields: &fields) }
            if split < bytes.count {
                #expect(second == expected, "split \(split)")
                #expect(fields == oneShotFields)
            }
        }
    }

    @Test func storageIsReusedAcrossMessages() throws {
        var parser = HTTPRequestHeadParser()
        var fields: [HTTPHeaderField] = []
        fields.reserveCapacity(16)
        let capacity = fields.capacity
        for i in 0..<50 {
            let bytes = Array("GET /\(i) HTTP/1.1\r\nHost: a\r\nX: \(i)\r\n\r\n".utf8)
            let result = bytes.withUnsafeBytes { parser.parse($0, fields: &fields) }
            guard case .complete(let head) = result else {
                Issue.record("unexpected \(result)")
                return
            }
            #expect(head.headerCount == 2)
            #expect(fields.count == 2)
        }
        #expect(fields.capacity == capacity)
    }

    // MARK: limits

    @Test func limits() {
        let longTarget = "/" + String(repeating: "a", count: 8 * 1024)
        #expect(ParsedRequestFixture("GET \(longTarget) HTTP/1.1\r\nHost: a\r\n\r\n").error?.status == 414)
        // Incomplete request-line already over the target limit.
        let partial = ParsedRequestFixture("GET \(longTarget)")
        #expect(partial.error == HTTPParseError(status: 414, reason: "request-target too long"))
        let okTarget = "/" + String(repeating: "a", count: 8 * 1024 - 1)
        #expect(ParsedRequestFixture("GET \(okTarget) HTTP/1.1\r\nHost: a\r\n\r\n").head != nil)

        let manyFields = (0..<100).map { "X-\($0): v\r\n" }.joined()
        #expect(ParsedRequestFixture("GET / HTTP/1.1\r\nHost: a\r\n\(manyFields)\r\n").error?.status == 431)
        #expect(ParsedRequestFixture("GET / HTTP/1.1\r\nHost: a\r\n\(manyFields)").error?.status == 431)
        let ninetyNine = (0..<99).map { "X-\($0): v\r\n" }.joined()
        #expect(ParsedRequestFixture("GET / HTTP/1.1\r\nHost: a\r\n\(ninetyNine)\r\n").head?.headerCount == 100)

        let big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 64 * 1024)
        #expect(ParsedRequestFixture(big).error == HTTPParseError(status: 431, reason: "head too large"))
        // A complete head of exactly the limit is fine, one byte more is not.
        let small = HTTPParserLimits(maxHeadSize: 32)
        let exact = "GET / HTTP/1.1\r\nHost: abcdef\r\n\r\n"
        #expect(exact.utf8.count == 32)
        #expect(ParsedRequestFixture(exact, limits: small).head != nil)
        #expect(ParsedRequestFixture("GET / HTTP/1.1\r\nHost: abcdefg\r\n\r\n", limits: small).error?.status == 431)
        #expect(ParsedRequestFixture("GET / HTTP/1.1\r\nHost: abcdef\r\n", limits: small).isIncomplete)
    }

    // MARK: rejections

    static let rejections: [RejectionCase] = [
        // Line endings.
        .init("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, "obs-fold in header"),
        .init("obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400, "obs-fold in header"),
        .init("whitespace after request-line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "obs-fold in header"),
        .init("bare CR in field", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400, "bare CR"),
        .init("bare CR in request-line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare CR"),
        .init("bare LF request-line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF"),
        .init("bare LF field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400, "bare LF"),
        .init("bare LF end of head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "bare LF"),
        // Field names and values.
        .init("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "whitespace before colon"),
        .init("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, "whitespace before colon"),
        .init("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400, "empty field name"),
        .init("non-token name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n", 400, "invalid field name"),
        .init("non-ASCII name", "GET / HTTP/1.1\r\nHost: a\r\nXé: b\r\n\r\n", 400, "invalid field name"),
        .init("no colon", "GET / HTTP/1.1\r\nHost: a\r\nX-No-Colon\r\n\r\n", 400, "missing colon in header"),
        .init(
            "NUL in value",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n",
            400,
            "invalid character in field value"
        ),
        .init(
            "CTL in value",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{1}b\r\n\r\n",
            400,
            "invalid character in field value"
        ),
        .init(
            "DEL in value",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}b\r\n\r\n",
            400,
            "invalid character in field value"
        ),
        // Request-line.
        .init("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request-line"),
        .init("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method"),
        .init("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "malformed HTTP version"),
        .init("missing version", "GET /\r\nHost: a\r\n\r\n", 400, "malformed request-line"),
        .init("HTTP/0.9 style", "GET /\r\n\r\n", 400, "malformed request-line"),
        .init("lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, "malformed HTTP version"),
        .init("version 1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400, "malformed HTTP version"),
        .init("non-token method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method"),
        .init("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method"),
        .init("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "unsupported HTTP version"),
        .init("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "unsupported HTTP version"),
        .init("HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, "unsupported HTTP version"),
        // Request-target.
        .init("relative target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid absolute-form"),
        .init("digit target", "GET 1/a HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request-target"),
        .init("fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "fragment in request-target"),
        .init("backslash", "GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid character in request-target"),
        .init("non-ASCII target", "GET /é HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid character in request-target"),
        .init("bad percent", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid percent-encoding in request-target"),
        .init(
            "truncated percent",
            "GET /%4 HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
            "invalid percent-encoding in request-target"
        ),
        .init("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "asterisk-form is only for OPTIONS"),
        .init("CONNECT origin-form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "CONNECT requires authority-form"),
        .init("CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid authority-form"),
        .init("absolute without //", "GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid absolute-form"),
        .init(
            "absolute empty host",
            "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
            "invalid authority in absolute-form"
        ),
        .init(
            "absolute userinfo",
            "GET http://u@h/x HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
            "invalid authority in absolute-form"
        ),
        // Content-Length.
        .init(
            "CL and TE",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "Content-Length with Transfer-Encoding"
        ),
        .init(
            "TE and CL",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            400,
            "Content-Length with Transfer-Encoding"
        ),
        .init(
            "differing CL",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            400,
            "multiple Content-Length"
        ),
        .init(
            "identical CL lines",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            400,
            "multiple Content-Length"
        ),
        .init(
            "differing CL list",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
            400,
            "multiple Content-Length"
        ),
        .init(
            "identical CL list",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
            400,
            "multiple Content-Length"
        ),
        .init(
            "non-digit CL",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
            400,
            "invalid Content-Length"
        ),
        .init("signed CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400, "invalid Content-Length"),
        .init("negative CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "invalid Content-Length"),
        .init("hex CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400, "invalid Content-Length"),
        .init(
            "inner space CL",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n",
            400,
            "invalid Content-Length"
        ),
        .init("empty CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400, "empty Content-Length"),
        .init(
            "overflowing CL",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
            400,
            "Content-Length overflow"
        ),
        // Transfer-Encoding.
        .init(
            "TE not chunked",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            400,
            "final transfer-coding is not chunked"
        ),
        .init(
            "TE chunked not last",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            400,
            "final transfer-coding is not chunked"
        ),
        .init(
            "TE chunked not last (lines)",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
            400,
            "final transfer-coding is not chunked"
        ),
        .init(
            "TE unknown",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n",
            501,
            "unknown transfer-coding"
        ),
        .init(
            "TE unknown before chunked",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n",
            501,
            "unknown transfer-coding"
        ),
        .init(
            "TE identity",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
            501,
            "unknown transfer-coding"
        ),
        .init(
            "TE chunked twice",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            400,
            "chunked applied more than once"
        ),
        .init(
            "TE empty element",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n",
            400,
            "empty transfer-coding"
        ),
        .init("TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400, "empty transfer-coding"),
        .init(
            "TE parameters",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
            400,
            "transfer-coding parameters"
        ),
        .init(
            "TE in HTTP/1.0",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "Transfer-Encoding in HTTP/1.0"
        ),
        // Host.
        .init("missing Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400, "missing Host"),
        .init("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "multiple Host"),
        .init(
            "two Authorizations",
            "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\nauthorization: Bearer y\r\n\r\n",
            400,
            "multiple Authorization"
        ),
        .init("invalid Host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "invalid Host"),
        .init("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host"),
        // Connection.
        .init(
            "too many Connection options",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: a,b,c,d,e,f,g,h,i\r\n\r\n",
            400,
            "too many Connection options"
        ),
        .init(
            "non-token Connection option",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: a b\r\n\r\n",
            400,
            "invalid Connection option"
        ),
    ]

    @Test(arguments: Self.rejections)
    func rejects(_ c: RejectionCase) {
        let p = ParsedRequestFixture(c.text)
        #expect(p.error == HTTPParseError(status: c.status, reason: c.reason), "\(c.name): \(p.result)")
    }
}
