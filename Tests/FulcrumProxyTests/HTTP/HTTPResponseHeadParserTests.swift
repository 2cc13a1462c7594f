import FulcrumProxy
import Testing

@Suite("HTTPResponseHeadParser")
struct HTTPResponseHeadParserTests {
    @Test func okWithContentLength() throws {
        let p = ParsedResponseFixture("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nServer: x\r\n\r\nabc")
        let head = try #require(p.head)
        #expect(head.statusCode == 200)
        #expect(head.version == .http1_1)
        #expect(String(decoding: p.bytes[head.reasonRange], as: UTF8.self) == "OK")
        #expect(head.headerCount == 2)
        #expect(head.headLength == p.bytes.count - 3)
        #expect(head.bodyMode(requestMethod: .get) == .contentLength(3))
        #expect(head.keepAlive(requestMethod: .get))
        #expect(!head.isInformational)
        #expect(frameBody(.contentLength(3), Array(p.bytes[head.headLength...])) == .success(3))
    }

    @Test func chunked() throws {
        let p = ParsedResponseFixture("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        let head = try #require(p.head)
        #expect(head.isChunked)
        #expect(head.bodyMode(requestMethod: .get) == .chunked)
        #expect(head.keepAlive(requestMethod: .get))
    }

    @Test func noBodyCases() throws {
        let withLength = try #require(ParsedResponseFixture("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").head)
        #expect(withLength.bodyMode(requestMethod: .head) == .none)
        let chunkedHead = try #require(
            ParsedResponseFixture("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").head
        )
        #expect(chunkedHead.bodyMode(requestMethod: .head) == .none)
        for status in [204, 304] {
            let head = try #require(ParsedResponseFixture("HTTP/1.1 \(status) X\r\nContent-Length: 10\r\n\r\n").head)
            #expect(head.bodyMode(requestMethod: .get) == .none)
            #expect(head.keepAlive(requestMethod: .get))
        }
        let tunnel = try #require(ParsedResponseFixture("HTTP/1.1 200 Connection established\r\n\r\n").head)
        #expect(tunnel.bodyMode(requestMethod: .connect) == .none)
        let zero = try #require(ParsedResponseFixture("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").head)
        #expect(zero.bodyMode(requestMethod: .get) == .none)
    }

    @Test func interimContinueThenFinal() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        let bytes = Array(text.utf8)
        var parser = HTTPResponseHeadParser()
        var fields: [HTTPHeaderField] = []
        guard case .complete(let interim) = bytes.withUnsafeBytes({ parser.parse($0, fields: &fields) }) else {
            Issue.record("expected the interim head")
            return
        }
        #expect(interim.statusCode == 100)
        #expect(interim.isInformational)
        #expect(interim.bodyMode(requestMethod: .post) == .none)
        #expect(interim.headLength == 25)
        let rest = Array(bytes[interim.headLength...])
        guard case .complete(let final) = rest.withUnsafeBytes({ parser.parse($0, fields: &fields) }) else {
            Issue.record("expected the final head")
            return
        }
        #expect(final.statusCode == 201)
        #expect(!final.isInformational)
        #expect(final.bodyMode(requestMethod: .post) == .contentLength(2))
    }

    @Test func readUntilClose() throws {
        let head = try #require(ParsedResponseFixture("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n").head)
        #expect(head.bodyMode(requestMethod: .get) == .untilClose)
        #expect(head.connectionKeepAlive)
        #expect(!head.keepAlive(requestMethod: .get))
        let gzip = try #require(ParsedResponseFixture("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").head)
        #expect(gzip.bodyMode(requestMethod: .get) == .untilClose)

        var framer = HTTPBodyFramer(mode: .untilClose)
        let data: [UInt8] = Array("anything at all".utf8)
        #expect(data.withUnsafeBytes { framer.consume($0) } == .needMore(consumed: data.count))
        #expect(framer.connectionClosed() == .messageComplete(consumed: 0))
        #expect(framer.payloadBytes == data.count)
    }

    @Test func http10KeepAlive() throws {
        let plain = try #require(ParsedResponseFixture("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").head)
        #expect(!plain.keepAlive(requestMethod: .get))
        let ka = try #require(
            ParsedResponseFixture("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n").head
        )
        #expect(ka.keepAlive(requestMethod: .get))
    }

    @Test func lenientStatusLineReason() throws {
        let noReason = try #require(ParsedResponseFixture("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n").head)
        #expect(noReason.statusCode == 404)
        #expect(noReason.reasonRange.isEmpty)
        let emptyReason = try #require(ParsedResponseFixture("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n").head)
        #expect(emptyReason.reasonRange.isEmpty)
        #expect(ParsedResponseFixture("HTTP/1.1 200 Very\tGood  \r\n\r\n").head != nil)
    }

    @Test func identicalContentLengthsAccepted() throws {
        let head = try #require(
            ParsedResponseFixture("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 4, 4\r\n\r\n").head
        )
        #expect(head.contentLength == 4)
    }

    static let rejections: [RejectionCase] = [
        .init("lower-case version", "http/1.1 200 OK\r\n\r\n", 502, "malformed status-line"),
        .init("HTTP/2", "HTTP/2.0 200 OK\r\n\r\n", 502, "malformed status-line"),
        .init("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 502, "malformed status-line"),
        .init("status 099", "HTTP/1.1 099 OK\r\n\r\n", 502, "malformed status-line"),
        .init("status 600", "HTTP/1.1 600 OK\r\n\r\n", 502, "malformed status-line"),
        .init("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", 502, "malformed status-line"),
        .init("CTL in reason", "HTTP/1.1 200 O\u{1}K\r\n\r\n", 502, "malformed status-line"),
        .init("leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n", 502, "empty line before start line"),
        .init("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 502, "obs-fold in header"),
        .init("bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", 502, "bare LF"),
        .init("space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", 502, "whitespace before colon"),
        .init(
            "CL and TE",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            502,
            "Content-Length with Transfer-Encoding"
        ),
        .init(
            "differing CL",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            502,
            "multiple Content-Length"
        ),
        .init("bad CL", "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", 502, "invalid Content-Length"),
        .init(
            "TE in HTTP/1.0",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            502,
            "Transfer-Encoding in HTTP/1.0"
        ),
    ]

    @Test(arguments: Self.rejections)
    func rejects(_ c: RejectionCase) {
        let p = ParsedResponseFixture(c.text)
        #expect(p.error == HTTPParseError(status: c.status, reason: c.reason), "\(c.name): \(p.result)")
    }
}
