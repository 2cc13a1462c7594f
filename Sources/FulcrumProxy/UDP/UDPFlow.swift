import FulcrumCore
import Logging
import NIOCore
import NIOPosix

/// One client's flow: a connected datagram socket to its backend, whose
/// replies go back to the client from the listener's address.
///
/// A connected socket per flow lets the kernel match replies to the flow
/// (no table lookup per reply) and reports a dead backend as
/// `ECONNREFUSED`, which ends the flow so the client's next datagram picks
/// again. All of it runs on the listener's event loop.
final class UDPFlow {
    let client: SocketAddress
    private let backendIndex: Int
    private let cluster: Cluster
    private let listener: any Channel
    private let logger: Logger
    private let maxPending: Int
    private let onEnd: (UDPFlow) -> Void
    private let started = NIODeadline.now()
    private var upstream: (any Channel)?
    private var pending: [ByteBuffer] = []
    private var ended = false
    private(set) var lastActivity = NIODeadline.now()
    private var bytesIn = 0
    private var bytesOut = 0
    private var datagramsIn = 0
    private var datagramsOut = 0

    init(
        client: SocketAddress,
        backendIndex: Int,
        address: SocketAddress,
        cluster: Cluster,
        listener: any Channel,
        maxPending: Int,
        maxDatagramSize: Int,
        logger: Logger,
        onEnd: @escaping (UDPFlow) -> Void
    ) {
        self.client = client
        self.backendIndex = backendIndex
        self.cluster = cluster
        self.listener = listener
        self.maxPending = maxPending
        self.logger = logger
        self.onEnd = onEnd
        let backend = cluster.backends[backendIndex]
        backend.load.start()
        // The initializer runs on the listener's loop, where the flow lives.
        let flow = NIOLoopBound(self, eventLoop: listener.eventLoop)
        DatagramBootstrap(group: listener.eventLoop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maxDatagramSize))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPReplyHandler(flow: flow.value))
                }
            }
            .connect(to: address)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard !self.ended else {
                        channel.close(promise: nil)
                        return
                    }
                    self.upstream = channel
                    for datagram in self.pending { channel.write(datagram, promise: nil) }
                    self.pending = []
                    channel.flush()
                case .failure(let error):
                    self.backendFailed("\(error)")
                }
            }
    }

    /// Relays a client datagram (held until the backend socket is ready).
    func sendToBackend(_ datagram: ByteBuffer) {
        guard !ended else { return }
        lastActivity = .now()
        bytesIn += datagram.readableBytes
        datagramsIn += 1
        if let upstream {
            upstream.writeAndFlush(datagram, promise: nil)
        } else if pending.count < maxPending {
            pending.append(datagram)
        }
    }

    /// Relays a backend reply to the client.
    func sendToClient(_ datagram: ByteBuffer) {
        guard !ended else { return }
        lastActivity = .now()
        bytesOut += datagram.readableBytes
        datagramsOut += 1
        listener.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: datagram), promise: nil)
    }

    /// The backend socket reported an error (ECONNREFUSED for a dead port).
    func backendFailed(_ reason: String) {
        guard !ended else { return }
        for event in cluster.recordOutcome(.gatewayFailure(reason: "udp: \(reason)"), backend: backendIndex) {
            logger.warning("\(event)")
        }
        end(reason: "backend error: \(reason)")
    }

    /// Ends the flow once: closes its backend socket, counts and logs it.
    func end(reason: String) {
        guard !ended else { return }
        ended = true
        upstream?.close(promise: nil)
        upstream = nil
        pending = []
        let backend = cluster.backends[backendIndex]
        let duration = NIODeadline.now() - started
        backend.load.finish(at: SystemClock().now)
        backend.load.recordConnection(bytesIn: bytesIn, bytesOut: bytesOut, duration: .nanoseconds(duration.nanoseconds))
        logger.info(
            "flow closed",
            metadata: [
                "client": "\(ProxyEndpoint(client).map { "\($0)" } ?? "\(client)")",
                "backend": "\(backend.id)",
                "bytes_in": "\(bytesIn)",
                "bytes_out": "\(bytesOut)",
                "datagrams_in": "\(datagramsIn)",
                "datagrams_out": "\(datagramsOut)",
                "duration_ms": "\(duration.nanoseconds / 1_000_000)",
                "end": "\(reason)",
            ]
        )
        onEnd(self)
    }
}

/// Passes a flow's backend replies and errors to the flow.
private final class UDPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let flow: UDPFlow

    init(flow: UDPFlow) { self.flow = flow }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        flow.sendToClient(unwrapInboundIn(data).data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        flow.backendFailed("\(error)")
    }
}
