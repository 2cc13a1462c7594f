/// Validates field lines and accumulates the facts that framing and routing need
/// (RFC 9112 §6, RFC 9110 §7.2, §7.6.1, §10.1.1), shared by the request and response parsers.
///
/// It never copies bytes: it records ranges and small integers only.
struct HTTPFramingFields {
    enum Kind {
        case request
        case response
    }

    let kind: Kind
    var contentLength: Int? = nil
    var contentLengthLines = 0
    var sawTransferEncoding = false
    /// Whether the last transfer-coding seen so far is `chunked`.
    var finalCodingIsChunked = false
    var sawChunked = false
    var sawUnknownCoding = false
    var connection = HTTPConnectionTokens()
    var hostCount = 0
    var authorizationCount = 0
    var hostRange: Range<Int>? = nil
    var expectsContinue = false

    init(kind: Kind) {
        self.kind = kind
    }

    /// Splits and validates one field line (without CRLF): `field-name ":" OWS field-value OWS`.
    static func parseFieldLine(
        _ bytes: UnsafeRawBufferPointer,
        _ line: Range<Int>
    ) -> Result<HTTPHeaderField, HTTPParseError> {
        let first = bytes[line.lowerBound]
        if HTTPSyntax.isOWS(first) {
            // RFC 9112 §5.2: obs-fold is only allowed within message/http; §2.2 also forbids
            // whitespace between the start-line and the first field, which lands here too.
            return .failure(.badRequest("obs-fold in header"))
        }
        var i = line.lowerBound
        while i < line.upperBound {
            let b = bytes[i]
            if b == HTTPSyntax.colon { break }
            if HTTPSyntax.isTokenChar(b) {
                i &+= 1
                continue
            }
            if HTTPSyntax.isOWS(b) {
                // RFC 9112 §5.1: MUST reject whitespace between field name and colon.
                return .failure(.badRequest("whitespace before colon"))
            }
            if b == HTTPSyntax.cr { return .failure(.badRequest("bare CR")) }
            return .failure(.badRequest("invalid field name"))
        }
        guard i < line.upperBound else { return .failure(.badRequest("missing colon in header")) }
        guard i > line.lowerBound else { return .failure(.badRequest("empty field name")) }
        let name = line.lowerBound..<i
        let value = HTTPSyntax.trimOWS(bytes, (i &+ 1)..<line.upperBound)
        for j in value {
            let b = bytes[j]
            if !HTTPSyntax.isFieldValueChar(b) {
                if b == HTTPSyntax.cr { return .failure(.badRequest("bare CR")) }
                return .failure(.badRequest("invalid character in field value"))
            }
        }
        return .success(HTTPHeaderField(name: name, value: value))
    }

    /// Records the framing-relevant meaning of one validated field.
    mutating func add(_ field: HTTPHeaderField, _ bytes: UnsafeRawBufferPointer) -> HTTPParseError? {
        let name = field.name
        switch name.count {
        case 4 where HTTPSyntax.equalsLowercase(bytes, name, "host") && self.kind == .request:
            self.hostCount += 1
            guard self.hostCount == 1 else { return .badRequest("multiple Host") }
            guard Self.isValidHost(bytes, field.value) else { return .badRequest("invalid Host") }
            self.hostRange = field.value
        case 13 where HTTPSyntax.equalsLowercase(bytes, name, "authorization") && self.kind == .request:
            // A singleton field (RFC 9110 §11.6.2). Two would let a route
            // verify one token while the backend reads the other.
            self.authorizationCount += 1
            guard self.authorizationCount == 1 else { return .badRequest("multiple Authorization") }
        case 6 where HTTPSyntax.equalsLowercase(bytes, name, "expect") && self.kind == .request:
            // 100-continue is the only expectation defined (RFC 9110 §10.1.1).
            if HTTPSyntax.equalsLowercase(bytes, field.value, "100-continue") {
                self.expectsContinue = true
            }
        case 10 where HTTPSyntax.equalsLowercase(bytes, name, "connection"):
            return self.addConnection(field.value, bytes)
        case 14 where HTTPSyntax.equalsLowercase(bytes, name, "content-length"):
            return self.addContentLength(field.value, bytes)
        case 17 where HTTPSyntax.equalsLowercase(bytes, name, "transfer-encoding"):
            return self.addTransferEncoding(field.value, bytes)
        default:
            break
        }
        return nil
    }

    private mutating func addConnection(_ value: Range<Int>, _ bytes: UnsafeRawBufferPointer) -> HTTPParseError? {
        var error: HTTPParseError? = nil
        HTTPSyntax.forEachListElement(bytes, value) { element in
            if element.isEmpty { return true }
            guard HTTPSyntax.isToken(bytes, element) else {
                error = .badRequest("invalid Connection option")
                return false
            }
            guard self.connection.append(element) else {
                error = .badRequest("too many Connection options")
                return false
            }
            if HTTPSyntax.equalsLowercase(bytes, element, "close") {
                self.connection.containsClose = true
            } else if HTTPSyntax.equalsLowercase(bytes, element, "keep-alive") {
                self.connection.containsKeepAlive = true
            } else if HTTPSyntax.equalsLowercase(bytes, element, "upgrade") {
                self.connection.containsUpgrade = true
            }
            return true
        }
        return error
    }

    /// RFC 9110 §8.6 / RFC 9112 §6.3: a Content-Length that is a list or repeated is only
    /// acceptable when every value is identical. Requests are stricter still: any repetition
    /// is rejected (llhttp does the same, and a client never needs it). Responses accept
    /// identical repetitions, which some backends emit.
    private mutating func addContentLength(_ value: Range<Int>, _ bytes: UnsafeRawBufferPointer) -> HTTPParseError? {
        self.contentLengthLines += 1
        var error: HTTPParseError? = nil
        var elements = 0
        HTTPSyntax.forEachListElement(bytes, value) { element in
            elements += 1
            guard !element.isEmpty else {
                error = .badRequest("empty Content-Length")
                return false
            }
            guard let length = HTTPSyntax.parseDecimal(bytes, element) else {
                let allDigits = element.allSatisfy { HTTPSyntax.isDigit(bytes[$0]) }
                error = .badRequest(allDigits ? "Content-Length overflow" : "invalid Content-Length")
                return false
            }
            if let existing = self.contentLength {
                if self.kind == .request || existing != length {
                    error = .badRequest("multiple Content-Length")
                    return false
                }
            }
            self.contentLength = length
            return true
        }
        if error == nil, self.kind == .request, elements > 1 {
            error = .badRequest("multiple Content-Length")
        }
        return error
    }

    /// Known transfer-codings (RFC 9110 §18.7 registry): chunked, compress, deflate, gzip and
    /// the x- aliases. `identity` was removed by RFC 7230 and counts as unknown.
    private mutating func addTransferEncoding(_ value: Range<Int>, _ bytes: UnsafeRawBufferPointer) -> HTTPParseError? {
        self.sawTransferEncoding = true
        var error: HTTPParseError? = nil
        HTTPSyntax.forEachListElement(bytes, value) { element in
            // Empty elements are legal list syntax but never useful here, and parsers disagree
            // on them; in a framing header a disagreement is a smuggling vector.
            guard !element.isEmpty else {
                error = .badRequest("empty transfer-coding")
                return false
            }
            guard HTTPSyntax.isToken(bytes, element) else {
                let hasParameters = element.contains { bytes[$0] == HTTPSyntax.semicolon }
                error = .badRequest(hasParameters ? "transfer-coding parameters" : "invalid transfer-coding")
                return false
            }
            if HTTPSyntax.equalsLowercase(bytes, element, "chunked") {
                // RFC 9112 §6.1: chunked MUST NOT be applied more than once.
                guard !self.sawChunked else {
                    error = .badRequest("chunked applied more than once")
                    return false
                }
                self.sawChunked = true
                self.finalCodingIsChunked = true
                return true
            }
            self.finalCodingIsChunked = false
            if !(HTTPSyntax.equalsLowercase(bytes, element, "gzip")
                || HTTPSyntax.equalsLowercase(bytes, element, "deflate")
                || HTTPSyntax.equalsLowercase(bytes, element, "compress")
                || HTTPSyntax.equalsLowercase(bytes, element, "x-gzip")
                || HTTPSyntax.equalsLowercase(bytes, element, "x-compress"))
            {
                self.sawUnknownCoding = true
            }
            return true
        }
        return error
    }

    /// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2), checked by character class only:
    /// unreserved, sub-delims, pct-encoded, ":" and the IP-literal brackets. An empty value
    /// is allowed (RFC 9112 §3.2).
    static func isValidHost(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>) -> Bool {
        var i = value.lowerBound
        while i < value.upperBound {
            let b = bytes[i]
            if HTTPSyntax.isUnreserved(b) || HTTPSyntax.isSubDelim(b) || b == HTTPSyntax.colon || b == 0x5B || b == 0x5D
            {
                i &+= 1
            } else if b == HTTPSyntax.percent {
                guard i &+ 2 < value.upperBound, HTTPSyntax.hexValue(bytes[i &+ 1]) != nil,
                    HTTPSyntax.hexValue(bytes[i &+ 2]) != nil
                else { return false }
                i &+= 3
            } else {
                return false
            }
        }
        return true
    }
}
