/// A parsed HTTP/1.x request head: byte ranges into the parser's input plus framing facts.
///
/// Nothing is copied; to read a component, slice the same bytes that were parsed. Header
/// fields live in the caller's storage array (see ``HTTPRequestHeadParser/parse(_:fields:)``).
public struct ParsedHTTPRequestHead: Hashable, Sendable {
    /// The method token.
    public var methodRange: Range<Int>
    /// The method, for the common ones.
    public var method: HTTPRequestMethod
    /// The request-target exactly as sent (origin-, absolute-, authority- or asterisk-form).
    public var targetRange: Range<Int>
    public var version: HTTP1Version
    /// Bytes from the start of the input up to and including the final CRLFCRLF, so the body
    /// (or the next pipelined request) starts at this offset. Includes skipped leading CRLFs.
    public var headLength: Int
    /// The number of header fields (they are the first `headerCount` elements of the storage).
    public var headerCount: Int
    /// The Content-Length value; nil when absent or when the body is chunked.
    public var contentLength: Int?
    /// Whether the body uses the chunked transfer coding (its final and only framing coding).
    public var isChunked: Bool
    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` and without `close`.
    public var keepAlive: Bool
    /// `Expect: 100-continue` in an HTTP/1.1 request (ignored for HTTP/1.0, RFC 9110 §10.1.1).
    public var expectsContinue: Bool
    /// The Host field value (trimmed); nil only for HTTP/1.0 requests without Host.
    public var hostRange: Range<Int>?
    /// The options listed in `Connection`, for hop-by-hop removal.
    public var connectionTokens: HTTPConnectionTokens

    /// How the request body is framed (RFC 9112 §6.3): chunked, a Content-Length, or no body.
    /// Requests never read until close. CONNECT's tunnel and upgrades are the caller's
    /// business once the head (and any declared body) has been forwarded.
    public var bodyMode: HTTPBodyFramer.Mode {
        if self.isChunked { return .chunked }
        if let length = self.contentLength, length > 0 { return .contentLength(length) }
        return .none
    }
}
