import FulcrumConfig
import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// An HTTP/1.1 listener that routes requests to clusters and balances them
/// over each cluster's backends.
///
/// Requests and responses are forwarded as raw bytes framed by Fulcrum's
/// strict RFC 9112 parsers (see ``HTTPProxyHandler``), over a per-event-loop
/// pool of keep-alive backend connections made on the client's event loop.
public final class HTTPProxyServer: Sendable {
    public let channel: any Channel
    public let routing: HTTPRouting
    private let connections: ConnectionTracker

    /// The first target's cluster, for single-cluster listeners and tests.
    public var cluster: Cluster { routing.targets[0].cluster }

    /// The port it listens on (useful when started on port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, routing: HTTPRouting, connections: ConnectionTracker) {
        self.channel = channel
        self.routing = routing
        self.connections = connections
    }

    /// Starts a listener that sends every request to one cluster.
    public static func start(
        host: String,
        port: Int,
        cluster: Cluster,
        options: ProxyOptions = ProxyOptions(),
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "fulcrum.proxy")
    ) async throws -> HTTPProxyServer {
        try await start(
            host: host,
            port: port,
            routing: HTTPRouting(cluster: cluster, options: options),
            group: group,
            logger: logger
        )
    }

    /// Starts listening on `host:port` (port 0 picks a free one).
    ///
    /// With `proxyProtocolTrusted`, every connection must come from one of
    /// those networks and begin with a PROXY protocol header (v1 or v2),
    /// whose client address then stands for the connection's peer: for
    /// `ip-hash`, `split_key: ip`, X-Forwarded-For and the access log.
    public static func start(
        host: String,
        port: Int,
        routing: HTTPRouting,
        clientTimeouts: ClientTimeouts = ClientTimeouts(),
        accessLog: AccessLogFormat? = nil,
        proxyProtocolTrusted: [IPNetwork]? = nil,
        metrics: ProxyMetrics = ProxyMetrics(),
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "fulcrum.proxy")
    ) async throws -> HTTPProxyServer {
        let targets = PerLoopTargets(routing: routing, group: group, metrics: metrics)
        let connections = ConnectionTracker()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    // Set here, synchronously: childChannelOption applies each
                    // option through a chain of futures per connection.
                    // TCP_NODELAY needs no call: accepted sockets inherit it
                    // from the listening socket, where ServerBootstrap sets it.
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                    if let trusted = proxyProtocolTrusted {
                        try channel.pipeline.syncOperations.addHandler(ProxyProtocolDecoder(trusted: trusted, logger: logger))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPProxyHandler(
                            routing: routing,
                            targets: targets.targets(for: channel.eventLoop),
                            clientTimeouts: clientTimeouts,
                            accessLog: accessLog,
                            rejected: metrics.rejected,
                            logger: logger
                        )
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        return HTTPProxyServer(channel: channel, routing: routing, connections: connections)
    }

    /// Stops accepting new connections; connections in flight finish.
    public func stop() async {
        try? await channel.close()
    }

    /// Graceful shutdown: stops accepting, closes idle connections, lets
    /// requests in flight finish (their responses carry `Connection: close`),
    /// and after `timeout` closes whatever is left.
    public func drain(timeout: TimeAmount) async {
        try? await channel.close()
        let open = connections.channels
        for connection in open {
            connection.pipeline.fireUserInboundEventTriggered(DrainRequest())
        }
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { [connections] in
            for connection in connections.channels { connection.close(promise: nil) }
        }
        for connection in open {
            try? await connection.closeFuture.get()
        }
        deadline.cancel()
    }

    /// Client connections open now.
    public var openConnections: Int { connections.channels.count }
}

/// How long a listener waits for its clients. Defaults are HAProxy-like.
public struct ClientTimeouts: Sendable {
    /// For a new connection's first complete request head: a client that
    /// trickles header bytes (slowloris) is closed after this. Default 10 s.
    public var header: TimeAmount = .seconds(10)
    /// Between requests on a keep-alive connection. Default 60 s.
    public var idle: TimeAmount = .seconds(60)

    public init(header: TimeAmount = .seconds(10), idle: TimeAmount = .seconds(60)) {
        self.header = header
        self.idle = idle
    }
}

/// How the proxy treats requests. Defaults are safe and documented here.
public struct ProxyOptions: Sendable {
    /// Where `hash` takes its key from. Default: none (`ip-hash` always
    /// uses the client address; `hash` with `ip` does too).
    public var hashKey: RequestKey?
    /// Time allowed to connect to a backend. Default 2 s.
    public var connectTimeout: TimeAmount = .seconds(2)
    /// Time allowed for the backend's first response byte. Default 30 s.
    public var firstByteTimeout: TimeAmount = .seconds(30)
    /// How long one attempt may wait for its first response byte before a
    /// request that may be retried moves to another backend. Default nil:
    /// each attempt waits `firstByteTimeout`, then the client gets 504.
    public var perTryTimeout: TimeAmount?
    /// Further attempts on other backends after a connect failure, or a
    /// reset before any response byte for idempotent methods. Default 2.
    public var retries = 2
    /// Idle keep-alive connections kept per backend and event loop. Default
    /// 256: below the concurrency a loop carries, connections are closed and
    /// redialled on every request (at 256 clients over three backends a
    /// limit of 64 cost 40% of throughput).
    public var maxIdleConnectionsPerBackend = 256
    /// How long an idle backend connection is kept for reuse. Default 60 s,
    /// below the usual backend keep-alive timeouts' 75 s (nginx) so that the
    /// backend rarely closes a connection the proxy is about to reuse.
    public var backendIdleTimeout: TimeAmount = .seconds(60)
    /// A PROXY protocol header to send at the start of each backend
    /// connection, or nil (the default) for none. Such a connection speaks
    /// for one client, so it is not pooled for others (as HAProxy keeps
    /// `send-proxy` connections private).
    public var sendProxyProtocol: ProxyHeader.Version?

    public init() {}
}

extension RequestKey {
    /// The key's value in a request, if present, read with the router's own
    /// cookie and query parsers so that `hash_key` and `split_key` see the
    /// same value. The client address (`ip`) is hashed from its bytes by the
    /// caller, so it has no text value here.
    func value(in view: HTTPRequestView) -> String? {
        switch self {
        case .header(let name):
            return view.header(name)
        case .cookie(let name):
            return CookieHeader.value(named: name, in: view.cookieHeader).map(String.init)
        case .query(let name):
            return QueryString.value(named: name, in: view.query).map(String.init)
        case .path:
            return view.path
        case .clientIP:
            return nil
        }
    }
}
