import FulcrumConfig

/// A compiled ``HostMatch``.
///
/// The request's `Host` value loses its port (`api.example.com:8443`,
/// `[::1]:8080` → `[::1]`) and one trailing dot (`example.com.`, the
/// fully qualified form, as nginx does) before it is compared, ASCII
/// case-insensitively, with the lowercase pattern.
///
/// A wildcard `*.example.com` (stored as the suffix `.example.com`) follows
/// nginx's `server_name *.example.com` and Envoy's virtual-host suffix
/// wildcards: it matches `a.example.com` and `a.b.example.com` (any number of
/// labels), but not `example.com` itself, which needs its own route.
enum HostCondition: Sendable {
    case exact(String)
    case suffix(String)

    init(_ match: HostMatch) {
        switch match {
        case .exact(let host): self = .exact(host.lowercased())
        case .suffix(let suffix): self = .suffix(suffix.lowercased())
        }
    }

    /// - Complexity: O(n) in the host's length; no allocation.
    func holds(for value: String?) -> Bool {
        guard let value else { return false }
        let host = Self.hostPart(of: value[...]).utf8
        switch self {
        case .exact(let pattern):
            return ASCII.equalsIgnoringCase(host, pattern.utf8)
        case .suffix(let suffix):
            return host.count > suffix.utf8.count && ASCII.hasSuffixIgnoringCase(host, lowercaseSuffix: suffix.utf8)
        }
    }

    /// The host without its port and without one trailing dot.
    static func hostPart(of value: Substring) -> Substring {
        let bytes = value.utf8
        var host: Substring
        if bytes.first == UInt8(ascii: "[") {
            // An IPv6 literal keeps its brackets, as the configuration writes it.
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return value }
            host = value[...close]
        } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            host = value[..<colon]
        } else {
            host = value
        }
        if host.utf8.count > 1, host.utf8.last == UInt8(ascii: ".") {
            host = host.dropLast()
        }
        return host
    }
}
