import FulcrumProxy
import Testing

@Suite("HTTPBodyFramer")
struct HTTPBodyFramerTests {
    @Test func contentLengthAcrossManyPieces() {
        let body = [UInt8](repeating: 0x61, count: 1000) + Array("GET /next".utf8)
        for piece in [1, 2, 3, 7, 64, 999, 1000, 5000] {
            #expect(frameBody(.contentLength(1000), body, piece: piece) == .success(1000), "piece \(piece)")
        }
        // Short input stays incomplete; connection close then is a truncation.
        var framer = HTTPBodyFramer(mode: .contentLength(10))
        let five = [UInt8](repeating: 0, count: 5)
        #expect(five.withUnsafeBytes { framer.consume($0) } == .needMore(consumed: 5))
        #expect(
            framer.connectionClosed()
                == .failure(HTTPParseError(status: 400, reason: "connection closed before end of body"))
        )
    }

    @Test func noBody() {
        var framer = HTTPBodyFramer(mode: .none)
        let next = Array("GET / HTTP/1.1\r\n".utf8)
        #expect(next.withUnsafeBytes { framer.consume($0) } == .messageComplete(consumed: 0))
        var zero = HTTPBodyFramer(mode: .contentLength(0))
        #expect(zero.isComplete)
        #expect(next.withUnsafeBytes { zero.consume($0) } == .messageComplete(consumed: 0))
    }

    static let chunkedBody =
        "1a;ext=1;quoted=\"x;y\\\"z\";flag\r\nabcdefghijklmnopqrstuvwxyz\r\n"
        + "00003\r\n\r\n\r\r\n" + "0;end\r\nTrailer-One: 1\r\nTrailer-Two:\t two \r\n\r\n"

    @Test func chunkedSplitAtEveryBytePosition() {
        let body = Array(Self.chunkedBody.utf8)
        let input = body + Array("GET /next HTTP/1.1\r\n\r\n".utf8)
        #expect(frameBody(.chunked, input) == .success(body.count))
        for split in 0...input.count {
            var framer = HTTPBodyFramer(mode: .chunked)
            var total = 0
            var done = false
            for range in [0..<split, split..<input.count] where !done {
                switch input[range].withUnsafeBytes({ framer.consume($0) }) {
                case .needMore(let consumed):
                    #expect(consumed == range.count)
                    total += consumed
                case .messageComplete(let consumed):
                    total += consumed
                    done = true
                case .failure(let error):
                    Issue.record("split \(split): \(error)")
                    done = true
                }
            }
            #expect(done && total == body.count, "split \(split)")
            #expect(framer.payloadBytes == 29)
        }
        // One byte at a time.
        #expect(frameBody(.chunked, input, piece: 1) == .success(body.count))
    }

    static let badChunks: [RejectionCase] = [
        .init("non-hex size", "g\r\n", 400, "invalid chunk size"),
        .init("empty size", "\r\n", 400, "invalid chunk size"),
        .init("negative size", "-1\r\n", 400, "invalid chunk size"),
        .init("0x prefix", "0x5\r\n", 400, "invalid chunk size"),
        .init("trailing space", "5 \r\nhello\r\n0\r\n\r\n", 400, "whitespace in chunk-size line"),
        .init("BWS before semicolon", "5 ;a\r\nhello\r\n0\r\n\r\n", 400, "whitespace in chunk-size line"),
        .init("BWS after semicolon", "5; a\r\nhello\r\n0\r\n\r\n", 400, "whitespace in chunk-size line"),
        .init("BWS around equals", "5;a = b\r\nhello\r\n0\r\n\r\n", 400, "whitespace in chunk-size line"),
        .init("overflow", "ffffffffffffffffff\r\n", 400, "chunk size overflow"),
        .init("8000000000000000", "8000000000000000\r\n", 400, "chunk size overflow"),
        .init("bare LF after size", "5\nhello\r\n0\r\n\r\n", 400, "invalid chunk size"),
        .init("bare CR after size", "5\rhello\r\n0\r\n\r\n", 400, "bare CR in chunk-size line"),
        .init("data too long", "5\r\nhelloX\r\n0\r\n\r\n", 400, "missing CRLF after chunk data"),
        .init("bare LF after data", "5\r\nhello\n0\r\n\r\n", 400, "missing CRLF after chunk data"),
        .init("empty extension", "5;\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk extension"),
        .init("empty extension value", "5;a=\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk extension"),
        .init("non-token extension", "5;a(b\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk extension"),
        .init("space in extension", "5;a b\r\nhello\r\n0\r\n\r\n", 400, "whitespace in chunk-size line"),
        .init("CTL in quoted extension", "5;a=\"\u{1}\"\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk extension"),
        .init("unterminated quoted extension", "5;a=\"x\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk extension"),
        .init("trailer obs-fold", "0\r\nA: b\r\n c\r\n\r\n", 400, "obs-fold in trailer"),
        .init("trailer space before colon", "0\r\nA : b\r\n\r\n", 400, "whitespace before colon"),
        .init("trailer no colon", "0\r\nAb\r\n\r\n", 400, "invalid trailer field name"),
        .init("trailer CTL", "0\r\nA: \u{0}\r\n\r\n", 400, "invalid character in field value"),
        .init("trailer bare LF", "0\r\nA: b\n\r\n", 400, "invalid character in field value"),
        .init("final bare LF", "0\r\n\n", 400, "bare LF"),
        .init("final bare CR", "0\r\n\rX", 400, "bare CR"),
    ]

    @Test(arguments: Self.badChunks)
    func rejectsBadChunkedFraming(_ c: RejectionCase) {
        let bytes = Array(c.text.utf8)
        #expect(frameBody(.chunked, bytes) == .failure(HTTPParseError(status: c.status, reason: c.reason)), "\(c.name)")
        // Splitting the input must not change the verdict.
        #expect(
            frameBody(.chunked, bytes, piece: 1) == .failure(HTTPParseError(status: c.status, reason: c.reason)),
            "\(c.name)"
        )
    }

    @Test func largestChunkSizeParses() {
        var framer = HTTPBodyFramer(mode: .chunked)
        let line = Array("7fffffffffffffff\r\nabc".utf8)
        #expect(line.withUnsafeBytes { framer.consume($0) } == .needMore(consumed: line.count))
    }

    @Test func oversizeChunkSizeLine() {
        let limits = HTTPParserLimits.defaults
        let longExtension = "5;x=" + String(repeating: "a", count: limits.maxChunkSizeLineLength)
        let bytes = Array((longExtension + "\r\nhello\r\n0\r\n\r\n").utf8)
        #expect(frameBody(.chunked, bytes) == .failure(HTTPParseError(status: 400, reason: "chunk-size line too long")))
        // Leading zeros count toward the line too.
        let zeros = String(repeating: "0", count: limits.maxChunkSizeLineLength) + "5\r\nhello\r\n0\r\n\r\n"
        #expect(
            frameBody(.chunked, Array(zeros.utf8))
                == .failure(HTTPParseError(status: 400, reason: "chunk-size line too long"))
        )
        // A line just under the limit is fine: size, extension and CRLF make maxChunkSizeLineLength bytes.
        let fits = "5;x=" + String(repeating: "a", count: limits.maxChunkSizeLineLength - 6) + "\r\nhello\r\n0\r\n\r\n"
        #expect(frameBody(.chunked, Array(fits.utf8)) == .success(fits.utf8.count))
    }

    @Test func oversizeTrailers() {
        let trailer = "X: " + String(repeating: "v", count: 16 * 1024) + "\r\n"
        let bytes = Array(("0\r\n" + trailer + "\r\n").utf8)
        #expect(
            frameBody(.chunked, bytes) == .failure(HTTPParseError(status: 431, reason: "trailer section too large"))
        )
    }

    @Test func failureIsSticky() {
        var framer = HTTPBodyFramer(mode: .chunked)
        let bad = Array("zz".utf8)
        let first = bad.withUnsafeBytes { framer.consume($0) }
        #expect(first == .failure(HTTPParseError(status: 400, reason: "invalid chunk size")))
        #expect(bad.withUnsafeBytes { framer.consume($0) } == first)
    }
}
