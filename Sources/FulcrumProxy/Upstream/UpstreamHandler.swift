import NIOCore

/// The backend end of a proxied exchange: the last handler of a backend
/// connection's pipeline, passing raw bytes to and from the
/// ``HTTPProxyHandler`` that is using the connection. Both live on the same
/// event loop. While the connection sits idle in the pool no proxy is
/// attached; a close is then reported to the pool, and any byte the backend
/// sends is a protocol error that closes the connection.
final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let pool: BackendConnectionPool
    let backend: Int
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    /// Read once: each `context.channel` access costs a retain and release.
    @exclusivity(unchecked) private(set) var channel: (any Channel)?
    @exclusivity(unchecked) private var proxy: HTTPProxyHandler?
    @exclusivity(unchecked) private var attemptID = 0
    /// Set while the client cannot take more bytes: the backend's reads wait.
    @exclusivity(unchecked) private var readsPaused = false
    @exclusivity(unchecked) private var pendingRead = false
    /// Whether the connection is still open, as this handler saw it; cheaper
    /// than asking the channel, whose state sits behind its lifecycle manager.
    @exclusivity(unchecked) private(set) var isActive = true

    init(pool: BackendConnectionPool, backend: Int) {
        self.pool = pool
        self.backend = backend
    }

    func attach(_ proxy: HTTPProxyHandler, attemptID: Int) {
        self.proxy = proxy
        self.attemptID = attemptID
    }

    /// Forgets the proxy; the connection is about to be pooled or closed.
    func detach() {
        proxy = nil
        resumeReads()
    }

    var isWritable: Bool { channel?.isWritable ?? false }

    /// Queues bytes for the backend; they go out on the next ``flush()``.
    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func close() {
        context?.close(promise: nil)
    }

    /// Stops reading from the backend until ``resumeReads()``.
    func pauseReads() {
        readsPaused = true
    }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        channel = context.channel
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        channel = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let proxy {
            proxy.backendRead(unwrapInboundIn(data), attemptID: attemptID)
        } else {
            // Bytes nobody asked for: the connection's framing is lost.
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        proxy?.backendReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { proxy?.backendBecameWritable() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        if let proxy {
            proxy.backendClosed(attemptID: attemptID)
        } else {
            pool.remove(context.channel, backend: backend)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            pendingRead = true
        } else {
            context.read()
        }
    }
}
