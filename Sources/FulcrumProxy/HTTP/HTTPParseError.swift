/// Why an HTTP/1.1 message head or body could not be framed.
///
/// Parse errors are values, not traps: everything that reaches these parsers comes from
/// the network. `status` is the status code the proxy should answer with; `reason` is a
/// short, fixed, ASCII description for logs and metrics labels (never echo it to clients
/// with request bytes interpolated, it never contains any).
///
/// Request parsers produce 400, 414, 431, 501 or 505. The response parser reports every
/// failure with status 502, because a malformed backend response is the gateway's problem,
/// not the client's.
public struct HTTPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The HTTP status code to respond with (400, 414, 431, 501, 505, or 502 for responses).
    public var status: Int
    /// A short fixed description such as `"obs-fold in header"`.
    public var reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(self.status) \(self.reason)" }

    static func badRequest(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 400, reason: reason)
    }

    static func headTooLarge(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 431, reason: reason)
    }

    /// The same reason, re-labelled as a bad-gateway failure (for backend responses).
    var asBadGateway: HTTPParseError {
        HTTPParseError(status: 502, reason: self.reason)
    }
}
