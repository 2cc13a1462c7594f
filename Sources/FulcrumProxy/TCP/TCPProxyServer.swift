import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// An L4 listener that relays each TCP connection to a backend picked from
/// the cluster: least-connections counts open connections, `ip-hash` and
/// `hash` use the client address (and port with `hash_key: ip_port`), and
/// behind another balancer the client is the one its PROXY header names.
public final class TCPProxyServer: Sendable {
    public let channel: any Channel
    public let cluster: Cluster

    /// The port it listens on (useful when started on port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, cluster: Cluster) {
        self.channel = channel
        self.cluster = cluster
    }

    /// Starts listening on `host:port` (port 0 picks a free one).
    public static func start(
        host: String,
        port: Int,
        cluster: Cluster,
        options: ProxyOptions = ProxyOptions(),
        settings: TCPListenerSettings = TCPListenerSettings(),
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "fulcrum.tcp")
    ) async throws -> TCPProxyServer {
        let loops = PerLoop(group: group) { loopNumber, loop in
            TCPLoopState(cluster: cluster, loop: loop, loopNumber: loopNumber, connectTimeout: options.connectTimeout)
        }
        let addresses = BackendSocketAddresses(cluster)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Options set here, synchronously, rather than with
                    // childChannelOption: the bootstrap applies those through
                    // a chain of futures per accepted connection.
                    try TCPConnectionHandler.setRelayOptions(channel)
                    let pipeline = channel.pipeline.syncOperations
                    if let trusted = settings.proxyProtocolTrusted {
                        try pipeline.addHandler(
                            ProxyProtocolDecoder(trusted: trusted, headerTimeout: settings.proxyHeaderTimeout, logger: logger)
                        )
                    }
                    try pipeline.addHandler(
                        TCPConnectionHandler(
                            cluster: cluster,
                            loop: loops.box(for: channel.eventLoop).value,
                            addresses: addresses,
                            options: options,
                            settings: settings,
                            logger: logger
                        )
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        return TCPProxyServer(channel: channel, cluster: cluster)
    }

    /// Stops accepting new connections; open ones continue.
    public func stop() async {
        try? await channel.close()
    }
}
