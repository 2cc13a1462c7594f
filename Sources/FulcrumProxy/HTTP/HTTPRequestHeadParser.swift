/// An incremental, strict (RFC 9112 / RFC 9110) parser for HTTP/1.x request heads.
///
/// Give it the bytes received so far, always starting at the first byte of the message; call
/// again with the same bytes extended when it says `.incomplete`. It keeps its scan position
/// between calls, so parsing a head fed one byte at a time is still linear. After
/// `.complete` or `.failure` it resets itself and is ready for the next message (pass bytes
/// starting at the previous `headLength`).
///
/// Header fields are written to a caller-owned array that is cleared (keeping its capacity)
/// at the start of each message, so steady-state parsing allocates nothing.
///
/// Strictness, each with its status code:
/// - Lines must end in CRLF; bare LF and bare CR are rejected (400). Empty lines (CRLF)
///   before the request-line are skipped, as RFC 9112 §2.2 suggests; they count toward the
///   head size and `headLength`.
/// - request-line is exactly `method SP request-target SP HTTP-version`; the method is a token;
///   the version is `HTTP/1.0` or `HTTP/1.1` (another `HTTP/d.d` is 505, anything else 400).
///   Note RFC 9112 §2.3 would treat `HTTP/1.2` as 1.1; we answer 505 instead.
/// - The request-target must be one of the four forms of RFC 9112 §3.2 and contain only
///   RFC 3986 characters with well-formed percent-encoding: no fragment (`#`), no `\`, `{`,
///   `|`, `"` and the like, no non-ASCII (400). Asterisk-form only with OPTIONS,
///   authority-form only (and always) with CONNECT. Longer than the limit: 414.
/// - obs-fold, whitespace before the colon, empty or non-token field names, CTLs other than
///   HTAB and DEL in field values: 400.
/// - Content-Length: digits only, no overflow, not repeated and not a list (400).
/// - Transfer-Encoding together with Content-Length (400), in HTTP/1.0 (400, RFC 9112 §6.1
///   says the framing is faulty), with an unknown coding (501), with empty elements or
///   parameters (400), with `chunked` twice or not last (400, RFC 9112 §6.3).
/// - HTTP/1.1 without Host, more than one Host, or a Host that is not `uri-host[:port]` (400).
/// - More than `maxHeaderCount` fields or a head over `maxHeadSize` bytes: 431.
public struct HTTPRequestHeadParser: Sendable {
    public var limits: HTTPParserLimits
    private var scanner = HTTPHeadScanner(skipsLeadingEmptyLines: true)
    private var framing = HTTPFramingFields(kind: .request)
    private var startLine: StartLine? = nil

    private struct StartLine {
        var method: Range<Int>
        var methodKind: HTTPRequestMethod
        var target: Range<Int>
        var version: HTTP1Version
    }

    public init(limits: HTTPParserLimits = .defaults) {
        self.limits = limits
    }

    /// Forgets any partially parsed head.
    public mutating func reset() {
        self.scanner.reset()
        self.framing = HTTPFramingFields(kind: .request)
        self.startLine = nil
    }

    /// Parses as much of the head as `bytes` holds.
    ///
    /// - Parameters:
    ///   - bytes: The message so far, starting at its first byte. Each call must pass the
    ///     previous call's bytes (unchanged) plus any new ones.
    ///   - fields: Storage for the header fields; cleared when a new message starts.
    /// - Complexity: O(*n*) over all calls for a head of *n* bytes.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer,
        fields: inout [HTTPHeaderField]
    ) -> HTTPHeadParseResult<ParsedHTTPRequestHead> {
        if self.scanner.position == 0 {
            fields.removeAll(keepingCapacity: true)
        }
        let result = self.step(bytes, fields: &fields)
        switch result {
        case .incomplete:
            break
        case .complete, .failure:
            self.reset()
        }
        return result
    }

    /// Parses a complete buffer in one go (a convenience for tests and cold paths).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        limits: HTTPParserLimits = .defaults,
        fields: inout [HTTPHeaderField]
    ) -> HTTPHeadParseResult<ParsedHTTPRequestHead> {
        var parser = HTTPRequestHeadParser(limits: limits)
        return parser.parse(bytes, fields: &fields)
    }

    private mutating func step(
        _ bytes: UnsafeRawBufferPointer,
        fields: inout [HTTPHeaderField]
    ) -> HTTPHeadParseResult<ParsedHTTPRequestHead> {
        while true {
            switch self.scanner.next(bytes, maxHeadSize: self.limits.maxHeadSize) {
            case .needMore:
                // Enforce the target limit before the request-line is complete.
                if self.scanner.inStartLine, let first = self.scanner.firstSpace {
                    let end = self.scanner.secondSpace ?? self.scanner.position
                    if end - first - 1 > self.limits.maxRequestTargetLength {
                        return .failure(HTTPParseError(status: 414, reason: "request-target too long"))
                    }
                }
                return .incomplete
            case .failure(let error):
                if error.status == 431, self.scanner.inStartLine, let first = self.scanner.firstSpace,
                    (self.scanner.secondSpace ?? self.scanner.position) - first - 1 > self.limits.maxRequestTargetLength
                {
                    return .failure(HTTPParseError(status: 414, reason: "request-target too long"))
                }
                return .failure(error)
            case .startLine(let line):
                switch self.parseRequestLine(bytes, line) {
                case .success(let startLine): self.startLine = startLine
                case .failure(let error): return .failure(error)
                }
            case .fieldLine(let line):
                switch HTTPFramingFields.parseFieldLine(bytes, line) {
                case .success(let field):
                    guard fields.count < self.limits.maxHeaderCount else {
                        return .failure(.headTooLarge("too many header fields"))
                    }
                    if let error = self.framing.add(field, bytes) { return .failure(error) }
                    fields.append(field)
                case .failure(let error):
                    return .failure(error)
                }
            case .end(let headLength):
                return self.finish(headLength: headLength, headerCount: fields.count)
            }
        }
    }

    private func finish(headLength: Int, headerCount: Int) -> HTTPHeadParseResult<ParsedHTTPRequestHead> {
        guard let startLine = self.startLine else {
            return .failure(.badRequest("missing request-line"))
        }
        let framing = self.framing
        var isChunked = false
        if framing.sawTransferEncoding {
            if framing.contentLengthLines > 0 {
                return .failure(.badRequest("Content-Length with Transfer-Encoding"))
            }
            if startLine.version == .http1_0 {
                return .failure(.badRequest("Transfer-Encoding in HTTP/1.0"))
            }
            if framing.sawUnknownCoding {
                return .failure(HTTPParseError(status: 501, reason: "unknown transfer-coding"))
            }
            if !framing.finalCodingIsChunked {
                return .failure(.badRequest("final transfer-coding is not chunked"))
            }
            isChunked = true
        }
        if startLine.version == .http1_1 && framing.hostCount == 0 {
            return .failure(.badRequest("missing Host"))
        }
        let keepAlive: Bool
        switch startLine.version {
        case .http1_1: keepAlive = !framing.connection.containsClose
        case .http1_0: keepAlive = framing.connection.containsKeepAlive && !framing.connection.containsClose
        }
        return .complete(
            ParsedHTTPRequestHead(
                methodRange: startLine.method,
                method: startLine.methodKind,
                targetRange: startLine.target,
                version: startLine.version,
                headLength: headLength,
                headerCount: headerCount,
                contentLength: isChunked ? nil : framing.contentLength,
                isChunked: isChunked,
                keepAlive: keepAlive,
                expectsContinue: framing.expectsContinue && startLine.version == .http1_1,
                hostRange: framing.hostRange,
                connectionTokens: framing.connection
            )
        )
    }

    /// `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3).
    private func parseRequestLine(
        _ bytes: UnsafeRawBufferPointer,
        _ line: Range<Int>
    ) -> Result<StartLine, HTTPParseError> {
        var firstSpace = line.lowerBound
        while firstSpace < line.upperBound && bytes[firstSpace] != HTTPSyntax.sp { firstSpace &+= 1 }
        guard firstSpace < line.upperBound else { return .failure(.badRequest("malformed request-line")) }
        let method = line.lowerBound..<firstSpace
        guard HTTPSyntax.isToken(bytes, method) else { return .failure(.badRequest("invalid method")) }

        var secondSpace = firstSpace &+ 1
        while secondSpace < line.upperBound && bytes[secondSpace] != HTTPSyntax.sp { secondSpace &+= 1 }
        let target = (firstSpace &+ 1)..<secondSpace
        if target.count > self.limits.maxRequestTargetLength {
            return .failure(HTTPParseError(status: 414, reason: "request-target too long"))
        }
        guard secondSpace < line.upperBound, !target.isEmpty else {
            return .failure(.badRequest("malformed request-line"))
        }
        let version: HTTP1Version
        switch Self.parseVersion(bytes, (secondSpace &+ 1)..<line.upperBound) {
        case .success(let v): version = v
        case .failure(let error): return .failure(error)
        }
        let methodKind = HTTPRequestMethod.classify(bytes, method)
        if let error = Self.validateTarget(bytes, target, method: methodKind) {
            return .failure(error)
        }
        return .success(StartLine(method: method, methodKind: methodKind, target: target, version: version))
    }

    /// `HTTP-version = "HTTP/" DIGIT "." DIGIT`, case-sensitive (RFC 9112 §2.3).
    static func parseVersion(
        _ bytes: UnsafeRawBufferPointer,
        _ range: Range<Int>
    ) -> Result<HTTP1Version, HTTPParseError> {
        let l = range.lowerBound
        guard range.count == 8, bytes[l] == 0x48, bytes[l + 1] == 0x54, bytes[l + 2] == 0x54, bytes[l + 3] == 0x50,
            bytes[l + 4] == HTTPSyntax.slash, HTTPSyntax.isDigit(bytes[l + 5]), bytes[l + 6] == 0x2E,
            HTTPSyntax.isDigit(bytes[l + 7])
        else {
            return .failure(.badRequest("malformed HTTP version"))
        }
        switch (bytes[l + 5], bytes[l + 7]) {
        case (0x31, 0x31): return .success(.http1_1)
        case (0x31, 0x30): return .success(.http1_0)
        default: return .failure(HTTPParseError(status: 505, reason: "unsupported HTTP version"))
        }
    }

    /// Checks the request-target's form against the method (RFC 9112 §3.2) and its bytes
    /// against RFC 3986.
    static func validateTarget(
        _ bytes: UnsafeRawBufferPointer,
        _ target: Range<Int>,
        method: HTTPRequestMethod
    ) -> HTTPParseError? {
        let first = bytes[target.lowerBound]
        if method == .connect {
            // authority-form = uri-host ":" port
            guard first != HTTPSyntax.slash, first != HTTPSyntax.asterisk else {
                return .badRequest("CONNECT requires authority-form")
            }
            var colon = target.upperBound - 1
            while colon > target.lowerBound && HTTPSyntax.isDigit(bytes[colon]) { colon -= 1 }
            guard bytes[colon] == HTTPSyntax.colon, colon < target.upperBound - 1,
                colon > target.lowerBound,
                HTTPFramingFields.isValidHost(bytes, target.lowerBound..<colon)
            else {
                return .badRequest("invalid authority-form")
            }
            return nil
        }
        if first == HTTPSyntax.asterisk {
            guard target.count == 1, method == .options else {
                return .badRequest("asterisk-form is only for OPTIONS")
            }
            return nil
        }
        var i = target.lowerBound
        if first != HTTPSyntax.slash {
            // absolute-form; HTTP(S) URIs always have a non-empty authority (RFC 9110 §4.2):
            // scheme "://" host [":" port]. userinfo is rejected (RFC 9110 §4.2.4).
            guard HTTPSyntax.isAlpha(first) else { return .badRequest("invalid request-target") }
            i += 1
            while i < target.upperBound {
                let b = bytes[i]
                guard HTTPSyntax.isAlpha(b) || HTTPSyntax.isDigit(b) || b == 0x2B || b == 0x2D || b == 0x2E else {
                    break
                }
                i += 1
            }
            guard target.upperBound - i > 3, bytes[i] == HTTPSyntax.colon, bytes[i + 1] == HTTPSyntax.slash,
                bytes[i + 2] == HTTPSyntax.slash
            else {
                return .badRequest("invalid absolute-form")
            }
            i += 3
            let authorityStart = i
            while i < target.upperBound && bytes[i] != HTTPSyntax.slash && bytes[i] != 0x3F && bytes[i] != 0x23 {
                i += 1
            }
            guard i > authorityStart, HTTPFramingFields.isValidHost(bytes, authorityStart..<i) else {
                return .badRequest("invalid authority in absolute-form")
            }
        }
        // path-abempty [ "?" query ]: pchar / "/" / "?"
        while i < target.upperBound {
            let b = bytes[i]
            if HTTPSyntax.isUnreserved(b) || HTTPSyntax.isSubDelim(b) {
                i += 1
                continue
            }
            switch b {
            case HTTPSyntax.colon, HTTPSyntax.slash, 0x3F, 0x40:  // : / ? @
                i += 1
            case HTTPSyntax.percent:
                guard i + 2 < target.upperBound, HTTPSyntax.hexValue(bytes[i + 1]) != nil,
                    HTTPSyntax.hexValue(bytes[i + 2]) != nil
                else { return .badRequest("invalid percent-encoding in request-target") }
                i += 3
            case 0x23:
                return .badRequest("fragment in request-target")
            default:
                return .badRequest("invalid character in request-target")
            }
        }
        return nil
    }
}
