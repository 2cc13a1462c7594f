import NIOCore

/// A parsed request head as the router, hash keys and the access log read
/// it: the head's bytes as received, with the parser's ranges into them.
///
/// Nothing is decoded until asked for, so a listener whose routes never look
/// at a header never turns one into a `String`. Names compare
/// case-insensitively, as field names do (RFC 9110 §5.1).
public struct HTTPRequestView {
    /// The head's bytes, from the request-line's first byte (offset 0 of
    /// every range) to the blank line that ends it.
    let bytes: ByteBuffer
    let head: ParsedHTTPRequestHead
    let fields: [HTTPHeaderField]

    init(bytes: ByteBuffer, head: ParsedHTTPRequestHead, fields: [HTTPHeaderField]) {
        self.bytes = bytes
        self.head = head
        self.fields = fields
    }

    /// The method token as sent, such as `GET`.
    public var method: String { string(head.methodRange) }

    /// The request-target as sent.
    public var target: String { string(head.targetRange) }

    /// The request-target's path: the target up to its `?`, as sent (not
    /// percent-decoded or normalised). For an absolute-form target
    /// (`http://example.com/a?b`, as clients send to a proxy) it is the part
    /// after the authority, `/` when that is empty, as nginx and HAProxy
    /// route it.
    public var path: String {
        let (authority, end) = (absoluteAuthority, queryStart.map { $0 - 1 } ?? head.targetRange.upperBound)
        guard let authority else { return string(head.targetRange.lowerBound..<end) }
        return authority.upperBound < end ? string(authority.upperBound..<end) : "/"
    }

    /// The query after the target's `?`, without it; nil when there is none.
    public var query: String? {
        queryStart.map { string($0..<head.targetRange.upperBound) }
    }

    /// Where the query starts, just past the target's first `?`.
    private var queryStart: Int? {
        bytes.withUnsafeReadableBytes { raw in
            head.targetRange.first { raw[$0] == UInt8(ascii: "?") }.map { $0 + 1 }
        }
    }

    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String { head.version == .http1_1 ? "HTTP/1.1" : "HTTP/1.0" }

    /// The host the request is for: the `Host` value, trimmed (nil for an
    /// HTTP/1.0 request without one), or the authority of an absolute-form
    /// target, which a server must use instead of `Host` (RFC 9112 §3.2.2).
    public var host: String? { (absoluteAuthority ?? head.hostRange).map(string) }

    /// The authority of an absolute-form target (`example.com:8080` in
    /// `http://example.com:8080/a`); nil for the other forms. The parser has
    /// checked the target's syntax, so this only finds the boundaries.
    private var absoluteAuthority: Range<Int>? {
        let target = head.targetRange
        guard head.method != .connect else { return nil }
        return bytes.withUnsafeReadableBytes { raw in
            guard let first = target.first, raw[first] != UInt8(ascii: "/"), raw[first] != UInt8(ascii: "*") else {
                return nil
            }
            guard let colon = target.first(where: { raw[$0] == UInt8(ascii: ":") }) else { return nil }
            let start = colon + 3
            let end = target[start...].first { raw[$0] == UInt8(ascii: "/") || raw[$0] == UInt8(ascii: "?") } ?? target.upperBound
            return start..<end
        }
    }

    /// The first value of the field named `name`, or nil.
    public func header(_ name: String) -> String? {
        firstField(named: name).map { string($0.value) }
    }

    /// Every value of the fields named `name`, in order.
    public func headers(_ name: String) -> [String] {
        fields.prefix(head.headerCount).filter { matches($0, name) }.map { string($0.value) }
    }

    /// `Cookie` lines joined by `"; "` (RFC 9113 §8.2.3), or nil.
    public var cookieHeader: String? {
        let lines = headers("cookie")
        return lines.count <= 1 ? lines.first : lines.joined(separator: "; ")
    }

    func firstField(named name: String) -> HTTPHeaderField? {
        fields.prefix(head.headerCount).first { matches($0, name) }
    }

    private func matches(_ field: HTTPHeaderField, _ name: String) -> Bool {
        bytes.withUnsafeReadableBytes { raw in
            ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: raw[field.name]), name.utf8)
        }
    }

    func string(_ range: Range<Int>) -> String {
        bytes.withUnsafeReadableBytes { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
        }
    }
}
