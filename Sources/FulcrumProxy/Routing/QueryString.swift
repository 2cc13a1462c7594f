/// Reads parameters from a raw query string (`a=1&b=x%20y`) without building
/// a dictionary: routes ask for a few names, so each lookup is one scan.
///
/// Parsing, as the WHATWG URL standard's `application/x-www-form-urlencoded`
/// parser splits:
/// - Pairs are separated by `&`; empty pairs (`a=1&&b=2`) are skipped.
/// - A pair splits at its first `=`: in `a=b=c` the value of `a` is `b=c`. A
///   pair without `=` (`?debug`) has the empty value, so `present: true` holds.
/// - A repeated name (`a=1&a=2`) yields its first value, as Envoy's
///   query-parameter matcher does.
/// - Names and values are percent-decoded (`%41` → `A`) before they are
///   compared; `+` stays `+` (only HTML forms mean a space by it). A malformed
///   escape (`%4`, `%zz`) or an escape that decodes to invalid UTF-8 leaves
///   the text as sent.
package enum QueryString {
    /// The first value of the parameter `name`, or `nil` when it is absent.
    ///
    /// - Complexity: O(n) in the query's length. Allocates only to decode a
    ///   name or value that holds a `%` escape.
    package static func value(named name: String, in query: String?) -> Substring? {
        guard let query, !query.isEmpty else { return nil }
        let bytes = query.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.endIndex
            if start < end {
                let pair = query[start..<end]
                let equals = pair.utf8.firstIndex(of: UInt8(ascii: "="))
                let rawName = equals.map { pair[..<$0] } ?? pair
                if PercentDecoding.decode(rawName).utf8.elementsEqual(name.utf8) {
                    guard let equals else { return "" }
                    return PercentDecoding.decode(pair[pair.utf8.index(after: equals)...])
                }
            }
            guard end < bytes.endIndex else { break }
            start = bytes.index(after: end)
        }
        return nil
    }
}

/// RFC 3986 §2.1 percent-decoding.
enum PercentDecoding {
    /// `text` with its `%XX` escapes decoded; `text` itself when it has none,
    /// when an escape is malformed, or when the result is not valid UTF-8.
    static func decode(_ text: Substring) -> Substring {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                decoded.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return text
            }
            decoded.append(high << 4 | low)
        }
        guard let string = String(validating: decoded, as: UTF8.self) else { return text }
        return string[...]
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
