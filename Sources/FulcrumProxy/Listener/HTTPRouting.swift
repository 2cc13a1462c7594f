import FulcrumCore
import NIOCore
import NIOHTTP1

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

    public let targets: [Target]
    private let chooser: @Sendable (HTTPRequestHead, ClientAddress?) -> Int?

    /// Routes with `choose`, which returns an index into `targets`, or nil
    /// for a 404.
    public init(targets: [Target], choose: @escaping @Sendable (HTTPRequestHead, ClientAddress?) -> Int?) {
        self.targets = targets
        chooser = choose
    }

    /// Every request to one cluster.
    public convenience init(cluster: Cluster, options: ProxyOptions = ProxyOptions()) {
        self.init(targets: [Target(name: cluster.name, cluster: cluster, options: options)]) { _, _ in 0 }
    }

    func choose(_ head: HTTPRequestHead, _ client: ClientAddress?) -> Int? {
        chooser(head, client)
    }
}

/// A route target as one event loop's handlers use it: with that loop's
/// snapshot reader and keep-alive pool for the cluster.
struct LoopTarget {
    let name: String
    let cluster: Cluster
    let options: ProxyOptions
    let reader: NIOLoopBoundBox<SnapshotReader>
    let pool: NIOLoopBoundBox<BackendConnectionPool>
}

/// Every target's per-loop state, built once when the listener starts.
struct PerLoopTargets: Sendable {
    private let readers: [PerLoopReaders]
    private let pools: [PerLoopPools]
    private let routing: HTTPRouting

    init(routing: HTTPRouting, group: any EventLoopGroup) {
        self.routing = routing
        readers = routing.targets.map { PerLoopReaders(cluster: $0.cluster, group: group) }
        pools = routing.targets.map {
            PerLoopPools(
                group: group,
                maxIdlePerBackend: $0.options.maxIdleConnectionsPerBackend,
                idleTimeout: $0.options.backendIdleTimeout
            )
        }
    }

    func targets(for loop: any EventLoop) -> [LoopTarget] {
        routing.targets.indices.map { i in
            let target = routing.targets[i]
            return LoopTarget(
                name: target.name,
                cluster: target.cluster,
                options: target.options,
                reader: readers[i].reader(for: loop),
                pool: pools[i].pool(for: loop)
            )
        }
    }
}
