import NIOCore

/// Relays bytes between two channels on one event loop, as swift-nio's
/// connect-proxy example does: each side writes what the other reads, and
/// holds back `read()` while its partner cannot take writes, so a slow side
/// slows the fast one instead of filling memory. Half-close is passed on:
/// when one side stops sending, the other side's output is closed.
///
/// The idle timeout lives here too, rather than in NIO's `IdleStateHandler`:
/// that one is another handler on every event and allocates a promise per
/// write to time it, while a relay only needs the time of the last read on
/// either side (every byte relayed is a read on one of the two channels) and
/// one timer per connection that re-arms for the time left.
///
/// The pair reports when both channels have closed, through a count the two
/// share, rather than by joining the two channels' close futures: that is a
/// promise and three callbacks per connection on a listener that may take
/// thousands a second.
final class GlueHandler {
    /// What a relay passed, reported once both channels have closed.
    struct Summary {
        /// Bytes read from the client (and written to the backend).
        var fromClient = 0
        /// Bytes read from the backend (and written to the client).
        var fromServer = 0
        /// Whether the idle timeout ended the connection.
        var closedForIdleness = false
    }

    /// The pair's open channels and what they passed; the last to close
    /// calls `onClosed`.
    private final class OpenCount {
        var open = 2
        var summary = Summary()
        let onClosed: (Summary) -> Void
        init(onClosed: @escaping (Summary) -> Void) { self.onClosed = onClosed }
    }

    private var partner: GlueHandler?
    private let openCount: OpenCount
    private let isClientSide: Bool
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// Bytes this side has read (and so passed to its partner).
    private var bytesRead = 0
    private var closedForIdleness = false
    private var lastRead = NIODeadline.now()
    /// Set on one side of a pair only; that side runs the timer.
    private let idleTimeout: TimeAmount?
    private var idleCheck: Scheduled<Void>?

    private init(idleTimeout: TimeAmount?, openCount: OpenCount, isClientSide: Bool) {
        self.idleTimeout = idleTimeout
        self.openCount = openCount
        self.isClientSide = isClientSide
    }

    /// Two handlers, each the other's partner; the first (put on the client
    /// channel) closes the connection after `idleTimeout` without a read on
    /// either side. `onClosed` runs once, on the loop, when both channels
    /// have gone inactive.
    static func matchedPair(
        idleTimeout: TimeAmount? = nil,
        onClosed: @escaping (Summary) -> Void = { _ in }
    ) -> (GlueHandler, GlueHandler) {
        let openCount = OpenCount(onClosed: onClosed)
        let first = GlueHandler(idleTimeout: idleTimeout, openCount: openCount, isClientSide: true)
        let second = GlueHandler(idleTimeout: nil, openCount: openCount, isClientSide: false)
        first.partner = second
        second.partner = first
        return (first, second)
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, in delay: TimeAmount) {
        guard let idleTimeout else { return }
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            idleCheck = nil
            let last = max(lastRead, partner?.lastRead ?? lastRead)
            let quiet = NIODeadline.now() - last
            if quiet >= idleTimeout {
                closedForIdleness = true
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context: context, in: idleTimeout - quiet)
            }
        }
    }

    private func partnerWrite(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private func partnerWriteEOF() {
        context?.close(mode: .output, promise: nil)
    }

    private func partnerCloseFull() {
        context?.close(promise: nil)
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private var partnerWritable: Bool {
        context?.channel.isWritable ?? false
    }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let idleTimeout { scheduleIdleCheck(context: context, in: idleTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        bytesRead += unwrapInboundIn(data).readableBytes
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerCloseFull()
        if isClientSide {
            openCount.summary.fromClient = bytesRead
            openCount.summary.closedForIdleness = closedForIdleness
        } else {
            openCount.summary.fromServer = bytesRead
        }
        openCount.open -= 1
        if openCount.open == 0 { openCount.onClosed(openCount.summary) }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
