/// The request methods the proxy treats specially, and `.other` for any other method token.
///
/// The method's bytes are always available as `ParsedHTTPRequestHead.methodRange`; this
/// enum only saves the caller a comparison for the common ones.
public enum HTTPRequestMethod: Hashable, Sendable {
    case get, head, post, put, delete, options, patch, connect, trace
    /// Any other (extension) method; RFC 9110 methods are case-sensitive tokens.
    case other

    /// Classifies a method token. Method names are case-sensitive (RFC 9110 §9.1), so
    /// `get` is `.other`.
    static func classify(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> HTTPRequestMethod {
        func equals(_ literal: StaticString) -> Bool {
            guard literal.utf8CodeUnitCount == range.count else { return false }
            let l = literal.utf8Start
            for i in 0..<range.count where bytes[range.lowerBound + i] != l[i] {
                return false
            }
            return true
        }
        switch range.count {
        case 3:
            if equals("GET") { return .get }
            if equals("PUT") { return .put }
        case 4:
            if equals("POST") { return .post }
            if equals("HEAD") { return .head }
        case 5:
            if equals("PATCH") { return .patch }
            if equals("TRACE") { return .trace }
        case 6:
            if equals("DELETE") { return .delete }
        case 7:
            if equals("OPTIONS") { return .options }
            if equals("CONNECT") { return .connect }
        default:
            break
        }
        return .other
    }
}
