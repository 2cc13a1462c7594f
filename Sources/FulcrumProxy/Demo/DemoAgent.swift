import NIOCore
import NIOPosix

/// An HAProxy-style agent for a ``DemoBackend``: every connection gets the
/// backend's current ``DemoBackendState/agentReply`` and a newline, then is
/// closed, as agent-check expects. Scripts change the reply through the
/// backend's `/admin/agent?reply=…` to show an agent draining a backend or
/// lowering its weight while it keeps serving.
public final class DemoAgent: Sendable {
    public let channel: any Channel

    /// The port it listens on (useful when started on port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    /// Starts an agent on `host:port` (port 0 picks a free one) answering
    /// with `state`'s reply.
    public static func start(
        state: DemoBackendState,
        host: String = "127.0.0.1",
        port: Int = 0,
        group: any EventLoopGroup
    ) async throws -> DemoAgent {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AgentReplyWriter(state: state))
                }
            }
            .bind(host: host, port: port)
            .get()
        return DemoAgent(channel: channel)
    }

    /// Stops accepting and closes the listener.
    public func stop() async {
        try? await channel.close()
    }
}

/// Writes the reply to a new connection and closes it.
private final class AgentReplyWriter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: DemoBackendState

    init(state: DemoBackendState) { self.state = state }

    func channelActive(context: ChannelHandlerContext) {
        let reply = context.channel.allocator.buffer(string: state.agentReply + "\n")
        context.writeAndFlush(wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
