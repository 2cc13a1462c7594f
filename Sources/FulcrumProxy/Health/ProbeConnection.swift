import NIOCore
import NIOPosix

/// The connection that TCP-based probes share: dial, set up the pipeline,
/// act once connected, and close when the check's promise completes.
enum ProbeConnection {
    static func connect(
        _ target: CheckTarget,
        on loop: any EventLoop,
        timeout: Duration,
        promise: EventLoopPromise<CheckVerdict>,
        kind: String,
        pipeline: @escaping @Sendable (any Channel) throws -> Void,
        connected: @escaping @Sendable (any Channel) -> Void
    ) {
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(timeout.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try pipeline(channel) }
            }
        let connecting: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: target.host, port: target.port) {
            connecting = bootstrap.connect(to: address)
        } else {
            connecting = bootstrap.connect(host: target.host, port: target.port)
        }
        connecting.whenComplete { result in
            switch result {
            case .success(let channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                connected(channel)
            case .failure(let error):
                promise.fail(CheckFailure("\(kind) check: \(ConnectionErrorText.describe(error))"))
            }
        }
    }
}
