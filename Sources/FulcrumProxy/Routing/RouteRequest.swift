import FulcrumCore

/// What the ``Router`` reads from one request.
///
/// The proxy builds one per request from the parsed head, on the event loop,
/// and drops it after routing; it is not `Sendable` because ``header`` may
/// read the connection's buffers. Only ``header`` is consulted lazily, so a
/// request whose routes never look at headers never materialises one.
public struct RouteRequest {
    /// The method token as sent, such as `GET`.
    public var method: String
    /// The `Host` header's value as sent (the router strips the port and
    /// compares case-insensitively), or `nil` when there is none.
    public var host: String?
    /// The request-target's path, without the query, as sent: not
    /// percent-decoded and not normalised (`/a/../b` stays so), as Envoy
    /// does without `normalize_path`.
    public var path: String
    /// The raw query string without the `?`, or `nil` when the target has none.
    public var query: String?
    /// The first value of the header with that name, compared
    /// case-insensitively, or `nil` when it is absent.
    ///
    /// The router asks with names as written in the configuration. For
    /// `Cookie` the source should return every `Cookie` field line joined by
    /// `"; "`, as RFC 9113 §8.2.3 does when it recombines HTTP/2 cookie
    /// crumbs; ``init(method:host:path:query:headers:clientAddress:)`` does.
    public var header: (String) -> String?
    /// The client's address, for `split_key: ip`.
    public var clientAddress: ClientAddress?

    public init(
        method: String,
        host: String?,
        path: String,
        query: String? = nil,
        clientAddress: ClientAddress? = nil,
        header: @escaping (String) -> String?
    ) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.header = header
        self.clientAddress = clientAddress
    }

    /// A request whose headers are a list of field lines, in order.
    ///
    /// Lookups scan the list (headers are few); `Cookie` lines are joined by
    /// `"; "`. `host` defaults to the first `Host` line.
    public init(
        method: String = "GET",
        host: String? = nil,
        path: String,
        query: String? = nil,
        headers: [(name: String, value: String)] = [],
        clientAddress: ClientAddress? = nil
    ) {
        let host = host ?? headers.first { ASCII.equalsIgnoringCase($0.name, "host") }?.value
        self.init(method: method, host: host, path: path, query: query, clientAddress: clientAddress) { name in
            if ASCII.equalsIgnoringCase(name, "cookie") {
                let lines = headers.filter { ASCII.equalsIgnoringCase($0.name, "cookie") }
                return lines.isEmpty ? nil : lines.map(\.value).joined(separator: "; ")
            }
            return headers.first { ASCII.equalsIgnoringCase($0.name, name) }?.value
        }
    }

    /// A request from its request-target in origin form: the part before `?`
    /// is the path, the part after it the query.
    public init(
        method: String = "GET",
        host: String? = nil,
        target: String,
        headers: [(name: String, value: String)] = [],
        clientAddress: ClientAddress? = nil
    ) {
        let path: String
        let query: String?
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(target[..<mark])
            query = String(target[target.utf8.index(after: mark)...])
        } else {
            path = target
            query = nil
        }
        self.init(method: method, host: host, path: path, query: query, headers: headers, clientAddress: clientAddress)
    }
}
