/// Reads one cookie from a `Cookie` header value (RFC 6265 §4.2.1:
/// `name=value` pairs separated by `; `) without splitting it into an array.
///
/// Parsing, leniently as browsers and Go's `net/http` read what clients send:
/// - Pairs are separated by `;`; whitespace (SP, HTAB) around a pair, and
///   around its name and value, is ignored, so `a=1;b=2` reads as `a=1; b=2`.
/// - A pair splits at its first `=`: in `t=a=b` the value of `t` is `a=b`. A
///   pair without `=` is not a cookie and is skipped. `a=` is the empty value.
/// - Names compare case-sensitively (RFC 6265 §5.3); a repeated name yields
///   its first value, which RFC 6265 §5.4 orders as the most specific.
/// - Values are as sent: neither percent-decoded nor unquoted (`"x"` keeps
///   its quotes).
package enum CookieHeader {
    /// The first value of the cookie `name` in `header`, or `nil` when absent.
    /// - Complexity: O(n) in the header's length; no allocation.
    package static func value(named name: String, in header: String?) -> Substring? {
        guard let header else { return nil }
        let bytes = header.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
            let pair = header[start..<end]
            if let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")),
                trimmed(pair[..<equals]).utf8.elementsEqual(name.utf8)
            {
                return trimmed(pair[pair.utf8.index(after: equals)...])
            }
            guard end < bytes.endIndex else { break }
            start = bytes.index(after: end)
        }
        return nil
    }

    /// `text` without leading and trailing SP and HTAB.
    static func trimmed(_ text: Substring) -> Substring {
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { !ASCII.isWhitespace($0) }),
            let last = bytes.lastIndex(where: { !ASCII.isWhitespace($0) })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}
