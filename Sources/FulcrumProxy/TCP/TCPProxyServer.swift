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
        let (listenFD, boundPort) = try listen(host: host, port: port)
        let listener = ListenerControl(
            fd: listenFD,
            maxConnections: settings.maxConnections ?? TCPListenerSettings.descriptorBound()
        )
        let configuration = RelayLoop.Configuration(
            cluster: cluster,
            addresses: resolve(cluster, logger: logger),
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

    private static func listen(host: String, port: Int) throws -> (Int32, Int) {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let fd = socket(address.protocol.rawValue, SocketCalls.streamNonBlocking, 0)
        guard fd >= 0 else { throw SocketCallError("socket") }
        do {
            guard SocketCalls.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1) else { throw SocketCallError("setsockopt(SO_REUSEADDR)") }
            // Accepted sockets inherit TCP_NODELAY from the listener.
            guard SocketCalls.setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) else {
                throw SocketCallError("setsockopt(TCP_NODELAY)")
            }
            guard address.withSockAddr({ bind(fd, $0, socklen_t($1)) }) == 0 else { throw SocketCallError("bind \(host):\(port)") }
            guard Glibc.listen(fd, 1024) == 0 else { throw SocketCallError("listen") }
            guard let bound = SocketCalls.localEndpoint(fd) else { throw SocketCallError("getsockname") }
            return (fd, Int(bound.port))
        } catch {
            close(fd)
            throw error
        }
    }

    /// Backend addresses, looked up once here as HAProxy does by default:
    /// a name that does not resolve fails each connect to that backend
    /// (and so its passive health) rather than the listener.
    private static func resolve(_ cluster: Cluster, logger: Logger) -> [SocketAddress?] {
        cluster.backends.map { backend in
            do {
                return try SocketAddress.makeAddressResolvingHost(backend.address.host, port: backend.address.port)
            } catch {
                logger.warning("backend address does not resolve", metadata: ["backend": "\(backend.id)", "error": "\(error)"])
                return nil
            }
        }
    }
}
