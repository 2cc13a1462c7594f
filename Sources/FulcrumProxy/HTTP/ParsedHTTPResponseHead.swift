/// A parsed HTTP/1.x response head from a backend: byte ranges plus framing facts.
public struct ParsedHTTPResponseHead: Hashable, Sendable {
    public var version: HTTP1Version
    /// The three-digit status code (100...599).
    public var statusCode: Int
    /// The reason-phrase (possibly empty); clients should ignore it (RFC 9112 §4).
    public var reasonRange: Range<Int>
    /// Bytes up to and including the final CRLFCRLF: where the body starts.
    public var headLength: Int
    /// The number of header fields (the first `headerCount` elements of the storage).
    public var headerCount: Int
    /// The Content-Length value, nil when absent or overridden by chunked.
    public var contentLength: Int?
    /// Whether the final transfer-coding is chunked.
    public var isChunked: Bool
    /// Whether a Transfer-Encoding is present whose final coding is not chunked; such a
    /// body is delimited by the connection closing (RFC 9112 §6.3 rule 4).
    public var hasNonChunkedTransferEncoding: Bool
    /// Whether the backend connection may be reused after this response, ignoring body
    /// framing (see ``keepAlive(requestMethod:)``): HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    public var connectionKeepAlive: Bool
    /// The options listed in `Connection`, for hop-by-hop removal.
    public var connectionTokens: HTTPConnectionTokens

    /// Whether this is an interim (1xx) response, for example 100 Continue or 103 Early
    /// Hints: forward it and keep waiting for the final head. 101 Switching Protocols is
    /// also 1xx but ends HTTP on the connection; check for it before treating it as interim.
    public var isInformational: Bool { (100..<200).contains(self.statusCode) }

    /// How the response body is framed, given the method of the request it answers
    /// (RFC 9112 §6.3):
    /// 1. HEAD requests, 1xx, 204 and 304 responses have no body, whatever the headers say.
    ///    A 2xx answer to CONNECT also has none: the connection becomes a tunnel, which the
    ///    caller handles.
    /// 2. Chunked when `chunked` is the final transfer-coding.
    /// 3. Read until close when another transfer-coding is final.
    /// 4. Content-Length when present.
    /// 5. Otherwise read until close.
    public func bodyMode(requestMethod: HTTPRequestMethod) -> HTTPBodyFramer.Mode {
        if requestMethod == .head || self.isInformational || self.statusCode == 204 || self.statusCode == 304 {
            return .none
        }
        if requestMethod == .connect && (200..<300).contains(self.statusCode) {
            return .none
        }
        if self.isChunked { return .chunked }
        if self.hasNonChunkedTransferEncoding { return .untilClose }
        if let length = self.contentLength { return length == 0 ? .none : .contentLength(length) }
        return .untilClose
    }

    /// Whether the backend connection can be reused after this response: the headers allow
    /// it and the body is not delimited by the connection closing.
    public func keepAlive(requestMethod: HTTPRequestMethod) -> Bool {
        guard self.connectionKeepAlive else { return false }
        if case .untilClose = self.bodyMode(requestMethod: requestMethod) { return false }
        return true
    }
}
