import ArgumentParser
import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `fulcrum demo`: three built-in backends behind the balancer, on loopback.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the balancer on 127.0.0.1 in front of three built-in backends, with an embedded default config."
    )

    @Option(help: "The balancer's port.")
    var port = 8080

    @Option(help: "The algorithm: \(BalancingAlgorithm.acceptedNames).")
    var algorithm = "round-robin"

    @Option(help: "For hash and ip-hash: header:NAME, cookie:NAME, query:NAME or ip.")
    var hashKey: String?

    func run() async throws {
        let (algorithm, hashKey) = try ServeSetup.parse(algorithm: algorithm, hashKey: hashKey)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: CPUBudget.eventLoopCount)
        var backends: [DemoBackend] = []
        for i in 1...3 {
            backends.append(try await DemoBackend.start(name: "backend-\(i)", group: group))
        }
        let cluster = try ServeSetup.cluster(
            backends.map { (BackendAddress(host: "127.0.0.1", port: $0.port), 1, $0.name) },
            algorithm: algorithm
        )
        let server: HTTPProxyServer
        do {
            server = try await HTTPProxyServer.start(
                host: "127.0.0.1",
                port: port,
                cluster: cluster,
                options: ServeSetup.options(hashKey: hashKey),
                group: group
            )
        } catch {
            for backend in backends { await backend.stop() }
            try? await group.shutdownGracefully()
            throw UsageError("cannot listen on 127.0.0.1:\(port): \(error); choose another with --port")
        }
        print(
            """
            Fulcrum demo: balancing 127.0.0.1:\(server.port) over 3 built-in backends with \(algorithm.name)
            \(backends.map { "  \($0.name) on 127.0.0.1:\($0.port)" }.joined(separator: "\n"))

            Try:
              for i in 1 2 3 4 5 6; do curl -s 127.0.0.1:\(server.port)/; done     # all three names
              curl -s '127.0.0.1:\(server.port)/slow?ms=500'                      # a slow answer
              curl -si 127.0.0.1:\(server.port)/status/503                         # a backend's own 503
              curl -s 127.0.0.1:\(server.port)/health
              fulcrum demo --algorithm least-connections                 # another algorithm
              fulcrum demo --algorithm hash --hash-key header:X-User     # then curl -H 'X-User: ann' …

            Press Ctrl-C to stop.
            """
        )
        fflush(nil)
        let started = backends
        try await ServeSetup.runUntilSignalled {
            print("stopping")
            await server.drain(timeout: .seconds(2))
            for backend in started { await backend.stop() }
            try? await group.shutdownGracefully()
        }
    }
}

/// `fulcrum serve`: the balancer.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the balancer: fulcrum serve --listen 127.0.0.1:8080 --backend 127.0.0.1:9001 --backend 127.0.0.1:9002=2"
    )

    @Option(help: "A config file (YAML).")
    var config: String?

    @Option(help: "Where to listen, HOST:PORT.")
    var listen: String?

    @Option(name: .customLong("backend"), help: "A backend, HOST:PORT[=WEIGHT]. Repeat for each.")
    var backends: [String] = []

    @Option(help: "The algorithm: \(BalancingAlgorithm.acceptedNames).")
    var algorithm = "round-robin"

    @Option(help: "For hash and ip-hash: header:NAME, cookie:NAME, query:NAME or ip; with --mode tcp, ip (the default) or ip_port.")
    var hashKey: String?

    @Option(help: "http (default), or tcp or udp for an L4 listener.")
    var mode = "http"

    @Option(help: "With --mode tcp: send a PROXY protocol header (v1 or v2) to each backend connection.")
    var sendProxyProtocol: String?

    @Option(
        name: .customLong("trusted-proxy"),
        help: "With --mode tcp: accept PROXY protocol headers from this network (CIDR); repeat for each. Other sources are closed."
    )
    var trustedProxies: [String] = []

    @Option(help: "Write an access log line per request: combined or json. Default: none.")
    var accessLog: String?

    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics. Default: none.")
    var metrics: String?

    func run() async throws {
        if let metrics { try await ServeSetup.serveMetrics(at: metrics) }
        if let config {
            guard listen == nil && backends.isEmpty else {
                throw UsageError("give either --config FILE or --listen/--backend, not both")
            }
            try await serve(configFile: config)
            return
        }
        guard ["http", "tcp", "udp"].contains(mode) else {
            throw UsageError("--mode '\(mode)' is not known; use http, tcp or udp")
        }
        guard let listen else { throw UsageError("give --listen HOST:PORT (or --config FILE)") }
        let (host, port) = try ServeSetup.hostPort(listen, option: "--listen")
        guard !backends.isEmpty else { throw UsageError("give at least one --backend HOST:PORT[=WEIGHT]") }
        let parsed = try backends.map { spec -> (BackendAddress, Int, String?) in
            let parts = spec.split(separator: "=", maxSplits: 1)
            let (backendHost, backendPort) = try ServeSetup.hostPort(String(parts[0]), option: "--backend")
            let address = BackendAddress(host: backendHost, port: backendPort)
            guard parts.count == 2 else { return (address, 1, nil) }
            guard let weight = Int(parts[1]), (0...Backend.maxWeight).contains(weight) else {
                throw UsageError("--backend '\(spec)': weight '\(parts[1])' must be a whole number from 0 to \(Backend.maxWeight)")
            }
            return (address, weight, nil)
        }
        var format: AccessLogFormat?
        if let accessLog {
            guard let parsed = AccessLogFormat(rawValue: accessLog) else {
                throw UsageError("--access-log '\(accessLog)' is not known; use combined or json")
            }
            format = parsed
        }
        let l4 = try l4Settings()
        let (algorithm, hashKey) = try ServeSetup.parse(
            algorithm: algorithm,
            hashKey: l4.hashIncludesClientPort ? "ip" : hashKey,
            tcp: mode != "http"
        )
        let cluster = try ServeSetup.cluster(parsed, algorithm: algorithm)
        ProxyMetrics().observe(cluster)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: CPUBudget.eventLoopCount)
        var logger = Logger(label: "fulcrum.proxy")
        logger.logLevel = .info
        let boundPort: Int
        let stop: @Sendable () async -> Void
        do {
            if mode == "udp" {
                var settings = UDPListenerSettings()
                settings.hashIncludesClientPort = l4.hashIncludesClientPort
                let server = try await UDPProxyServer.start(
                    host: host,
                    port: port,
                    cluster: cluster,
                    settings: settings,
                    group: group,
                    logger: logger
                )
                (boundPort, stop) = (server.port, { await server.stop() })
            } else if mode == "tcp" {
                let server = try await TCPProxyServer.start(
                    host: host,
                    port: port,
                    cluster: cluster,
                    options: ServeSetup.options(hashKey: hashKey),
                    settings: l4,
                    group: group,
                    logger: logger
                )
                (boundPort, stop) = (server.port, { await server.stop() })
            } else {
                let server = try await HTTPProxyServer.start(
                    host: host,
                    port: port,
                    routing: HTTPRouting(cluster: cluster, options: ServeSetup.options(hashKey: hashKey)),
                    accessLog: format,
                    group: group,
                    logger: logger
                )
                (boundPort, stop) = (server.port, { await server.drain(timeout: .seconds(30)) })
            }
        } catch {
            try? await group.shutdownGracefully()
            throw UsageError("cannot listen on \(listen): \(error)")
        }
        logger.info(
            "listening",
            metadata: [
                "address": "\(host):\(boundPort)", "mode": "\(mode)", "cluster": "default", "algorithm": "\(algorithm)",
                "backends": "\(cluster.backends.map { "\($0.id)=\($0.weight)" }.joined(separator: ","))",
            ]
        )
        let lifecycleLogger = logger
        try await ServeSetup.runUntilSignalled(logger: logger) {
            lifecycleLogger.info("draining: no new connections, requests in flight finish", metadata: ["timeout": "30 seconds"])
            await stop()
            try? await group.shutdownGracefully()
        }
    }
}

extension Serve {
    /// The quick form's L4 options, checked.
    private func l4Settings() throws -> TCPListenerSettings {
        var settings = TCPListenerSettings()
        guard mode != "http" else {
            if sendProxyProtocol != nil || !trustedProxies.isEmpty {
                throw UsageError("--send-proxy-protocol and --trusted-proxy go with --mode tcp")
            }
            if hashKey == "ip_port" { throw UsageError("--hash-key ip_port goes with --mode tcp or udp") }
            return settings
        }
        settings.hashIncludesClientPort = hashKey == "ip_port"
        if mode == "udp" && (sendProxyProtocol != nil || !trustedProxies.isEmpty) {
            throw UsageError("--send-proxy-protocol and --trusted-proxy go with --mode tcp, not udp")
        }
        switch sendProxyProtocol {
        case nil: break
        case "v1": settings.sendProxyProtocol = .v1
        case "v2": settings.sendProxyProtocol = .v2
        case let other?: throw UsageError("--send-proxy-protocol '\(other)' is not known; use v1 or v2")
        }
        if !trustedProxies.isEmpty {
            settings.proxyProtocolTrusted = try trustedProxies.map { text in
                switch IPNetwork.parse(text) {
                case .success(let network): return network
                case .failure(.hostBitsSet(let suggestion)):
                    throw UsageError("--trusted-proxy '\(text)' has host bits set; did you mean \(suggestion)?")
                case .failure:
                    throw UsageError("--trusted-proxy '\(text)' is not a network such as 10.0.0.0/8 or fd00::/8")
                }
            }
        }
        return settings
    }

    /// Runs every listener of a configuration file until SIGINT or SIGTERM.
    /// A file with problems prints each one (file:line:column: key path:
    /// found …; expected …) and exits 1, as `fulcrum validate` does.
    private func serve(configFile: String) async throws {
        let configuration: FulcrumConfiguration
        do {
            configuration = try ConfigLoader.load(path: configFile)
        } catch {
            for diagnostic in error.diagnostics { StandardError.writeLine(diagnostic.description) }
            throw ExitCode(1)
        }
        var logger = Logger(label: "fulcrum.proxy")
        logger.logLevel = .info
        let group = MultiThreadedEventLoopGroup(numberOfThreads: CPUBudget.eventLoopCount)
        let server: FulcrumServer
        do {
            server = try await FulcrumServer.start(configuration, group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw UsageError("\(configFile): \(error)")
        }
        logger.info("serving", metadata: ["config": "\(configFile)", "summary": "\(configuration.summary)"])
        let lifecycleLogger = logger
        try await ServeSetup.runUntilSignalled(logger: logger) {
            let drain = configuration.timeouts.drain
            lifecycleLogger.info("draining: no new connections, requests in flight finish", metadata: ["timeout": "\(drain)"])
            await server.stop(drainTimeout: .nanoseconds(drain.nanoseconds))
            try? await group.shutdownGracefully()
        }
    }
}

/// What `serve` and `demo` share.
enum ServeSetup {
    static func parse(algorithm name: String, hashKey: String?, tcp: Bool = false) throws -> (BalancingAlgorithm, RequestKey?) {
        guard let algorithm = BalancingAlgorithm(name: name) else {
            throw UsageError("unknown algorithm '\(name)'; accepted: \(BalancingAlgorithm.acceptedNames)")
        }
        var key: RequestKey?
        if let hashKey {
            switch RequestKey.parse(hashKey) {
            case .success(let parsed): key = parsed
            case .failure(let error):
                throw UsageError("--hash-key '\(hashKey)' is not understood; expected \(error.message)")
            }
        }
        if case .hash = algorithm, key == nil, !tcp {
            throw UsageError("algorithm hash needs --hash-key header:NAME, cookie:NAME, query:NAME or ip")
        }
        return (algorithm, key)
    }

    static func hostPort(_ text: String, option: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon != text.startIndex
        else {
            throw UsageError("\(option) '\(text)' is not HOST:PORT with a port from 0 to 65535")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    static func cluster(_ backends: [(BackendAddress, Int, String?)], algorithm: BalancingAlgorithm) throws -> Cluster {
        do {
            let made = try backends.map { address, weight, name throws(CoreError) in
                try Backend(id: name, address: address, weight: weight)
            }
            var settings = ClusterSettings(algorithm: algorithm)
            settings.panicThresholdPercent = 0
            return try Cluster(name: "default", backends: made, settings: settings)
        } catch {
            throw UsageError(error.message)
        }
    }

    static func options(hashKey: RequestKey?) -> ProxyOptions {
        var options = ProxyOptions()
        options.hashKey = hashKey
        return options
    }

    /// Counts through Prometheus from now on, and serves the counts at
    /// `http://HOST:PORT/metrics`. Must run before any cluster or listener
    /// is made, so that their counters use the registry.
    static func serveMetrics(at address: String) async throws {
        let (host, port) = try hostPort(address, option: "--metrics")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let endpoint: MetricsEndpoint
        do {
            endpoint = try await MetricsEndpoint.start(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton) {
                registry.emitToBuffer()
            }
        } catch {
            throw UsageError("cannot serve metrics on \(address): \(error)")
        }
        var logger = Logger(label: "fulcrum.metrics")
        logger.logLevel = .info
        logger.info("metrics", metadata: ["address": "\(host):\(endpoint.port)", "path": "/metrics"])
    }

    /// Runs until SIGTERM or SIGINT, then `shutdown` (drain, then close), as
    /// one ServiceLifecycle service in a group that owns the signals.
    static func runUntilSignalled(
        logger: Logger = Logger(label: "fulcrum.lifecycle"),
        shutdown: @escaping @Sendable () async -> Void
    ) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: DrainOnShutdown(shutdown: shutdown), successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Serves until the service group begins a graceful shutdown, then drains:
/// stop accepting, let requests in flight finish up to the drain timeout,
/// close the rest.
struct DrainOnShutdown: Service {
    let shutdown: @Sendable () async -> Void

    func run() async throws {
        // Throws only when the task is cancelled; drain either way.
        try? await gracefulShutdown()
        await shutdown()
    }
}
