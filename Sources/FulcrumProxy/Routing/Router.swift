import FulcrumConfig
import FulcrumCore

/// The L7 request router: a listener's routes, compiled once, that pick each
/// request's cluster.
///
/// Routes are evaluated in order and the first whose every condition holds
/// wins; absent conditions hold for every request. When none matches, the
/// listener's `default_cluster` takes the request, or ``RouteDecision/noRoute``
/// tells the proxy to answer 404. The conditions' semantics are documented on
/// the compiled forms: ``HostCondition`` (port stripped, case-insensitive,
/// `*.example.com` matches any depth below but not `example.com`),
/// ``ValueCondition`` (byte-exact, prefix, searched regex, presence),
/// ``QueryString``, ``CookieHeader`` and ``JWTCondition``. Paths are matched as
/// sent, without percent-decoding or normalisation.
///
/// A router is an immutable value: build it off the event loop (regexes
/// compile here) and share it between event loops; a reload builds a new one.
public struct Router: Sendable {
    let routes: [CompiledRoute]
    /// For requests no route matches.
    public let defaultCluster: String?

    /// Compiles routes: regexes are built here, so a bad pattern fails now.
    ///
    /// - Throws: ``RouterError`` for a regex that does not compile, a split
    ///   with no weight (``FulcrumConfig`` rejects both at load, but routes
    ///   can be built in code), or a JWT verification key that is not one.
    /// - Complexity: O(total size of the routes), plus compiling each regex.
    public init(routes: [RouteConfig], defaultCluster: String?) throws(RouterError) {
        var compiled: [CompiledRoute] = []
        compiled.reserveCapacity(routes.count)
        for (index, route) in routes.enumerated() {
            compiled.append(try CompiledRoute(route, index: index))
        }
        self.routes = compiled
        self.defaultCluster = defaultCluster
    }

    /// The router for one listener of a configuration: every route, and the
    /// listener's `default_cluster`.
    public init(configuration: FulcrumConfiguration, listener: ListenerConfig) throws(RouterError) {
        try self.init(routes: configuration.routes, defaultCluster: listener.defaultCluster)
    }

    /// Where `request` goes.
    ///
    /// - Parameter random: draws the arm of a split without `split_key` (and
    ///   of a sticky split whose key the request lacks). Pass the event loop's
    ///   generator in the proxy and a seeded one in tests; routes without
    ///   splits never touch it.
    /// - Complexity: O(routes × conditions) in the worst case; each condition
    ///   is a linear scan of the value it reads, with no allocation except to
    ///   percent-decode a query value, to decode a JWT (once per request per
    ///   header), and inside Swift `Regex` matching.
    public func route(_ request: RouteRequest, random: inout FastRandom) -> RouteDecision {
        decide(request, random: &random).decision
    }

    /// Where `request` goes, with the header handling of the route that
    /// matched (the defaults when the listener's `default_cluster` took it).
    public func decide(_ request: RouteRequest, random: inout FastRandom) -> (decision: RouteDecision, headers: RouteHeaders) {
        var tokens = TokenCache()
        for route in routes {
            switch route.evaluate(request, tokens: &tokens) {
            case .fails: continue
            case .refused(let failure): return (.unauthorized(route: route.name, reason: failure.description), .defaults)
            case .holds: break
            }
            switch route.target {
            case .cluster(let cluster):
                return (.cluster(cluster, route: route.name), route.headerHandling)
            case .split(let split):
                return (.cluster(split.pick(request, random: &random), route: route.name), route.headerHandling)
            }
        }
        if let defaultCluster { return (.cluster(defaultCluster, route: nil), .defaults) }
        return (.noRoute, .defaults)
    }
}

/// Bearer tokens decoded for one request, by header name: decoded when a JWT
/// condition first asks, then shared by the following ones.
struct TokenCache {
    private var header: String?
    private var token = BearerToken.none

    mutating func token(in headerName: String, of request: RouteRequest) -> BearerToken {
        if let header, ASCII.equalsIgnoringCase(header, headerName) { return token }
        header = headerName
        token = BearerToken(headerValue: request.header(headerName))
        return token
    }
}

/// One route with its conditions compiled.
struct CompiledRoute: Sendable {
    enum Target: Sendable {
        case cluster(String)
        case split(SplitTarget)
    }

    let name: String?
    let host: HostCondition?
    let path: ValueCondition?
    let headers: [(name: String, condition: ValueCondition)]
    let query: [(name: String, condition: ValueCondition)]
    let cookies: [(name: String, condition: ValueCondition)]
    let jwt: JWTCondition?
    let target: Target
    /// What the proxy adds or keeps in the request's headers.
    let headerHandling: RouteHeaders

    init(_ route: RouteConfig, index: Int) throws(RouterError) {
        let what = route.name.map { "route '\($0)'" } ?? "route \(index + 1)"
        let match = route.match
        name = route.name
        headerHandling = route.headers
        host = match.host.map(HostCondition.init)
        path = try match.path.map { (path) throws(RouterError) in try ValueCondition(path, what: what + ": path") }
        headers = try Self.compile(match.headers, what: what + ": header")
        query = try Self.compile(match.query, what: what + ": query parameter")
        cookies = try Self.compile(match.cookies, what: what + ": cookie")
        jwt = try match.jwt.map { (jwt) throws(RouterError) in try JWTCondition(jwt, what: what) }
        switch route.target {
        case .cluster(let cluster):
            target = .cluster(cluster)
        case .split(let arms):
            target = .split(try SplitTarget(arms, key: route.splitKey, what: what))
        }
    }

    private static func compile(
        _ matches: [NamedMatch],
        what: String
    ) throws(RouterError) -> [(name: String, condition: ValueCondition)] {
        var compiled: [(name: String, condition: ValueCondition)] = []
        for match in matches {
            compiled.append((match.name, try ValueCondition(match.value, what: "\(what) \(match.name)")))
        }
        return compiled
    }

    /// Whether every condition holds; the cheapest are checked first, the
    /// JWT last, so that a verifying route refuses only requests it would
    /// otherwise have taken.
    func evaluate(_ request: RouteRequest, tokens: inout TokenCache) -> JWTCondition.Outcome {
        if let host, !host.holds(for: request.host) { return .fails }
        if let path, !path.holds(for: request.path) { return .fails }
        for (name, condition) in headers where !condition.holds(for: request.header(name)) {
            return .fails
        }
        for (name, condition) in query where !condition.holds(for: QueryString.value(named: name, in: request.query)) {
            return .fails
        }
        if !cookies.isEmpty {
            let header = request.header("Cookie")
            for (name, condition) in cookies where !condition.holds(for: CookieHeader.value(named: name, in: header)) {
                return .fails
            }
        }
        return jwt?.evaluate(tokens.token(in: jwt!.header, of: request)) ?? .holds
    }
}
