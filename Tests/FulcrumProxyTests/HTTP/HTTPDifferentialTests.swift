import FulcrumProxy
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// Differential test: our parser + framer against NIOHTTP1's `HTTPRequestDecoder` (llhttp 9,
/// no lenient flags), on a few thousand requests generated from a small grammar, valid and
/// mutated, with a seeded RNG.
///
/// For every input both sides produce an ``Observation``: the completed messages (method,
/// target, header count, decoded body length, keep-alive), the message still in progress,
/// and whether the stream was rejected. They must agree, except where we are deliberately
/// stricter than llhttp: then OUR side must be the one rejecting, at or before the point
/// where llhttp's messages diverge. Our rejection reasons are tallied; the categories
/// expected to show up are (see ``deliberateStrictness``):
/// - missing / multiple / invalid Host (llhttp does not check Host);
/// - request-target syntax: forms, fragments, characters outside RFC 3986, percent-encoding,
///   asterisk-form with a method other than OPTIONS, userinfo;
/// - Transfer-Encoding: unknown codings (501), `chunked` twice, empty list elements,
///   parameters, TE in HTTP/1.0 (llhttp only checks that the last coding is chunked);
/// - HTTP versions other than 1.0 / 1.1 that llhttp parses (e.g. `HTTP/1.2`: 505);
/// - chunk extensions: we require RFC 9112 syntax (llhttp also rejects BWS, as we do);
/// - chunk sizes of 2^63 and more: we keep sizes in `Int`, llhttp in `UInt64`;
/// - Connection options that are not tokens;
/// - request-lines without a version (HTTP/0.9 style), which llhttp keeps reading and NIO
///   rejects only once the head is complete, so a truncated one looks "incomplete" there.
///
/// One keep-alive difference is tallied separately and allowed: an HTTP/1.0 request with
/// both `close` and `keep-alive` is close for us (RFC 9112 §9.3: close wins) but keep-alive
/// for llhttp. We then stop after that message, which is the conservative choice.
///
/// The reverse is a test failure: accepting something llhttp rejects, or framing a body
/// differently. One narrow exemption: llhttp only knows a fixed registry of method names
/// and rejects extension methods that RFC 9110 §9.1 allows (any token). When we accept and
/// llhttp rejects, and our method is not one llhttp knows, the case is re-run with the
/// method replaced by `PUT`; only if the two then agree (or we reject) is it counted as
/// "extension method", otherwise it fails.
@Suite("HTTP differential vs NIOHTTP1")
struct HTTPDifferentialTests {
    struct Message: Equatable, CustomStringConvertible {
        var method: String
        var target: String
        var headerCount: Int
        var bodyLength: Int
        var keepAlive: Bool

        var description: String { "\(method) \(target) h=\(headerCount) body=\(bodyLength) ka=\(keepAlive)" }
    }

    struct Observation: Equatable, CustomStringConvertible {
        var messages: [Message] = []
        var pending: Message? = nil
        var rejected = false
        var reason: String? = nil

        static func == (a: Observation, b: Observation) -> Bool {
            a.messages == b.messages && a.pending == b.pending && a.rejected == b.rejected
        }

        var description: String {
            "messages=\(messages) pending=\(pending.map(\.description) ?? "-") rejected=\(rejected) \(reason ?? "")"
        }
    }

    static let deliberateStrictness: Set<String> = [
        "missing Host", "multiple Host", "invalid Host", "multiple Authorization",
        "invalid request-target", "invalid absolute-form", "invalid authority in absolute-form",
        "fragment in request-target", "invalid character in request-target",
        "invalid percent-encoding in request-target", "asterisk-form is only for OPTIONS",
        "CONNECT requires authority-form", "invalid authority-form",
        "unknown transfer-coding", "chunked applied more than once", "empty transfer-coding",
        "transfer-coding parameters", "invalid transfer-coding", "Transfer-Encoding in HTTP/1.0",
        "unsupported HTTP version", "invalid chunk extension", "invalid Connection option",
        "too many Connection options", "chunk size overflow", "malformed request-line",
    ]

    // MARK: the two sides

    static func ours(_ input: [UInt8]) -> Observation {
        var observation = Observation()
        var parser = HTTPRequestHeadParser()
        var fields: [HTTPHeaderField] = []
        var offset = 0
        while offset < input.count {
            let result = input[offset...].withUnsafeBytes { parser.parse($0, fields: &fields) }
            switch result {
            case .incomplete:
                return observation
            case .failure(let error):
                observation.rejected = true
                observation.reason = error.reason
                return observation
            case .complete(let head):
                func text(_ r: Range<Int>) -> String {
                    String(decoding: input[(offset + r.lowerBound)..<(offset + r.upperBound)], as: UTF8.self)
                }
                var message = Message(
                    method: text(head.methodRange),
                    target: text(head.targetRange),
                    headerCount: head.headerCount,
                    bodyLength: 0,
                    keepAlive: head.keepAlive
                )
                if head.method == .connect {
                    // The connection becomes a tunnel; llhttp stops parsing too.
                    observation.messages.append(message)
                    return observation
                }
                let bodyStart = offset + head.headLength
                var framer = HTTPBodyFramer(mode: head.bodyMode)
                let framed = input[bodyStart...].withUnsafeBytes { framer.consume($0) }
                message.bodyLength = framer.payloadBytes
                switch framed {
                case .needMore:
                    observation.pending = message
                    return observation
                case .failure(let error):
                    observation.rejected = true
                    observation.reason = error.reason
                    return observation
                case .messageComplete(let consumed):
                    observation.messages.append(message)
                    offset = bodyStart + consumed
                }
                if !head.keepAlive { return observation }
            }
        }
        return observation
    }

    static func llhttp(_ input: [UInt8]) -> Observation {
        var observation = Observation()
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try! channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        var thrown: Error? = nil
        do {
            try channel.writeInbound(channel.allocator.buffer(bytes: input))
        } catch {
            thrown = error
        }
        var current: Message? = nil
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head):
                current = Message(
                    method: head.method.rawValue,
                    target: head.uri,
                    headerCount: head.headers.count,
                    bodyLength: 0,
                    keepAlive: head.isKeepAlive
                )
            case .body(let body):
                current?.bodyLength += body.readableBytes
            case .end:
                if let message = current { observation.messages.append(message) }
                current = nil
            }
        }
        if let thrown {
            // llhttp refuses any data after a message that closes the connection; we simply
            // stop there, so that is not a rejection.
            if current == nil, let last = observation.messages.last, !last.keepAlive {
                return observation
            }
            observation.rejected = true
            observation.reason = "\(thrown)"
        } else {
            observation.pending = current
        }
        return observation
    }

    enum Verdict {
        case agree
        case weAreStricter(String)
        case extensionMethod
        case closeWinsOverKeepAlive
        case mismatch
    }

    static func compare(_ input: [UInt8], allowMethodRewrite: Bool = true) -> (Verdict, Observation, Observation) {
        let a = ours(input)
        let b = llhttp(input)
        if a == b { return (.agree, a, b) }
        let prefix = a.messages.count <= b.messages.count && Array(b.messages.prefix(a.messages.count)) == a.messages
        if a.rejected && prefix {
            return (.weAreStricter(a.reason ?? "?"), a, b)
        }
        // HTTP/1.0 with both `close` and `keep-alive`: RFC 9112 §9.3 says close wins, llhttp
        // keeps the connection alive. Closing is the conservative side, and we stop there.
        if !a.rejected, a.pending == nil, let last = a.messages.last, !last.keepAlive,
            a.messages.count <= b.messages.count
        {
            var reopened = last
            reopened.keepAlive = true
            if Array(b.messages.prefix(a.messages.count - 1)) == a.messages.dropLast(),
                b.messages[a.messages.count - 1] == reopened
            {
                return (.closeWinsOverKeepAlive, a, b)
            }
        }
        // We accepted more than llhttp did. Is it only llhttp's method registry?
        if allowMethodRewrite, b.rejected, let rewritten = rewriteFirstUnknownMethod(input, ours: a, llhttp: b) {
            switch compare(rewritten, allowMethodRewrite: false).0 {
            case .agree, .weAreStricter, .closeWinsOverKeepAlive: return (.extensionMethod, a, b)
            case .extensionMethod, .mismatch: break
            }
        }
        return (.mismatch, a, b)
    }

    /// Replaces the method of the first message llhttp did not accept with `PUT`, if ours
    /// parsed it as an extension method that llhttp does not know.
    static func rewriteFirstUnknownMethod(_ input: [UInt8], ours: Observation, llhttp: Observation) -> [UInt8]? {
        let index = llhttp.messages.count
        let all = ours.messages + (ours.pending.map { [$0] } ?? [])
        guard index < all.count else { return nil }
        let method = all[index].method
        let known: Set<String> = [
            "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PURGE",
            "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND",
            "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH",
            "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "QUERY",
        ]
        guard !known.contains(method) else { return nil }
        // Find that message's request-line: skip the earlier messages by re-parsing ours.
        var parser = HTTPRequestHeadParser()
        var fields: [HTTPHeaderField] = []
        var offset = 0
        for i in 0...index {
            guard case .complete(let head) = input[offset...].withUnsafeBytes({ parser.parse($0, fields: &fields) })
            else { return nil }
            if i == index {
                var copy = input
                copy.replaceSubrange(
                    (offset + head.methodRange.lowerBound)..<(offset + head.methodRange.upperBound),
                    with: Array("PUT".utf8)
                )
                return copy
            }
            var framer = HTTPBodyFramer(mode: head.bodyMode)
            let framed = input[(offset + head.headLength)...].withUnsafeBytes { framer.consume($0) }
            guard case .messageComplete(let consumed) = framed else { return nil }
            offset += head.headLength + consumed
        }
        return nil
    }

    // MARK: the generator

    struct Generator {
        var rng: SplitMix64

        mutating func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &self.rng)] }
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self.rng) < p }
        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self.rng) }

        enum Body {
            case none
            case contentLength(Int)
            case chunked([Int], extensions: Bool, trailers: Bool)
        }

        struct Request {
            var method: String
            var target: String
            var version: String
            var headers: [(String, String)]
            var body: Body
        }

        mutating func request() -> Request {
            let method = pick([
                "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "PURGE",
            ])
            var target = pick([
                "/", "/index.html", "/a/b/c?x=1&y=2", "/search?q=a%20b", "/p;v=1,2", "/~user/", "/a:b@c!$&'()*+,=",
                "http://example.com/x", "http://example.com:8080/?q", "/" + String(repeating: "z", count: int(1...60)),
            ])
            if method == "OPTIONS" && chance(0.3) { target = "*" }
            let version = chance(0.85) ? "HTTP/1.1" : "HTTP/1.0"
            var headers: [(String, String)] = []
            if version == "HTTP/1.1" ? chance(0.97) : chance(0.5) {
                headers.append(("Host", pick(["example.com", "example.com:8080", "127.0.0.1", "[::1]:80", "a-b.c_d"])))
            }
            for _ in 0..<int(0...4) {
                headers.append(
                    pick([
                        ("User-Agent", "fuzz/1.0"), ("Accept", "*/*"), ("X-Request-Id", "\(int(0...99999))"),
                        ("Cookie", "a=b; c=d"), ("Accept-Encoding", "gzip, deflate"), ("X-Empty", ""),
                        ("X-Tab", "\tv\t"), ("x-lower", "v"), ("X-Quote", "\"q\""),
                    ])
                )
            }
            if chance(0.25) {
                headers.append(("Connection", pick(["close", "keep-alive", "Keep-Alive, X-Hop", "close, x-a", "te"])))
            }
            if chance(0.05) { headers.append(("Expect", "100-continue")) }
            let body: Body
            switch int(0...9) {
            case 0...3: body = .none
            case 4...6: body = .contentLength(int(0...40))
            default:
                body = .chunked(
                    (0..<int(0...3)).map { _ in int(1...30) },
                    extensions: chance(0.3),
                    trailers: chance(0.3)
                )
            }
            if version == "HTTP/1.0", case .chunked = body {
                return Request(
                    method: method,
                    target: target,
                    version: version,
                    headers: headers,
                    body: .contentLength(3)
                )
            }
            return Request(method: method, target: target, version: version, headers: headers, body: body)
        }

        mutating func serialize(_ r: Request, teValue: String = "chunked") -> [UInt8] {
            var headers = r.headers
            var body: [UInt8] = []
            switch r.body {
            case .none:
                break
            case .contentLength(let n):
                headers.append(("Content-Length", "\(n)"))
                body = [UInt8](repeating: 0x62, count: n)
            case .chunked(let sizes, let extensions, let trailers):
                headers.append(("Transfer-Encoding", teValue))
                for size in sizes {
                    body += Array(String(size, radix: 16).utf8)
                    if extensions { body += Array(pick([";a=b", ";q=\"x y\"", ";flag", " ; a = b"]).utf8) }
                    body += Array("\r\n".utf8) + [UInt8](repeating: 0x63, count: size) + Array("\r\n".utf8)
                }
                body += Array("0\r\n".utf8)
                if trailers { body += Array("Trailer-A: 1\r\nX-Sum: abc\r\n".utf8) }
                body += Array("\r\n".utf8)
            }
            var text = "\(r.method) \(r.target) \(r.version)\r\n"
            for (name, value) in headers { text += "\(name): \(value)\r\n" }
            text += "\r\n"
            return Array(text.utf8) + body
        }

        static let interestingBytes: [UInt8] = [
            0x20, 0x09, 0x0D, 0x0A, 0x3A, 0x2C, 0x3B, 0x00, 0x61, 0x7F, 0x80, 0xFF, 0x2D, 0x30, 0x39, 0x66, 0x22,
            0x23, 0x5C, 0x2F, 0x3F, 0x25, 0x7B,
        ]

        mutating func mutateBytes(_ bytes: inout [UInt8]) {
            for _ in 0..<int(1...2) where !bytes.isEmpty {
                let position = int(0...(bytes.count - 1))
                switch int(0...2) {
                case 0: bytes.insert(pick(Self.interestingBytes), at: position)
                case 1: bytes.remove(at: position)
                default: bytes[position] = pick(Self.interestingBytes)
                }
            }
        }

        /// Returns the bytes of one test case.
        mutating func testCase() -> [UInt8] {
            var r = request()
            var bytes: [UInt8]
            switch int(0...18) {
            case 0...3:
                bytes = serialize(r)
            case 4, 5:
                bytes = serialize(r)
                mutateBytes(&bytes)
            case 6:  // duplicate Content-Length
                let n = int(0...9)
                r.body = .contentLength(n)
                r.headers.append(("Content-Length", chance(0.5) ? "\(n)" : "\(n + 1)"))
                bytes = serialize(r)
            case 7:  // CL + TE
                r.body = .chunked([int(1...9)], extensions: false, trailers: false)
                r.version = "HTTP/1.1"
                r.headers.insert(("Content-Length", "\(int(0...9))"), at: int(0...r.headers.count))
                bytes = serialize(r)
            case 8:  // obs-fold
                r.headers.append(("X-Folded", "a\r\n" + pick([" b", "\tb", " "])))
                bytes = serialize(r)
            case 9:  // bare LF or bare CR somewhere
                bytes = serialize(r)
                let crlfs = bytes.indices.dropLast().filter { bytes[$0] == 0x0D && bytes[$0 + 1] == 0x0A }
                let at = pick(crlfs)
                if chance(0.6) { bytes.remove(at: at) } else { bytes.remove(at: at + 1) }
            case 10:  // whitespace before the colon
                r.headers.append((pick(["X-A ", "Host ", "Content-Length\t", "Transfer-Encoding "]), "1"))
                bytes = serialize(r)
            case 11:  // weird Transfer-Encoding values
                r.version = "HTTP/1.1"
                r.body = .chunked([int(1...9)], extensions: false, trailers: false)
                bytes = serialize(
                    r,
                    teValue: pick([
                        "chunked, gzip", "gzip", "identity", "xchunked", "chunked,", ",chunked", "Chunked", "CHUNKED",
                        "chunked , chunked", "gzip, chunked", "deflate,chunked", "chunk", "\"chunked\"", "chunked;a=b",
                        "foo, chunked", "chunked\u{0B}", "identity, chunked",
                    ])
                )
            case 12:  // huge chunk sizes
                r.version = "HTTP/1.1"
                r.body = .chunked([int(1...9)], extensions: false, trailers: false)
                bytes = serialize(r)
                let head = bytes.firstIndex(of: 0x0A).map { _ in headEnd(bytes) } ?? 0
                bytes.replaceSubrange(
                    head..<(head + 1),
                    with: Array(
                        pick([
                            "ffffffffffffffffffff", "8000000000000000", "7fffffffffffffff", "00000000000000000001",
                            "fffffffffff",
                        ]).utf8
                    )
                )
            case 13:  // Content-Length values
                r.body = .contentLength(3)
                bytes = serialize(r)
                let value = pick(["+3", "3 ", "0x3", "3,3", "003", "3, 4", "", "-3", "3a", "99999999999999999999999"])
                let marker = Array("Content-Length: 3".utf8)
                if let at = find(marker, in: bytes) {
                    bytes.replaceSubrange((at + 16)..<(at + 17), with: Array(value.utf8))
                }
            case 14:  // Host and version games
                switch int(0...4) {
                case 0: r.headers.removeAll { $0.0 == "Host" }
                case 1: r.headers.append(("Host", "other.example"))
                case 2: r.version = pick(["HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1 ", "http/1.1", "HTTP/1"])
                case 3: r.target = pick(["/a#frag", "/a b", "/%zz", "/a\\b", "foo", "*", "/é", "/{x}", "/|", "/\"q\""])
                default: r.headers.append(("Host", pick(["a/b", "a b", "", "a@b"])))
                }
                bytes = serialize(r)
            case 15:  // invalid field names
                r.headers.append((pick(["X(A)", "X\u{1}", "", "X\"Y", "Ä", "X/Y", "X@Y", "X{Y}"]), "v"))
                bytes = serialize(r)
            case 16:  // Connection combinations
                r.headers.append(
                    (
                        "Connection",
                        pick(["keep-alive, close", "close, keep-alive", "Upgrade", "a b", ",,close", "keep-alive,,"])
                    )
                )
                if chance(0.5) { r.headers.append(("Connection", pick(["close", "keep-alive"]))) }
                bytes = serialize(r)
            case 17:  // Transfer-Encoding across several lines
                r.version = "HTTP/1.1"
                r.body = .chunked([int(1...9)], extensions: false, trailers: false)
                r.headers.append(("Transfer-Encoding", pick(["gzip", "chunked", "identity", "deflate"])))
                bytes = serialize(r, teValue: pick(["chunked", "gzip"]))
            default:  // leading empty lines and pipelining
                bytes = Array("\r\n".utf8) + serialize(r)
            }
            if chance(0.8) {
                bytes += Array("GET /next HTTP/1.1\r\nHost: next\r\n\r\n".utf8)
            }
            return bytes
        }

        func headEnd(_ bytes: [UInt8]) -> Int {
            (find(Array("\r\n\r\n".utf8), in: bytes) ?? -4) + 4
        }

        func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
            guard haystack.count >= needle.count else { return nil }
            for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
                return i
            }
            return nil
        }
    }

    @Test func agreesWithLLHTTPOrIsStricter() {
        var generator = Generator(rng: SplitMix64(seed: 0x00F0_1C2D_0000_0001))
        let total = 4000
        var agreements = 0
        var extensionMethods = 0
        var stricter: [String: Int] = [:]
        var mismatches = 0
        var bothAccepted = 0
        var closeWins = 0
        var bothRejected: [String: Int] = [:]
        for _ in 0..<total {
            let input = generator.testCase()
            let (verdict, a, b) = Self.compare(input)
            switch verdict {
            case .agree:
                agreements += 1
                if a.rejected {
                    bothRejected[a.reason ?? "?", default: 0] += 1
                } else if a.pending != nil || !a.messages.isEmpty {
                    bothAccepted += 1
                }
            case .extensionMethod:
                extensionMethods += 1
            case .closeWinsOverKeepAlive:
                closeWins += 1
            case .weAreStricter(let reason):
                stricter[reason, default: 0] += 1
                if !Self.deliberateStrictness.contains(reason) {
                    mismatches += 1
                    if mismatches <= 15 {
                        Issue.record(
                            "unexpected strictness '\(reason)' for \(String(reflecting: String(decoding: input, as: UTF8.self)))\n ours:   \(a)\n llhttp: \(b)"
                        )
                    }
                }
            case .mismatch:
                mismatches += 1
                if mismatches <= 15 {
                    Issue.record(
                        "disagreement for \(String(reflecting: String(decoding: input, as: UTF8.self)))\n ours:   \(a)\n llhttp: \(b)"
                    )
                }
            }
        }
        func lines(_ tally: [String: Int]) -> String {
            tally.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "    \($0.key): \($0.value)" }.joined(
                separator: "\n"
            )
        }
        print(
            """
            HTTP differential: \(total) cases, \(agreements) agreements (\(bothAccepted) both accept, \
            \(bothRejected.values.reduce(0, +)) both reject), \(extensionMethods) extension-method exemptions, \
            \(closeWins) HTTP/1.0 close-wins-over-keep-alive, \
            \(stricter.values.reduce(0, +)) deliberate-strictness disagreements, \(mismatches) failures
              deliberate strictness (our reason: count):
            \(lines(stricter))
              both reject (our reason: count):
            \(lines(bothRejected))
            """
        )
        #expect(mismatches == 0)
        #expect(agreements > total / 2)
    }
}
