import FulcrumConfig
import FulcrumCore
import NIOCore

/// Where an HTTP listener sends each request: a list of clusters, each with
/// the proxy options it uses, and a choice function (the router).
public final class HTTPRouting: Sendable {
    /// One cluster as a route target.
    public struct Target: Sendable {
        public let name: String
        public let cluster: Cluster
        public let options: ProxyOptions

        public init(name: String, cluster: Cluster, options: ProxyOptions) {
            self.name = name
            self.cluster = cluster
            self.options = options
        }
    }

    /// Where one request goes: a target, and the matched route's header
    /// handling.
    public struct Choice: Sendable {
        public var target: Int
        public var headers: RouteHeaders
        /// Set when the request is refused rather than routed (a route that
        /// verifies JWTs met a token that is not genuine or current): the
        /// proxy answers 401 and logs this reason.
        public var unauthorized: String?

        public init(target: Int, headers: RouteHeaders = .defaults, unauthorized: String? = nil) {
            self.target = target
            self.headers = headers
            self.unauthorized = unauthorized
        }
    }

    public let targets: [Target]
    private let chooser: @Sendable (HTTPRequestView, ClientAddress?, inout FastRandom) -> Choice?

    /// Routes with `choose`, which returns a target index and header
    /// handling, or nil for a 404. The random source is the event loop's,
    /// for weighted splits.
    public init(
        targets: [Target],
        choose: @escaping @Sendable (HTTPRequestView, ClientAddress?, inout FastRandom) -> Choice?
    ) {
        self.targets = targets
        chooser = choose
    }

    /// Every request to one cluster.
    public convenience init(cluster: Cluster, options: ProxyOptions = ProxyOptions()) {
        self.init(targets: [Target(name: cluster.name, cluster: cluster, options: options)]) { _, _, _ in
            Choice(target: 0)
        }
    }

    /// A configuration's routes for one listener, over clusters built from
    /// the same configuration.
    ///
    /// - Throws: ``RouterError`` for routes the router cannot compile.
    public convenience init(
        configuration: FulcrumConfiguration,
        listener: ListenerConfig,
        targets: [String: Target]
    ) throws(RouterError) {
        let router = try Router(configuration: configuration, listener: listener)
        let names = configuration.clusters.map(\.name).filter { targets[$0] != nil }
        let indexByName = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        self.init(targets: names.map { targets[$0]! }) { view, client, random in
            // Headers are decoded only when a route asks for one.
            let request = RouteRequest(
                method: view.method,
                host: view.host,
                path: view.path,
                query: view.query,
                clientAddress: client
            ) { name in
                ASCII.equalsIgnoringCase(name, "cookie") ? view.cookieHeader : view.header(name)
            }
            let (decision, headers) = router.decide(request, random: &random)
            switch decision {
            case .cluster(let name, _): return indexByName[name].map { Choice(target: $0, headers: headers) }
            case .noRoute: return nil
            case .unauthorized(let route, let reason):
                return Choice(target: 0, unauthorized: route.map { "route '\($0)': \(reason)" } ?? reason)
            }
        }
    }

    func choose(_ view: HTTPRequestView, _ client: ClientAddress?, _ random: inout FastRandom) -> Choice? {
        chooser(view, client, &random)
    }
}

/// A route target as one loop's connections use it: with that loop's
/// snapshot reader, keep-alive pool and retry budget for the cluster.
///
/// One per target and loop, made when the listener starts and touched only
/// on its loop, so its mutable parts need no lock. A class, so that the
/// connection's per-request reads of it cost one reference count rather
/// than one per field.
final class LoopTarget {
    let name: String
    let cluster: Cluster
    let options: ProxyOptions
    var reader: SnapshotReader
    let pool: BackendConnectionPool
    var retryBudget: RetryBudget
    let counters: ClusterCounters
    let addresses: BackendSocketAddresses

    init(_ target: HTTPRouting.Target, loopNumber: Int, counters: ClusterCounters, addresses: BackendSocketAddresses) {
        name = target.name
        cluster = target.cluster
        options = target.options
        reader = SnapshotReader(target.cluster, seed: loopNumber * 7919)
        pool = BackendConnectionPool(
            backends: target.cluster.backends.count,
            maxIdlePerBackend: target.options.maxIdleConnectionsPerBackend,
            idleTimeout: UInt64(max(target.options.backendIdleTimeout.nanoseconds, 0))
        )
        retryBudget = target.cluster.makeRetryBudget()
        self.counters = counters
        self.addresses = addresses
    }
}
