import FulcrumConfig
import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// Everything a configuration describes, running: its clusters, its HTTP
/// and TCP listeners, and the once-a-second tick that ends ejections and
/// moves slow-start ramps on.
public final class FulcrumServer: Sendable {
    /// Clusters by name, in configuration order.
    public let clusters: [(name: String, cluster: Cluster)]
    /// Each listener's name and bound port.
    public let listeners: [(name: String, port: Int)]
    private let stops: [@Sendable (TimeAmount) async -> Void]
    private let ticker: RepeatedTask
    private let checkers: [ActiveHealthChecker]

    private init(
        clusters: [(String, Cluster)],
        listeners: [(String, Int)],
        stops: [@Sendable (TimeAmount) async -> Void],
        ticker: RepeatedTask,
        checkers: [ActiveHealthChecker]
    ) {
        self.clusters = clusters
        self.listeners = listeners
        self.stops = stops
        self.ticker = ticker
        self.checkers = checkers
    }

    /// Builds the clusters and starts every listener.
    ///
    /// `events` is told of every state change the health checkers cause,
    /// after it is logged, for callers that act on them (tests wait on it).
    ///
    /// - Throws: ``CoreError`` for a cluster the core refuses, or the bind
    ///   error of a listener (listeners already started are stopped first).
    public static func start(
        _ configuration: FulcrumConfiguration,
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "fulcrum.proxy"),
        metrics: ProxyMetrics = ProxyMetrics(),
        events: (@Sendable (ClusterEvent) -> Void)? = nil
    ) async throws -> FulcrumServer {
        var clusters: [(String, Cluster)] = []
        var targets: [String: HTTPRouting.Target] = [:]
        for config in configuration.clusters {
            let cluster = try Cluster(name: config.name, backends: try config.makeBackends(), settings: config.makeSettings())
            clusters.append((config.name, cluster))
            metrics.observe(cluster)
            targets[config.name] = HTTPRouting.Target(name: config.name, cluster: cluster, options: ProxyOptions(config))
            // Under first_check every checked backend starts down, so a cluster
            // starts in panic (or unavailable) until its first checks pass;
            // saying so here explains the "PANIC ENDED" that follows.
            let mode = cluster.snapshot.mode
            logger.info("\(config.startupSummary)\(mode == .normal ? "" : "; routing \(mode) until the first checks pass")")
        }
        // Checkers are built before any listener binds, so a check that cannot
        // run here (ping without an ICMP socket) fails startup cleanly.
        var checkers: [ActiveHealthChecker] = []
        for (config, (_, cluster)) in zip(configuration.clusters, clusters) {
            var checks: [String: HealthCheckConfig] = [:]
            for backend in config.backends {
                checks[backend.name] = config.healthCheck(for: backend)
            }
            guard !checks.isEmpty else { continue }
            do {
                checkers.append(try ActiveHealthChecker(cluster: cluster, checks: checks, logger: logger, observer: events))
            } catch {
                throw CoreError(code: .invalidSetting, message: error.description)
            }
        }
        var listeners: [(String, Int)] = []
        var stops: [@Sendable (TimeAmount) async -> Void] = []
        do {
            for listener in configuration.listeners {
                switch listener.protocol {
                case .tcp:
                    let (name, target) = try l4Target(of: listener, in: targets)
                    let server = try await TCPProxyServer.start(
                        host: listener.address,
                        port: listener.port,
                        cluster: target.cluster,
                        options: target.options,
                        settings: TCPListenerSettings(listener: listener, cluster: configuration.cluster(named: name)),
                        group: group,
                        logger: logger
                    )
                    listeners.append((listener.name, server.port))
                    stops.append { _ in await server.stop() }
                case .http:
                    let routing = try HTTPRouting(configuration: configuration, listener: listener, targets: targets)
                    let server = try await HTTPProxyServer.start(
                        host: listener.address,
                        port: listener.port,
                        routing: routing,
                        clientTimeouts: ClientTimeouts(
                            header: .nanoseconds(configuration.timeouts.clientHeader.nanoseconds),
                            idle: .nanoseconds(configuration.timeouts.clientIdle.nanoseconds)
                        ),
                        accessLog: listener.accessLog.map { AccessLogFormat(rawValue: $0.rawValue)! },
                        proxyProtocolTrusted: listener.proxyProtocolTrusted,
                        metrics: metrics,
                        group: group,
                        logger: logger
                    )
                    listeners.append((listener.name, server.port))
                    stops.append { timeout in await server.drain(timeout: timeout) }
                case .udp:
                    let (name, target) = try l4Target(of: listener, in: targets)
                    let server = try await UDPProxyServer.start(
                        host: listener.address,
                        port: listener.port,
                        cluster: target.cluster,
                        settings: UDPListenerSettings(listener: listener, cluster: configuration.cluster(named: name)),
                        group: group,
                        logger: logger
                    )
                    listeners.append((listener.name, server.port))
                    stops.append { _ in await server.stop() }
                }
                logger.info("listening", metadata: ["listener": "\(listener.name)", "port": "\(listeners.last!.1)"])
            }
        } catch {
            for stop in stops { await stop(.zero) }
            throw error
        }
        let allClusters = clusters.map(\.1)
        let ticker = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            for cluster in allClusters {
                for event in cluster.tick() { logger.warning("\(event)") }
            }
        }
        for checker in checkers { checker.start(group: group) }
        return FulcrumServer(clusters: clusters, listeners: listeners, stops: stops, ticker: ticker, checkers: checkers)
    }

    /// An L4 listener's cluster: its `default_cluster`, which it must name.
    private static func l4Target(
        of listener: ListenerConfig,
        in targets: [String: HTTPRouting.Target]
    ) throws -> (String, HTTPRouting.Target) {
        guard let name = listener.defaultCluster, let target = targets[name] else {
            throw CoreError(
                code: .invalidCluster,
                message: "\(listener.protocol) listener '\(listener.name)' needs default_cluster naming a cluster"
            )
        }
        return (name, target)
    }

    /// Stops accepting on every listener and drains HTTP listeners: idle
    /// connections close at once, requests in flight finish, and after
    /// `drainTimeout` whatever is left is closed. TCP connections are left to
    /// the event loop group's shutdown.
    public func stop(drainTimeout: TimeAmount = .seconds(30)) async {
        ticker.cancel()
        for checker in checkers { checker.stop() }
        await withTaskGroup(of: Void.self) { group in
            for stop in stops { group.addTask { await stop(drainTimeout) } }
        }
    }
}

extension ProxyOptions {
    /// The proxy options a cluster's configuration implies.
    init(_ config: ClusterConfig) {
        self.init()
        hashKey = config.hashKey
        connectTimeout = .nanoseconds(config.timeouts.connect.nanoseconds)
        firstByteTimeout = .nanoseconds(config.timeouts.firstByte.nanoseconds)
        backendIdleTimeout = .nanoseconds(config.timeouts.idle.nanoseconds)
        perTryTimeout = config.timeouts.perTry.map { .nanoseconds($0.nanoseconds) }
        retries = config.retries
        sendProxyProtocol =
            switch config.proxyProtocol {
            case .off: nil
            case .v1: .v1
            case .v2: .v2
            }
    }
}
