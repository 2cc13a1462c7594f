import FulcrumCore
import Logging
import NIOCore

/// The first handler of a child channel on a listener with
/// `proxy_protocol: accept`: it admits only trusted sources, strips their
/// PROXY protocol header (v1 or v2), announces the client it names, then
/// removes itself so payload bytes pass without it.
///
/// The spec forbids guessing whether a header is present, since a receiver
/// that falls back to the raw connection lets anyone spoof an address.
/// So a source outside `trusted` is closed at once, and a trusted one must
/// send a valid header within `headerTimeout` (the spec asks for at least
/// 3 s, to cover a TCP retransmit).
///
/// Order of events once the header is whole: the record is filled, a
/// ``ProxyProtocolClientAddress`` user event is fired, the bytes that
/// followed the header are passed on, and the decoder leaves the pipeline.
/// It calls `read()` itself while the header is incomplete, so it works on
/// channels with `autoRead` off, as the TCP listener's are.
public final class ProxyProtocolDecoder: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// The default time a trusted source gets to send its header.
    public static let defaultHeaderTimeout = TimeAmount.seconds(5)

    private let trusted: [IPNetwork]
    private let record: ProxyProtocolRecord?
    private let parser: ProxyHeaderParser
    private let headerTimeout: TimeAmount
    private let logger: Logger
    private var buffered: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var state = State.waiting

    private enum State {
        case waiting, reading, done, failed
    }

    public init(
        trusted: [IPNetwork],
        record: ProxyProtocolRecord? = nil,
        headerTimeout: TimeAmount = ProxyProtocolDecoder.defaultHeaderTimeout,
        parser: ProxyHeaderParser = ProxyHeaderParser(),
        logger: Logger
    ) {
        self.trusted = trusted
        self.record = record
        self.headerTimeout = headerTimeout
        self.parser = parser
        self.logger = logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    private func start(context: ChannelHandlerContext) {
        guard case .waiting = state else { return }
        state = .reading
        let peer = context.channel.remoteAddress.flatMap(ClientAddress.init)
        guard let peer, trusted.contains(where: { $0.contains(peer) }) else {
            fail(
                context: context,
                ProxyProtocolError(.untrustedSource, "\(peer.map { "\($0)" } ?? "an unknown peer") is not a trusted source")
            )
            return
        }
        let loop = context.eventLoop.assumeIsolated()
        timer = loop.scheduleTask(in: headerTimeout) { [self] in
            fail(context: context, ProxyProtocolError(.timeout, "no complete header within \(headerTimeout)"))
        }
        context.read()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .reading = state else {
            // After a refusal the connection is closing: nothing goes on.
            if case .done = state { context.fireChannelRead(data) }
            return
        }
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        let outcome: ProxyHeaderParser.Outcome
        do {
            outcome = try buffered!.withUnsafeReadableBytes { bytes throws(ProxyProtocolError) in
                try parser.parse(bytes)
            }
        } catch {
            fail(context: context, error)
            return
        }
        guard case .complete(let header, let length) = outcome else { return }
        state = .done
        timer?.cancel()
        timer = nil
        var rest = buffered!
        buffered = nil
        rest.moveReaderIndex(forwardBy: length)
        let client = header.client ?? context.channel.remoteAddress.flatMap(ProxyEndpoint.init)
        let carried = ProxyProtocolClientAddress(client: client, header: header)
        record?.value = carried
        context.fireUserInboundEventTriggered(carried)
        if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        switch state {
        case .reading: context.read()  // the header is not whole yet
        case .done, .waiting: context.fireChannelReadComplete()
        case .failed: break
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .reading = state, let event = event as? ChannelEvent, case .inputClosed = event {
            fail(context: context, ProxyProtocolError(.truncated, "the peer closed before a complete header"))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func fail(context: ChannelHandlerContext, _ error: ProxyProtocolError) {
        guard case .reading = state else { return }
        state = .failed
        timer?.cancel()
        timer = nil
        buffered = nil
        logger.warning(
            "closing connection: PROXY protocol",
            metadata: [
                "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")",
                "reason": "\(error.code)", "detail": "\(error.message)",
            ]
        )
        context.close(promise: nil)
    }
}
