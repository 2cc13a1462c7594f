/// An incremental, strict parser for HTTP/1.x response heads from backends.
///
/// Same contract as ``HTTPRequestHeadParser`` (growing prefix in, `.incomplete` /
/// `.complete` / `.failure` out, caller-owned field storage), and the same field-line
/// strictness: CRLF only, no obs-fold, token names, no whitespace before the colon, no CTLs
/// in values. Every failure carries status 502.
///
/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4). The
/// status code is three digits in 100...599. A status line without the SP before an empty
/// reason (`HTTP/1.1 200` CRLF) is accepted: many servers send it and it cannot affect
/// framing.
///
/// Framing facts follow RFC 9112 §6.3 for responses: Content-Length with Transfer-Encoding
/// is rejected (a smuggling signal, which §6.3 allows to be handled as an error), differing
/// Content-Length values are rejected and identical repeats accepted, Transfer-Encoding in
/// an HTTP/1.0 response is rejected (§6.1: faulty framing), unknown codings are allowed
/// (the proxy forwards the body verbatim, only the final `chunked` matters).
public struct HTTPResponseHeadParser: Sendable {
    public var limits: HTTPParserLimits
    private var scanner = HTTPHeadScanner(skipsLeadingEmptyLines: false)
    private var framing = HTTPFramingFields(kind: .response)
    private var statusLine: (version: HTTP1Version, status: Int, reason: Range<Int>)? = nil

    public init(limits: HTTPParserLimits = .defaults) {
        self.limits = limits
    }

    /// Forgets any partially parsed head.
    public mutating func reset() {
        self.scanner.reset()
        self.framing = HTTPFramingFields(kind: .response)
        self.statusLine = nil
    }

    /// Parses as much of the head as `bytes` holds; see ``HTTPRequestHeadParser/parse(_:fields:)``.
    /// - Complexity: O(*n*) over all calls for a head of *n* bytes.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer,
        fields: inout [HTTPHeaderField]
    ) -> HTTPHeadParseResult<ParsedHTTPResponseHead> {
        if self.scanner.position == 0 {
            fields.removeAll(keepingCapacity: true)
        }
        let result = self.step(bytes, fields: &fields)
        switch result {
        case .incomplete:
            return result
        case .complete:
            self.reset()
            return result
        case .failure(let error):
            self.reset()
            return .failure(error.asBadGateway)
        }
    }

    /// Parses a complete buffer in one go.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        limits: HTTPParserLimits = .defaults,
        fields: inout [HTTPHeaderField]
    ) -> HTTPHeadParseResult<ParsedHTTPResponseHead> {
        var parser = HTTPResponseHeadParser(limits: limits)
        return parser.parse(bytes, fields: &fields)
    }

    private mutating func step(
        _ bytes: UnsafeRawBufferPointer,
        fields: inout [HTTPHeaderField]
    ) -> HTTPHeadParseResult<ParsedHTTPResponseHead> {
        while true {
            switch self.scanner.next(bytes, maxHeadSize: self.limits.maxHeadSize) {
            case .needMore:
                return .incomplete
            case .failure(let error):
                return .failure(error)
            case .startLine(let line):
                guard let statusLine = Self.parseStatusLine(bytes, line) else {
                    return .failure(.badRequest("malformed status-line"))
                }
                self.statusLine = statusLine
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

    private func finish(headLength: Int, headerCount: Int) -> HTTPHeadParseResult<ParsedHTTPResponseHead> {
        guard let statusLine = self.statusLine else { return .failure(.badRequest("missing status-line")) }
        let framing = self.framing
        if framing.sawTransferEncoding {
            if framing.contentLengthLines > 0 {
                return .failure(.badRequest("Content-Length with Transfer-Encoding"))
            }
            if statusLine.version == .http1_0 {
                return .failure(.badRequest("Transfer-Encoding in HTTP/1.0"))
            }
        }
        let isChunked = framing.sawTransferEncoding && framing.finalCodingIsChunked
        let keepAlive: Bool
        switch statusLine.version {
        case .http1_1: keepAlive = !framing.connection.containsClose
        case .http1_0: keepAlive = framing.connection.containsKeepAlive && !framing.connection.containsClose
        }
        return .complete(
            ParsedHTTPResponseHead(
                version: statusLine.version,
                statusCode: statusLine.status,
                reasonRange: statusLine.reason,
                headLength: headLength,
                headerCount: headerCount,
                contentLength: framing.sawTransferEncoding ? nil : framing.contentLength,
                isChunked: isChunked,
                hasNonChunkedTransferEncoding: framing.sawTransferEncoding && !isChunked,
                connectionKeepAlive: keepAlive,
                connectionTokens: framing.connection
            )
        )
    }

    static func parseStatusLine(
        _ bytes: UnsafeRawBufferPointer,
        _ line: Range<Int>
    ) -> (version: HTTP1Version, status: Int, reason: Range<Int>)? {
        // "HTTP/1.1" SP 3DIGIT [ SP reason ]
        guard line.count >= 12, bytes[line.lowerBound + 8] == HTTPSyntax.sp,
            case .success(let version) = HTTPRequestHeadParser.parseVersion(
                bytes,
                line.lowerBound..<(line.lowerBound + 8)
            )
        else { return nil }
        let codeRange = (line.lowerBound + 9)..<(line.lowerBound + 12)
        guard let status = HTTPSyntax.parseDecimal(bytes, codeRange), (100...599).contains(status) else { return nil }
        var reason = line.upperBound..<line.upperBound
        if line.count > 12 {
            guard bytes[line.lowerBound + 12] == HTTPSyntax.sp else { return nil }
            reason = (line.lowerBound + 13)..<line.upperBound
            for i in reason where !HTTPSyntax.isFieldValueChar(bytes[i]) {
                return nil
            }
        }
        return (version, status, reason)
    }
}
