import FulcrumConfig
import FulcrumCore
import Logging
import NIOCore

/// An HTTP/1.1 listener that routes requests to clusters and balances them
/// over each cluster's backends.
///
/// Requests and responses are forwarded as raw bytes framed by Fulcrum's
/// strict RFC 9112 parsers (see ``HTTPProxyConnection``), over per-loop
/// pools of keep-alive backend connections made on the client's loop. The
/// loops are threads of the listener's own, on epoll directly rather than
/// NIO's event loops (``PollLoop`` says why).
public final class HTTPProxyServer: Sendable {
    public let routing: HTTPRouting
    /// The port it listens on (useful when started on port 0).
    public let port: Int
    private let listener: ListenerControl
    private let loops: [HTTPListenerLoop]

    /// The first target's cluster, for single-cluster listeners and tests.
    public var cluster: Cluster { routing.targets[0].cluster }

    private init(routing: HTTPRouting, port: Int, listener: ListenerControl, loops: [HTTPListenerLoop]) {
        self.routing = routing
        self.port = port
        self.listener = listener
        self.loops = loops
    }

    /// A server dropped without ``stop()`` stops accepting all the same.
    deinit {
        stopLoops(closeIdle: true)
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

    /// Starts listening on `host:port` (port 0 picks a free one), on as many
    /// threads as `group` has event loops (which the CLI sizes to the CPUs
    /// the process may use).
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
        let threads = max(1, group.makeIterator().reduce(0) { count, _ in count + 1 })
        let (listenFD, boundPort) = try SocketCalls.listen(host: host, port: port)
        // Two descriptors a connection (client and backend), as on a TCP
        // listener; past that, new connections wait in the listen queue
        // rather than fail with EMFILE.
        let listener = ListenerControl(fd: listenFD, maxConnections: TCPListenerSettings.descriptorBound())
        let settings = HTTPListenerLoop.Settings(
            routing: routing,
            counters: routing.targets.map { metrics.clusterCounters($0.cluster) },
            addresses: routing.targets.map { BackendSocketAddresses($0.cluster, logger: logger) },
            clientTimeouts: clientTimeouts,
            accessLog: accessLog,
            proxyProtocolTrusted: proxyProtocolTrusted,
            rejected: metrics.rejected,
            logger: logger
        )
        var loops: [HTTPListenerLoop] = []
        do {
            for number in 0..<threads {
                loops.append(try HTTPListenerLoop(number: number, listener: listener, settings: settings))
            }
            // Every loop is counted before any starts, so one that fails at
            // once cannot bring the count to zero (and close the socket)
            // while others are still to start.
            for _ in loops { listener.loopStarting() }
            for (number, loop) in loops.enumerated() {
                do {
                    try loop.start(exclusive: threads > 1)
                } catch {
                    for _ in number..<loops.count { listener.loopStoppedAccepting() }
                    throw error
                }
            }
        } catch {
            let server = HTTPProxyServer(routing: routing, port: boundPort, listener: listener, loops: loops)
            await server.stop()
            throw error
        }
        return HTTPProxyServer(routing: routing, port: boundPort, listener: listener, loops: loops)
    }

    /// Stops accepting new connections and releases the port; idle
    /// connections close, and those with a request in flight close after
    /// its response (as HAProxy's soft stop).
    public func stop() async {
        stopLoops(closeIdle: true)
        await listener.waitClosed()
    }

    private func stopLoops(closeIdle: Bool) {
        let wake = listener.requestStop()
        for member in loops {
            member.loop.execute {
                if wake { member.stopAccepting() }
                if closeIdle { member.drainConnections() }
            }
        }
    }

    /// Graceful shutdown: stops accepting, closes idle connections, lets
    /// requests in flight finish (their responses carry `Connection: close`),
    /// and after `timeout` closes whatever is left.
    public func drain(timeout: TimeAmount) async {
        await stop()
        let listener = self.listener
        let loops = self.loops
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await listener.waitUntilNoConnections() }
            group.addTask {
                guard (try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))) != nil else { return }
                for member in loops { member.loop.execute { member.closeConnections() } }
            }
            // The first to finish: every connection ended (the timer is then
            // cancelled), or the timer, whose closing ends the rest.
            await group.next()
            group.cancelAll()
        }
    }

    /// Client connections open now.
    public var openConnections: Int { listener.openConnections }
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
