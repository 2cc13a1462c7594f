import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// An L4 listener for UDP: each client address and port is a flow, pinned
/// to the backend picked for its first datagram until it goes idle, with
/// the backend's replies sent back from the listener's own address.
///
/// Everything of one listener runs on one event loop (the listening socket,
/// the flow table and each flow's connected backend socket), so the table
/// needs no lock.
public final class UDPProxyServer: Sendable {
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
        settings: UDPListenerSettings = UDPListenerSettings(),
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "fulcrum.udp")
    ) async throws -> UDPProxyServer {
        let loop = group.next()
        let channel = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: settings.maxDatagramSize))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        UDPFlowTable(cluster: cluster, settings: settings, logger: logger)
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        return UDPProxyServer(channel: channel, cluster: cluster)
    }

    /// Stops the listener; its flows end with it.
    public func stop() async {
        try? await channel.close()
    }
}
