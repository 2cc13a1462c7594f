import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// An L4 listener that relays each TCP connection to a backend picked from
/// the cluster: least-connections counts open connections, `ip-hash` and
/// `hash` (with `--hash-key ip`) use the client address.
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
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "fulcrum.tcp")
    ) async throws -> TCPProxyServer {
        let readers = PerLoop(group: group) { SnapshotReader(cluster, seed: $0 * 7919) }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Nothing is read from the client until a backend is connected,
            // so a failed connect can be retried elsewhere without losing bytes.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TCPConnectionHandler(
                            cluster: cluster,
                            reader: readers.box(for: channel.eventLoop),
                            options: options,
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

/// Connects one client connection to a backend, retrying refused connects on
/// other backends, then glues the two together.
final class TCPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let cluster: Cluster
    private let reader: NIOLoopBoundBox<SnapshotReader>
    private let options: ProxyOptions
    private let logger: Logger
    private var random = FastRandom()
    private var tried = TriedBackends()
    private var attempts = 0
    /// Bytes and end-of-input that arrived before the relay was in place:
    /// with `autoRead` off NIO reads nothing, except that on a peer's FIN it
    /// drains the socket at once, so a short request and its FIN can arrive
    /// here. They are replayed to the backend once connected.
    private var early: [ByteBuffer] = []
    private var earlyEOF = false

    init(cluster: Cluster, reader: NIOLoopBoundBox<SnapshotReader>, options: ProxyOptions, logger: Logger) {
        self.cluster = cluster
        self.reader = reader
        self.options = options
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        connect(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        early.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            earlyEOF = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func connect(context: ChannelHandlerContext) {
        var pick = PickContext(random: random, now: SystemClock().now)
        pick.tried = tried
        let client = context.channel.remoteAddress.flatMap(ClientAddress.init)
        pick.client = client
        let result: PickResult
        if let client, case .hash = cluster.settings.algorithm {
            // `hash` on an L4 listener hashes the client address.
            result = client.withBytes { bytes in
                pick.hashKey = bytes
                return reader.value.pick(&pick)
            }
        } else {
            result = reader.value.pick(&pick)
        }
        random = pick.random
        guard let index = result.index else {
            logger.warning("closing client: no backend", metadata: ["reason": "\(result)"])
            context.close(promise: nil)
            return
        }
        let backend = cluster.backends[index]
        attempts += 1
        tried.insert(index)
        backend.load.start()
        let started = NIODeadline.now()
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            // Nothing is read from the backend before the relay is in place,
            // or its first bytes would fall off the end of the pipeline.
            .channelOption(.autoRead, value: false)
            .connect(host: backend.address.host, port: backend.address.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    self.glue(context: context, upstream: upstream, backend: index, started: started)
                case .failure(let error):
                    backend.load.finish(at: SystemClock().now)
                    for event in self.cluster.recordOutcome(.gatewayFailure(reason: "connect: \(error)"), backend: index) {
                        self.logger.warning("\(event)")
                    }
                    if self.attempts <= self.options.retries && context.channel.isActive {
                        self.connect(context: context)
                    } else {
                        self.logger.warning("closing client: every connect failed", metadata: ["backend": "\(backend.id)"])
                        context.close(promise: nil)
                    }
                }
            }
    }

    private func glue(context: ChannelHandlerContext, upstream: any Channel, backend index: Int, started: NIODeadline) {
        guard context.channel.isActive else {
            upstream.close(promise: nil)
            cluster.backends[index].load.finish(at: SystemClock().now)
            return
        }
        let (client, server) = GlueHandler.matchedPair()
        let cluster = self.cluster
        let logger = self.logger
        let backendID = cluster.backends[index].id
        let clientChannel = context.channel
        do {
            try upstream.pipeline.syncOperations.addHandler(server)
            try context.pipeline.syncOperations.addHandler(client)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
            return
        }
        for event in cluster.recordOutcome(.success, backend: index) { logger.info("\(event)") }
        let earlyBytes = early.reduce(0) { $0 + $1.readableBytes }
        for buffer in early { upstream.write(buffer, promise: nil) }
        upstream.flush()
        if earlyEOF { upstream.close(mode: .output, promise: nil) }
        early = []
        clientChannel.closeFuture.and(upstream.closeFuture).assumeIsolated().whenComplete { _ in
            cluster.backends[index].load.finish(at: SystemClock().now)
            logger.info(
                "connection closed",
                metadata: [
                    "backend": "\(backendID)",
                    "bytes_in": "\(earlyBytes + client.bytesRead)",
                    "bytes_out": "\(server.bytesRead)",
                    "duration_ms": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)",
                ]
            )
        }
        // From here on reads are driven by the relay, which holds them back
        // while the other side cannot take writes.
        for channel in [upstream, clientChannel] {
            channel.setOption(.autoRead, value: true).whenComplete { result in
                switch result {
                case .success: channel.read()
                case .failure: channel.close(promise: nil)
                }
            }
        }
    }
}
