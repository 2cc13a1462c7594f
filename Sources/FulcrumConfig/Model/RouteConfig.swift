/// A routing rule: when every condition in ``match`` holds, the request goes
/// to ``target``. Routes are evaluated in file order and the first match wins.
public struct RouteConfig: Sendable, Hashable {
    /// Where a matching request goes.
    public enum Target: Sendable, Hashable {
        /// One cluster.
        case cluster(String)
        /// Weighted clusters, for A/B tests and canaries. Each request picks a
        /// cluster with probability weight / Σ weights, or by ``RouteConfig/splitKey``.
        case split([WeightedCluster])
    }

    /// For logs and metrics; `nil` when not given. Names are unique.
    public var name: String?
    /// Conditions that must all hold. The default, no conditions, matches every request.
    public var match: RouteMatch
    public var target: Target
    /// Makes a split sticky: requests with the same key value go to the same
    /// cluster. `nil` (the default) splits each request independently.
    public var splitKey: RequestKey?
    /// Header handling for requests on this route.
    public var headers: RouteHeaders

    public init(
        name: String? = nil,
        match: RouteMatch = RouteMatch(),
        target: Target,
        splitKey: RequestKey? = nil,
        headers: RouteHeaders = .defaults
    ) {
        self.name = name
        self.match = match
        self.target = target
        self.splitKey = splitKey
        self.headers = headers
    }

    /// Every cluster the route can send to.
    public var clusterNames: [String] {
        switch target {
        case .cluster(let name): [name]
        case .split(let parts): parts.map(\.cluster)
        }
    }
}

/// One arm of a split.
public struct WeightedCluster: Sendable, Hashable {
    public var cluster: String
    /// 0–10000. 0 keeps the arm in the file with no traffic.
    public var weight: Int

    public static let weightRange = 0...10_000

    public init(cluster: String, weight: Int) {
        self.cluster = cluster
        self.weight = weight
    }
}

/// Per-route request header handling.
public struct RouteHeaders: Sendable, Hashable {
    /// Add an RFC 7239 `Forwarded` header. Default false.
    public var forwarded: Bool
    /// Append the client address to `X-Forwarded-For` (and set
    /// `X-Forwarded-Proto`). Default true.
    public var xForwardedFor: Bool
    /// Add `X-Request-Id` when the request has none. Default true.
    public var requestID: Bool
    /// Send the client's `Host` to the backend rather than the backend's
    /// address. Default true.
    public var preserveHost: Bool

    public static var defaults: Self { .init() }

    public init(forwarded: Bool = false, xForwardedFor: Bool = true, requestID: Bool = true, preserveHost: Bool = true)
    {
        self.forwarded = forwarded
        self.xForwardedFor = xForwardedFor
        self.requestID = requestID
        self.preserveHost = preserveHost
    }
}

/// A route's conditions. Absent conditions hold for every request.
public struct RouteMatch: Sendable, Hashable {
    public var host: HostMatch?
    public var path: PathMatch?
    /// Every one must hold.
    public var headers: [NamedMatch]
    public var query: [NamedMatch]
    public var cookies: [NamedMatch]
    public var jwt: JWTMatch?

    public init(
        host: HostMatch? = nil,
        path: PathMatch? = nil,
        headers: [NamedMatch] = [],
        query: [NamedMatch] = [],
        cookies: [NamedMatch] = [],
        jwt: JWTMatch? = nil
    ) {
        self.host = host
        self.path = path
        self.headers = headers
        self.query = query
        self.cookies = cookies
        self.jwt = jwt
    }

    /// Whether there are no conditions at all.
    public var matchesEverything: Bool {
        host == nil && path == nil && headers.isEmpty && query.isEmpty && cookies.isEmpty && jwt == nil
    }
}

/// The `Host` header (without its port), compared case-insensitively. Stored
/// in lowercase.
public enum HostMatch: Sendable, Hashable, CustomStringConvertible {
    /// `api.example.com`.
    case exact(String)
    /// `*.example.com`, stored as `.example.com`: any host that ends with
    /// the suffix and has at least one more character before it.
    case suffix(String)

    public var description: String {
        switch self {
        case .exact(let host): host
        case .suffix(let suffix): "*" + suffix
        }
    }
}

/// The request path, without the query.
public enum PathMatch: Sendable, Hashable {
    /// Starts with this; `/api` matches `/api`, `/api/x` and `/apix`.
    case prefix(String)
    case exact(String)
    /// A regular expression (Swift `Regex` syntax), searched in the path;
    /// anchor it with `^` and `$` to match the whole path.
    case regex(String)
}

/// A condition on a value found by name: a header, query parameter or cookie,
/// or a JWT claim.
public enum ValueMatch: Sendable, Hashable {
    case exact(String)
    case prefix(String)
    /// Searched in the value, as ``PathMatch/regex(_:)``.
    case regex(String)
    /// `true`: the value is present, whatever it is; `false`: it is absent.
    case present(Bool)
}

/// A header, query parameter or cookie condition.
public struct NamedMatch: Sendable, Hashable {
    /// For headers, compared case-insensitively.
    public var name: String
    public var value: ValueMatch

    public init(name: String, value: ValueMatch) {
        self.name = name
        self.value = value
    }
}

/// A condition on a claim in the payload of a bearer JWT.
public struct JWTMatch: Sendable, Hashable {
    /// The claim, such as `tenant`; its value is compared as text.
    public var claim: String
    public var value: ValueMatch
    /// The header that carries `Bearer <token>`. Default `Authorization`.
    public var header: String
    /// How to check the token's signature, or `nil` (the default) to match on
    /// the claims without verifying them, which is for routing only: never
    /// for access control.
    public var verification: JWTVerification?

    public static let defaultHeader = "Authorization"

    public init(claim: String, value: ValueMatch, header: String = defaultHeader, verification: JWTVerification? = nil)
    {
        self.claim = claim
        self.value = value
        self.header = header
        self.verification = verification
    }
}

/// Keys for verifying JWT signatures. At least one is set; a token signed
/// with either algorithm is accepted when both are.
public struct JWTVerification: Sendable, Hashable {
    /// The shared secret for HS256.
    public var hs256Secret: String?
    /// A PEM file with the RSA public key for RS256, as written in the file
    /// (relative paths are relative to the configuration file's directory).
    public var rs256PublicKeyFile: String?
    /// That file's text, read when the configuration was loaded.
    public var rs256PublicKeyPEM: String?

    public init(hs256Secret: String? = nil, rs256PublicKeyFile: String? = nil, rs256PublicKeyPEM: String? = nil) {
        self.hs256Secret = hs256Secret
        self.rs256PublicKeyFile = rs256PublicKeyFile
        self.rs256PublicKeyPEM = rs256PublicKeyPEM
    }
}
