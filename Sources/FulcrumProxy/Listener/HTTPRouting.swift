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

        public init(target: Int, headers: RouteHeaders = .defaults) {
            self.target = target
            self.headers = headers
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
            let target = view.target
            let path = target.prefix { $0 != "?" }
            let query = path.endIndex < target.endIndex ? String(target[target.index(after: path.endIndex)...]) : nil
            // Headers are decoded only when a route asks for one.
            let request = RouteRequest(
                method: view.method,
                host: view.host,
                path: String(path),
                query: query,
                clientAddress: client
            ) { name in
                ASCII.equalsIgnoringCase(name, "cookie") ? view.cookieHeader : view.header(name)
            }
            let (decision, headers) = router.decide(request, random: &random)
            switch decision {
            case .cluster(let name, _): return indexByName[name].map { Choice(target: $0, headers: headers) }
            case .noRoute: return nil
            }
        }
    }

    func choose(_ view: HTTPRequestView, _ client: ClientAddress?, _ random: inout FastRandom) -> Choice? {
        chooser(view, client, &random)
    }
}

/// A route target as one event loop's handlers use it: with that loop's
/// snapshot reader and keep-alive pool for the cluster.
///
/// A class, so that the handler's per-request reads of it cost one
/// reference count rather than one per field.
final class LoopTarget {
    let name: String
    let cluster: Cluster
    let options: ProxyOptions
    let reader: NIOLoopBoundBox<SnapshotReader>
    let pool: NIOLoopBoundBox<BackendConnectionPool>
    let retryBudget: NIOLoopBoundBox<RetryBudget>
    let counters: ClusterCounters
    let addresses: BackendSocketAddresses

    init(
        name: String,
        cluster: Cluster,
        options: ProxyOptions,
        reader: NIOLoopBoundBox<SnapshotReader>,
        pool: NIOLoopBoundBox<BackendConnectionPool>,
        retryBudget: NIOLoopBoundBox<RetryBudget>,
        counters: ClusterCounters,
        addresses: BackendSocketAddresses
    ) {
        self.addresses = addresses
        self.retryBudget = retryBudget
        self.name = name
        self.cluster = cluster
        self.options = options
        self.reader = reader
        self.pool = pool
        self.counters = counters
    }
}

/// Every target's per-loop state, built once when the listener starts.
struct PerLoopTargets: Sendable {
    private let readers: [PerLoop<SnapshotReader>]
    private let pools: [PerLoop<BackendConnectionPool>]
    private let retryBudgets: [PerLoop<RetryBudget>]
    private let counters: [ClusterCounters]
    private let addresses: [BackendSocketAddresses]
    private let routing: HTTPRouting

    init(routing: HTTPRouting, group: any EventLoopGroup, metrics: ProxyMetrics) {
        self.routing = routing
        counters = routing.targets.map { metrics.clusterCounters($0.cluster) }
        addresses = routing.targets.map { BackendSocketAddresses($0.cluster) }
        readers = routing.targets.map { target in
            PerLoop(group: group) { SnapshotReader(target.cluster, seed: $0 * 7919) }
        }
        pools = routing.targets.map { target in
            PerLoop(group: group) { _ in
                BackendConnectionPool(
                    backends: target.cluster.backends.count,
                    maxIdlePerBackend: target.options.maxIdleConnectionsPerBackend,
                    idleTimeout: target.options.backendIdleTimeout
                )
            }
        }
        retryBudgets = routing.targets.map { target in
            PerLoop(group: group) { _ in target.cluster.makeRetryBudget() }
        }
    }

    func targets(for loop: any EventLoop) -> [LoopTarget] {
        routing.targets.indices.map { i in
            let target = routing.targets[i]
            return LoopTarget(
                name: target.name,
                cluster: target.cluster,
                options: target.options,
                reader: readers[i].box(for: loop),
                pool: pools[i].box(for: loop),
                retryBudget: retryBudgets[i].box(for: loop),
                counters: counters[i],
                addresses: addresses[i]
            )
        }
    }
}
