import CFulcrumLinux
import FulcrumCore
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// An L4 listener that relays each TCP connection to a backend picked from
/// the cluster: least-connections counts open connections, `ip-hash` and
/// `hash` use the client address (and port with `hash_key: ip_port`), and
/// behind another balancer the client is the one its PROXY header names.
///
/// The relay runs on ``RelayLoop``s, one thread each, straight on epoll
/// rather than on NIO channels: see that type for why.
public final class TCPProxyServer: Sendable {
    public let cluster: Cluster
    /// The port it listens on (useful when started on port 0).
    public let port: Int

    private let listener: ListenerControl
    private let loops: [RelayLoop]

    private init(cluster: Cluster, port: Int, listener: ListenerControl, loops: [RelayLoop]) {
        self.cluster = cluster
        self.port = port
        self.listener = listener
        self.loops = loops
    }

    /// A server dropped without ``stop()`` stops accepting all the same.
    deinit {
        if listener.requestStop() { for loop in loops { loop.wake() } }
    }

    /// Starts listening on `host:port` (port 0 picks a free one), relaying
    /// on as many threads as `group` has event loops (which the CLI sizes to
    /// the CPUs the process may use).
    public static func start(
        host: String,
        port: Int,
        cluster: Cluster,
        options: ProxyOptions = ProxyOptions(),
        settings: TCPListenerSettings = TCPListenerSettings(),
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "fulcrum.tcp")
    ) async throws -> TCPProxyServer {
        let threads = max(1, group.makeIterator().reduce(0) { count, _ in count + 1 })
        let (listenFD, boundPort) = try SocketCalls.listen(host: host, port: port)
        let listener = ListenerControl(
            fd: listenFD,
            maxConnections: settings.maxConnections ?? TCPListenerSettings.descriptorBound()
        )
        let configuration = RelayLoop.Configuration(
            cluster: cluster,
            addresses: BackendSocketAddresses(cluster, logger: logger),
            options: options,
            settings: settings,
            logger: logger
        )
        var loops: [RelayLoop] = []
        do {
            for number in 0..<threads {
                loops.append(try RelayLoop(listener: listener, exclusive: threads > 1, loopNumber: number, configuration: configuration))
            }
            // Every loop is counted before any starts, so one that fails at
            // once cannot bring the count to zero (and close the socket)
            // while others are still to start.
            for _ in loops { listener.loopStarting() }
            for (number, loop) in loops.enumerated() {
                do {
                    try loop.start(name: "fulcrum-l4-\(number)")
                } catch {
                    for _ in number..<loops.count { listener.loopStoppedAccepting() }
                    throw error
                }
            }
        } catch {
            await TCPProxyServer(cluster: cluster, port: boundPort, listener: listener, loops: loops).stop()
            throw error
        }
        return TCPProxyServer(cluster: cluster, port: boundPort, listener: listener, loops: loops)
    }

    /// Stops accepting new connections and releases the port; open ones
    /// continue until they end.
    public func stop() async {
        if listener.requestStop() { for loop in loops { loop.wake() } }
        await listener.waitClosed()
    }
}
