import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// Connects one client connection to a backend, retrying failed connects on
/// other backends, then glues the two together and logs the connection when
/// both sides have closed.
///
/// Behind a load balancer that sends PROXY protocol, the connect waits for
/// the ``ProxyProtocolClientAddress`` event, so that `ip-hash`, `hash` and
/// the log see the real client rather than the balancer in front.
final class TCPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let cluster: Cluster
    private let loop: TCPLoopState
    private let addresses: BackendSocketAddresses
    private let options: ProxyOptions
    private let settings: TCPListenerSettings
    private let logger: Logger
    private var tried = TriedBackends()
    private var attempts = 0
    private var connecting = false
    /// Whom the connection speaks for, and where it arrived: the socket's
    /// ends, or what a PROXY header said. They feed balancing, the log line
    /// and the header sent to backends.
    private var client: ProxyEndpoint?
    private var destination: ProxyEndpoint?
    /// Bytes and end-of-input that arrived before the relay was in place:
    /// with `autoRead` off NIO reads nothing, except that on a peer's FIN it
    /// drains the socket at once, so a short request and its FIN can arrive
    /// here. They are replayed to the backend once connected.
    private var early: [ByteBuffer] = []
    private var earlyEOF = false

    init(
        cluster: Cluster,
        loop: TCPLoopState,
        addresses: BackendSocketAddresses,
        options: ProxyOptions,
        settings: TCPListenerSettings,
        logger: Logger
    ) {
        self.cluster = cluster
        self.loop = loop
        self.addresses = addresses
        self.options = options
        self.settings = settings
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        client = context.channel.remoteAddress.flatMap(ProxyEndpoint.init)
        destination = context.channel.localAddress.flatMap(ProxyEndpoint.init)
        if settings.proxyProtocolTrusted == nil { startConnecting(context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        early.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let carried = event as? ProxyProtocolClientAddress {
            if let source = carried.client { client = source }
            if carried.header.command == .proxy, let carriedDestination = carried.header.addresses?.destination {
                destination = carriedDestination
            }
            startConnecting(context: context)
        } else if let event = event as? ChannelEvent, case .inputClosed = event {
            earlyEOF = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func startConnecting(context: ChannelHandlerContext) {
        guard !connecting else { return }
        connecting = true
        connect(context: context)
    }

    private func pick() -> PickResult {
        var pick = PickContext(random: loop.random, now: SystemClock().now)
        pick.tried = tried
        defer { loop.random = pick.random }
        return loop.reader.pickL4(
            &pick,
            client: client,
            includePort: settings.hashIncludesClientPort,
            algorithm: cluster.settings.algorithm
        )
    }

    private func connect(context: ChannelHandlerContext) {
        let result = pick()
        guard let index = result.index else {
            logger.warning("closing client: no backend", metadata: ["reason": "\(result)", "client": "\(clientText)"])
            context.close(promise: nil)
            return
        }
        let backend = cluster.backends[index]
        attempts += 1
        tried.insert(index)
        backend.load.start()
        let started = NIODeadline.now()
        addresses.connect(loop.bootstrap, backend: index, of: cluster)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    self.glue(context: context, upstream: upstream, backend: index, started: started)
                case .failure(let error):
                    backend.load.finish(at: SystemClock().now)
                    for event in self.cluster.recordOutcome(.gatewayFailure(reason: "connect: \(ConnectionErrorText.describe(error))"), backend: index) {
                        self.logger.warning("\(event)")
                    }
                    // Nothing has been forwarded yet, so another backend
                    // can take the connection as if it had been first.
                    if self.attempts <= self.options.retries && context.channel.isActive {
                        self.connect(context: context)
                    } else {
                        self.logger.warning(
                            "closing client: every connect failed",
                            metadata: ["backend": "\(backend.id)", "client": "\(self.clientText)", "error": "\(error)"]
                        )
                        context.close(promise: nil)
                    }
                }
            }
    }

    /// Both ends of a relay: half-close passed on rather than closing the
    /// channel, and nothing read until the relay is in place (so a failed
    /// connect can be retried without losing client bytes, and no backend
    /// byte falls off the end of the pipeline). Set synchronously in the
    /// channel initializers, before registration.
    ///
    /// TCP_NODELAY needs no call here: ClientBootstrap sets it on backend
    /// sockets, and accepted sockets inherit it from the listening socket,
    /// where ServerBootstrap sets it.
    static func setRelayOptions(_ channel: any Channel) throws {
        guard let options = channel.syncOptions else { return }
        try options.setOption(.allowRemoteHalfClosure, value: true)
        try options.setOption(.autoRead, value: false)
    }

    private var clientText: String { client.map { "\($0)" } ?? "-" }

    private func glue(context: ChannelHandlerContext, upstream: any Channel, backend index: Int, started: NIODeadline) {
        guard context.channel.isActive else {
            upstream.close(promise: nil)
            cluster.backends[index].load.finish(at: SystemClock().now)
            return
        }
        let backend = cluster.backends[index]
        let earlyBytes = early.reduce(0) { $0 + $1.readableBytes }
        let clientText = self.clientText
        let logger = self.logger
        let (clientSide, serverSide) = GlueHandler.matchedPair(idleTimeout: settings.idleTimeout) { summary in
            let duration = NIODeadline.now() - started
            let bytesIn = earlyBytes + summary.fromClient
            let bytesOut = summary.fromServer
            backend.load.finish(at: SystemClock().now)
            backend.load.recordConnection(bytesIn: bytesIn, bytesOut: bytesOut, duration: .nanoseconds(duration.nanoseconds))
            logger.info(
                "connection closed",
                metadata: [
                    "client": "\(clientText)",
                    "backend": "\(backend.id)",
                    "bytes_in": "\(bytesIn)",
                    "bytes_out": "\(bytesOut)",
                    "duration_ms": "\(duration.nanoseconds / 1_000_000)",
                    "end": "\(summary.closedForIdleness ? "idle timeout" : "closed")",
                ]
            )
        }
        let clientChannel = context.channel
        do {
            try upstream.pipeline.syncOperations.addHandler(serverSide)
            try context.pipeline.syncOperations.addHandler(clientSide)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
            backend.load.finish(at: SystemClock().now)
            return
        }
        for event in cluster.recordOutcome(.success, backend: index) { logger.info("\(event)") }
        if let version = settings.sendProxyProtocol {
            let addresses = client.flatMap { client in
                destination.map { ProxyHeader.Addresses(source: client, destination: $0) }
            }
            let header = ProxyHeader(version: version, addresses: addresses)
            upstream.write(upstream.allocator.buffer(bytes: header.encoded()), promise: nil)
        }
        for buffer in early { upstream.write(buffer, promise: nil) }
        upstream.flush()
        if earlyEOF { upstream.close(mode: .output, promise: nil) }
        early = []
        // From here on reads are driven by the relay, which holds them back
        // while the other side cannot take writes.
        for channel in [upstream, clientChannel] {
            do {
                try channel.syncOptions?.setOption(.autoRead, value: true)
                channel.read()
            } catch {
                channel.close(promise: nil)
            }
        }
    }
}
