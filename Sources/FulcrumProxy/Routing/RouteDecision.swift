/// Where the ``Router`` sends one request.
public enum RouteDecision: Sendable, Hashable {
    /// Proxy to this cluster. `route` is the matched route's name, for logs
    /// and metrics; `nil` when the route has no name or when no route matched
    /// and the listener's `default_cluster` took the request.
    case cluster(String, route: String?)
    /// No route matched and the listener has no `default_cluster`: answer 404.
    case noRoute
    /// A route whose other conditions held verifies JWTs, and the request's
    /// token is not genuine or not current: answer 401 (RFC 6750
    /// `invalid_token`). `reason` is for the log, not the client.
    case unauthorized(route: String?, reason: String)
}
