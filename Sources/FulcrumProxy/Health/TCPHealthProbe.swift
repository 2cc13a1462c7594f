import FulcrumConfig
import NIOCore
import NIOPosix

/// The `tcp` and `agent` checks: a connection, optionally a message, and for
/// `tcp` with `expect` or for `agent` a reply read until it is complete or
/// the connection closes.
///
/// `tcp` passes on connect (HAProxy's default `check` in TCP mode), or with
/// `send`/`expect` when the reply contains the expected text, as HAProxy's
/// `tcp-check send` / `tcp-check expect string`. `agent` reads one line and
/// applies it (see ``AgentReply``).
struct TCPHealthProbe: HealthProbe {
    /// Replies are read up to this size.
    static let maxReply = 16 * 1024

    let settings: HealthCheckConfig

    var kind: String { settings.type.rawValue }

    func run(_ target: CheckTarget, on loop: any EventLoop, promise: EventLoopPromise<CheckVerdict>) {
        let settings = settings
        let kind = kind
        let reads = settings.type == .agent || settings.expect != nil
        ProbeConnection.connect(target, on: loop, timeout: settings.timeout, promise: promise, kind: kind) { channel in
            guard reads else { return }
            try channel.pipeline.syncOperations.addHandler(ReplyCollector(promise: promise, settings: settings))
        } connected: { channel in
            if let send = settings.send {
                channel.writeAndFlush(channel.allocator.buffer(string: send), promise: nil)
            }
            if !reads { promise.succeed(.pass("tcp check: connected")) }
        }
    }

    /// The verdict on the bytes read so far; `nil` while more may come.
    static func judge(_ reply: [UInt8], closed: Bool, _ settings: HealthCheckConfig) -> CheckVerdict? {
        let text = String(decoding: reply, as: UTF8.self)
        if settings.type == .agent {
            guard closed || reply.contains(UInt8(ascii: "\n")) else { return nil }
            return AgentReply(Substring(text)).verdict
        }
        guard let expected = settings.expect else { return .pass("tcp check: connected") }
        if text.contains(expected) { return .pass("tcp check: got '\(expected)'") }
        guard closed || reply.count >= maxReply else { return nil }
        let got = text.prefix(40).replacing("\r", with: "\\r").replacing("\n", with: "\\n")
        return .fail("tcp check: expected '\(expected)', got '\(got)'")
    }
}

/// Collects a reply and hands it to ``TCPHealthProbe/judge(_:closed:_:)``.
private final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<CheckVerdict>
    private let settings: HealthCheckConfig
    private var reply: [UInt8] = []

    init(promise: EventLoopPromise<CheckVerdict>, settings: HealthCheckConfig) {
        self.promise = promise
        self.settings = settings
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let room = TCPHealthProbe.maxReply - reply.count
        if room > 0 { reply.append(contentsOf: buffer.readableBytesView.prefix(room)) }
        if let verdict = TCPHealthProbe.judge(reply, closed: false, settings) { promise.succeed(verdict) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let verdict = TCPHealthProbe.judge(reply, closed: true, settings) { promise.succeed(verdict) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(CheckFailure("\(settings.type.rawValue) check: \(ConnectionErrorText.describe(error))"))
        context.close(promise: nil)
    }
}
