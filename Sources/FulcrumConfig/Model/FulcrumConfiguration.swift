/// A whole `fulcrum.yaml`: validated, with every default filled in.
///
/// Obtain one from ``ConfigLoader``, which checks everything the proxy relies
/// on: names, ranges, references between routes and clusters, listener
/// clashes. The model mirrors the file; ``ClusterConfig/makeSettings()`` and
/// ``ClusterConfig/makeBackends()`` convert a cluster to FulcrumCore's
/// working types.
public struct FulcrumConfiguration: Sendable, Hashable {
    /// Where clients connect. At least one.
    public var listeners: [ListenerConfig]
    /// Evaluated in order; the first whose match holds picks the cluster.
    public var routes: [RouteConfig]
    /// In file order, with unique names. At least one.
    public var clusters: [ClusterConfig]
    /// Client-side and shutdown timeouts.
    public var timeouts: ClientTimeouts

    public init(
        listeners: [ListenerConfig] = [],
        routes: [RouteConfig] = [],
        clusters: [ClusterConfig] = [],
        timeouts: ClientTimeouts = .defaults
    ) {
        self.listeners = listeners
        self.routes = routes
        self.clusters = clusters
        self.timeouts = timeouts
    }

    /// The cluster of that name, or `nil`.
    /// - Complexity: O(n) in the number of clusters.
    public func cluster(named name: String) -> ClusterConfig? {
        clusters.first { $0.name == name }
    }
}

/// Timeouts on the client side of every listener, and for shutdown.
public struct ClientTimeouts: Sendable, Hashable {
    /// The longest a client may take to send a request's headers. Default 10 s.
    public var clientHeader: Duration
    /// How long a keep-alive client connection may sit idle. Default 60 s.
    public var clientIdle: Duration
    /// On shutdown or reload, how long requests in flight get to finish
    /// before their connections are closed; 0 closes at once. Default 30 s.
    public var drain: Duration

    public static var defaults: Self { .init() }

    public init(
        clientHeader: Duration = .seconds(10),
        clientIdle: Duration = .seconds(60),
        drain: Duration = .seconds(30)
    ) {
        self.clientHeader = clientHeader
        self.clientIdle = clientIdle
        self.drain = drain
    }
}
