/// A streaming state machine that finds where an HTTP/1.1 message body ends, without
/// transforming it: the proxy forwards body bytes verbatim, chunk framing and trailers
/// included, and asks the framer only how many of them belong to the current message.
///
/// For chunked bodies it validates the framing strictly (RFC 9112 §7.1):
/// - chunk-size is `1*HEXDIG`; a size that does not fit in `Int` fails with 400;
/// - chunk extensions must follow `*( ";" token [ "=" ( token / quoted-string ) ] )`. RFC 9112
///   §7.1.1 also allows bad whitespace (BWS) around ";" and "=", and RFC 9110 §5.6.3 asks
///   recipients to remove it; we reject it instead (400), as llhttp does, because parsers
///   that disagree about whitespace in chunk lines have been used for request smuggling;
/// - the whole chunk-size line (extensions and CRLF included) may not exceed
///   `maxChunkSizeLineLength` bytes (400);
/// - every line ends in CRLF, chunk data is followed by CRLF;
/// - the last chunk (`0`) is followed by trailer field lines, checked with the same rules
///   as header fields (no obs-fold, token names, no whitespace before the colon, no CTLs),
///   at most `maxTrailerSize` bytes (431), and the final CRLF.
///
/// - Complexity: O(*n*) in the framing bytes; chunk data is skipped in O(1) per call.
public struct HTTPBodyFramer: Sendable {
    /// How a message body is delimited (RFC 9112 §6.3).
    public enum Mode: Hashable, Sendable {
        /// No body: the message ends with its head.
        case none
        /// Exactly this many bytes.
        case contentLength(Int)
        /// The chunked transfer coding, up to and including the trailer section.
        case chunked
        /// Everything until the peer closes the connection (responses only).
        case untilClose
    }

    private enum State: UInt8, Sendable {
        case contentLength
        case untilClose
        case complete
        case failed
        // chunk-size line
        case size
        case extBeforeName
        case extName
        case extBeforeValue
        case extTokenValue
        case extQuotedValue
        case extQuotedEscape
        case extAfterQuoted
        case sizeLF
        // chunk data and its CRLF
        case data
        case dataCR
        case dataLF
        // trailer section
        case trailerLineStart
        case trailerName
        case trailerValue
        case trailerLF
        case finalLF
    }

    public let mode: Mode
    public let limits: HTTPParserLimits
    private var state: State
    /// Content-Length or chunk bytes left.
    private var remaining: Int
    private var chunkSize = 0
    private var lineLength = 0
    private var trailerBytes = 0
    private var error: HTTPParseError? = nil
    /// Body payload bytes seen so far, excluding chunk framing and trailers.
    public private(set) var payloadBytes = 0

    public init(mode: Mode, limits: HTTPParserLimits = .defaults) {
        self.mode = mode
        self.limits = limits
        switch mode {
        case .none:
            self.state = .complete
            self.remaining = 0
        case .contentLength(let length):
            self.state = length > 0 ? .contentLength : .complete
            self.remaining = max(length, 0)
        case .chunked:
            self.state = .size
            self.remaining = 0
        case .untilClose:
            self.state = .untilClose
            self.remaining = 0
        }
    }

    /// Whether the body has ended.
    public var isComplete: Bool { self.state == .complete }

    /// Feeds the next bytes of the body.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) -> HTTPFramerResult {
        switch self.state {
        case .complete:
            return .messageComplete(consumed: 0)
        case .failed:
            return .failure(self.error!)
        case .untilClose:
            self.payloadBytes += bytes.count
            return .needMore(consumed: bytes.count)
        case .contentLength:
            let take = min(self.remaining, bytes.count)
            self.remaining -= take
            self.payloadBytes += take
            if self.remaining == 0 {
                self.state = .complete
                return .messageComplete(consumed: take)
            }
            return .needMore(consumed: take)
        default:
            return self.consumeChunked(bytes)
        }
    }

    /// Tells the framer the peer closed the connection. Ends an `.untilClose` body; for
    /// any other unfinished body it is a failure (a truncated message, status 400; a proxy
    /// reading a backend response reports it as 502).
    public mutating func connectionClosed() -> HTTPFramerResult {
        switch self.state {
        case .complete:
            return .messageComplete(consumed: 0)
        case .untilClose:
            self.state = .complete
            return .messageComplete(consumed: 0)
        case .failed:
            return .failure(self.error!)
        default:
            return self.fail(.badRequest("connection closed before end of body"))
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPFramerResult {
        self.state = .failed
        self.error = error
        return .failure(error)
    }

    private mutating func consumeChunked(_ bytes: UnsafeRawBufferPointer) -> HTTPFramerResult {
        var i = 0
        let count = bytes.count
        while i < count {
            if self.state == .data {
                let take = min(self.remaining, count - i)
                self.remaining -= take
                self.payloadBytes += take
                i += take
                if self.remaining == 0 { self.state = .dataCR }
                continue
            }
            let b = bytes[i]
            i += 1
            if self.state.rawValue >= State.size.rawValue && self.state.rawValue <= State.sizeLF.rawValue {
                self.lineLength += 1
                if self.lineLength > self.limits.maxChunkSizeLineLength {
                    return self.fail(.badRequest("chunk-size line too long"))
                }
            } else if self.state.rawValue >= State.trailerLineStart.rawValue {
                self.trailerBytes += 1
                if self.trailerBytes > self.limits.maxTrailerSize {
                    return self.fail(.headTooLarge("trailer section too large"))
                }
            }
            if let error = self.step(b) {
                return self.fail(error)
            }
            if self.state == .complete {
                return .messageComplete(consumed: i)
            }
        }
        return .needMore(consumed: count)
    }

    /// Advances the chunked state machine by one framing byte.
    private mutating func step(_ b: UInt8) -> HTTPParseError? {
        switch self.state {
        case .size:
            if let digit = HTTPSyntax.hexValue(b) {
                guard self.chunkSize <= (Int.max - digit) / 16 else { return .badRequest("chunk size overflow") }
                self.chunkSize = self.chunkSize * 16 + digit
                return nil
            }
            // At least one HEXDIG must precede anything else.
            guard self.lineLength > 1 else { return .badRequest("invalid chunk size") }
            return self.afterToken(b)
        case .extBeforeName:
            if HTTPSyntax.isTokenChar(b) {
                self.state = .extName
                return nil
            }
            return self.invalidExtension(b)
        case .extName:
            if HTTPSyntax.isTokenChar(b) { return nil }
            if b == HTTPSyntax.equals {
                self.state = .extBeforeValue
                return nil
            }
            return self.afterToken(b)
        case .extBeforeValue:
            if HTTPSyntax.isTokenChar(b) {
                self.state = .extTokenValue
                return nil
            }
            if b == HTTPSyntax.dquote {
                self.state = .extQuotedValue
                return nil
            }
            return self.invalidExtension(b)
        case .extTokenValue:
            if HTTPSyntax.isTokenChar(b) { return nil }
            return self.afterToken(b)
        case .extQuotedValue:
            if b == HTTPSyntax.dquote {
                self.state = .extAfterQuoted
                return nil
            }
            if b == HTTPSyntax.backslash {
                self.state = .extQuotedEscape
                return nil
            }
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            return HTTPSyntax.isFieldValueChar(b) ? nil : .badRequest("invalid chunk extension")
        case .extQuotedEscape:
            self.state = .extQuotedValue
            return HTTPSyntax.isFieldValueChar(b) ? nil : .badRequest("invalid chunk extension")
        case .extAfterQuoted:
            return self.afterToken(b)
        case .sizeLF:
            guard b == HTTPSyntax.lf else { return .badRequest("bare CR in chunk-size line") }
            self.lineLength = 0
            if self.chunkSize == 0 {
                self.state = .trailerLineStart
            } else {
                self.remaining = self.chunkSize
                self.chunkSize = 0
                self.state = .data
            }
            return nil
        case .dataCR:
            guard b == HTTPSyntax.cr else { return .badRequest("missing CRLF after chunk data") }
            self.state = .dataLF
            return nil
        case .dataLF:
            guard b == HTTPSyntax.lf else { return .badRequest("missing CRLF after chunk data") }
            self.state = .size
            return nil
        case .trailerLineStart:
            if b == HTTPSyntax.cr {
                self.state = .finalLF
                return nil
            }
            if HTTPSyntax.isTokenChar(b) {
                self.state = .trailerName
                return nil
            }
            if HTTPSyntax.isOWS(b) { return .badRequest("obs-fold in trailer") }
            if b == HTTPSyntax.lf { return .badRequest("bare LF") }
            return .badRequest("invalid trailer field name")
        case .trailerName:
            if HTTPSyntax.isTokenChar(b) { return nil }
            if b == HTTPSyntax.colon {
                self.state = .trailerValue
                return nil
            }
            if HTTPSyntax.isOWS(b) { return .badRequest("whitespace before colon") }
            return .badRequest("invalid trailer field name")
        case .trailerValue:
            if b == HTTPSyntax.cr {
                self.state = .trailerLF
                return nil
            }
            return HTTPSyntax.isFieldValueChar(b) ? nil : .badRequest("invalid character in field value")
        case .trailerLF:
            guard b == HTTPSyntax.lf else { return .badRequest("bare CR") }
            self.state = .trailerLineStart
            return nil
        case .finalLF:
            guard b == HTTPSyntax.lf else { return .badRequest("bare CR") }
            self.state = .complete
            return nil
        case .contentLength, .untilClose, .complete, .failed, .data:
            preconditionFailure("not a chunk framing state")
        }
    }

    /// Handles the byte after a token (size, extension name or value) in a chunk-size
    /// line: CR ends the line, ";" starts an extension.
    @inline(__always)
    private mutating func afterToken(_ b: UInt8) -> HTTPParseError? {
        if b == HTTPSyntax.cr {
            self.state = .sizeLF
            return nil
        }
        if b == HTTPSyntax.semicolon {
            self.state = .extBeforeName
            return nil
        }
        if self.state == .size && !HTTPSyntax.isOWS(b) { return .badRequest("invalid chunk size") }
        return self.invalidExtension(b)
    }

    @inline(__always)
    private func invalidExtension(_ b: UInt8) -> HTTPParseError {
        HTTPSyntax.isOWS(b) ? .badRequest("whitespace in chunk-size line") : .badRequest("invalid chunk extension")
    }
}
