import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// The listening socket's handler: maps each client address and port to a
/// ``UDPFlow`` and ends flows that have gone quiet.
///
/// Idle flows are found by a sweep every quarter of the idle timeout (at
/// most once a second) rather than by a timer per flow, so a busy flow costs
/// no timer work per datagram; a flow ends between 1 and 1.25 idle timeouts
/// after its last datagram.
final class UDPFlowTable: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let cluster: Cluster
    private let settings: UDPListenerSettings
    private let logger: Logger
    private var reader: SnapshotReader
    private let addresses: BackendSocketAddresses
    private var random = FastRandom()
    private var flows: [SocketAddress: UDPFlow] = [:]
    private var sweep: Scheduled<Void>?
    /// Datagrams dropped at the session bound since the last log line, and
    /// when that line was written: one line a second at most, however hard
    /// a flood pushes.
    private var droppedAtLimit = 0
    private var lastLimitLog: NIODeadline?

    init(cluster: Cluster, settings: UDPListenerSettings, logger: Logger) {
        self.cluster = cluster
        self.settings = settings
        self.logger = logger
        reader = SnapshotReader(cluster, seed: 104_729)
        addresses = BackendSocketAddresses(cluster)
    }

    /// The number of live flows, for tests and status.
    var count: Int { flows.count }

    func channelActive(context: ChannelHandlerContext) {
        scheduleSweep(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleSweep(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sweep?.cancel()
        sweep = nil
        for flow in flows.values { flow.end(reason: "listener closed") }
        flows = [:]
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if let flow = flows[envelope.remoteAddress] {
            flow.sendToBackend(envelope.data)
            return
        }
        guard flows.count < settings.maxSessions else {
            dropAtLimit(context: context)
            return
        }
        guard let flow = openFlow(context: context, client: envelope.remoteAddress) else { return }
        flows[envelope.remoteAddress] = flow
        flow.sendToBackend(envelope.data)
    }

    private func openFlow(context: ChannelHandlerContext, client: SocketAddress) -> UDPFlow? {
        var pick = PickContext(random: random, now: SystemClock().now)
        defer { random = pick.random }
        let result = reader.pickL4(
            &pick,
            client: ProxyEndpoint(client),
            includePort: settings.hashIncludesClientPort,
            algorithm: cluster.settings.algorithm
        )
        guard let index = result.index else {
            logger.warning("dropping datagram: no backend", metadata: ["client": "\(client)", "reason": "\(result)"])
            return nil
        }
        // A host name is resolved here, blocking the loop for the lookup:
        // acceptable for a flow's first datagram, and IP literals (the usual
        // UDP backend) are parsed once at start instead.
        let backend = cluster.backends[index]
        guard
            let address = addresses[index]
                ?? (try? SocketAddress.makeAddressResolvingHost(backend.address.host, port: backend.address.port))
        else {
            logger.warning("dropping datagram: cannot resolve backend", metadata: ["backend": "\(backend.id)"])
            return nil
        }
        return UDPFlow(
            client: client,
            backendIndex: index,
            address: address,
            cluster: cluster,
            listener: context.channel,
            maxPending: settings.maxPendingPerFlow,
            maxDatagramSize: settings.maxDatagramSize,
            logger: logger,
            onEnd: { [weak self] flow in
                guard let self, self.flows[flow.client] === flow else { return }
                self.flows[flow.client] = nil
            }
        )
    }

    private func dropAtLimit(context: ChannelHandlerContext) {
        droppedAtLimit += 1
        let now = NIODeadline.now()
        if let last = lastLimitLog, now - last < .seconds(1) { return }
        lastLimitLog = now
        logger.warning(
            "udp session limit reached: datagrams from new clients are dropped",
            metadata: [
                "max_sessions": "\(settings.maxSessions)",
                "dropped": "\(droppedAtLimit)",
                "hint": "raise max_sessions or lower idle_timeout",
            ]
        )
        droppedAtLimit = 0
    }

    private func scheduleSweep(context: ChannelHandlerContext) {
        guard sweep == nil else { return }
        let quarter = TimeAmount.nanoseconds(settings.idleTimeout.nanoseconds / 4)
        let interval = max(min(quarter, .seconds(1)), .milliseconds(10))
        sweep = context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            sweep = nil
            let deadline = NIODeadline.now() - settings.idleTimeout
            for flow in flows.values where flow.lastActivity < deadline {
                flow.end(reason: "idle timeout")
            }
            if context.channel.isActive { scheduleSweep(context: context) }
        }
    }
}
