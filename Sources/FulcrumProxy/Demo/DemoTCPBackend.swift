import NIOCore
import NIOPosix

/// A TCP server for tests and demos: it greets each connection with
/// `NAME\n`, echoes what it receives, and when the client stops sending
/// (half-close) it writes `bye NAME\n` and closes.
public final class DemoTCPBackend: Sendable {
    public let name: String
    public let channel: any Channel

    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(name: String, channel: any Channel) {
        self.name = name
        self.channel = channel
    }

    public static func start(name: String, host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup) async throws
        -> DemoTCPBackend
    {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EchoHandler(name: name))
                }
            }
            .bind(host: host, port: port)
            .get()
        return DemoTCPBackend(name: name, channel: channel)
    }

    public func stop() async {
        try? await channel.close()
    }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let name: String

    init(name: String) { self.name = name }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "\(name)\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "bye \(name)\n")))
                .assumeIsolated()
                .whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
