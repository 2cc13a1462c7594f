import NIOCore
import NIOPosix

/// A UDP server for tests and demos: it answers each datagram with
/// `NAME payload`, so a client sees which backend its flow went to.
public final class DemoUDPBackend: Sendable {
    public let name: String
    public let channel: any Channel

    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(name: String, channel: any Channel) {
        self.name = name
        self.channel = channel
    }

    public static func start(name: String, host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup) async throws
        -> DemoUDPBackend
    {
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NameEchoHandler(name: name))
                }
            }
            .bind(host: host, port: port)
            .get()
        return DemoUDPBackend(name: name, channel: channel)
    }

    public func stop() async {
        try? await channel.close()
    }
}

private final class NameEchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let name: String

    init(name: String) { self.name = name }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        var reply = context.channel.allocator.buffer(string: "\(name) ")
        reply.writeBuffer(&envelope.data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: reply)), promise: nil)
    }
}
