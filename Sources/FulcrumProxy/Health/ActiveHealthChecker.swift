import FulcrumConfig
import FulcrumCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Active health checks for one cluster: every backend is checked every
/// `interval` (spread by ±10% jitter so checks of many backends are not
/// fired in bursts), and each result feeds the cluster's rise/fall state
/// machine. State changes are logged with their reasons, for example
/// `cluster=api backend=b2 DOWN (3 consecutive failures, last: HTTP 500 (3/3))`.
///
/// Checks run on the event loops as plain scheduled tasks: a TCP check is a
/// connect; an HTTP check sends `GET path` and reads the status line.
public final class ActiveHealthChecker: Sendable {
    /// Each backend's next scheduled check, and whether checking stopped.
    private let state = Mutex<(tasks: [Int: Scheduled<Void>], stopped: Bool)>(([:], false))
    private let cluster: Cluster
    private let settings: HealthCheckConfig
    private let logger: Logger

    /// Starts checking every backend of `cluster`.
    public init(cluster: Cluster, settings: HealthCheckConfig, group: any EventLoopGroup, logger: Logger) {
        self.cluster = cluster
        self.settings = settings
        self.logger = logger
        var random = FastRandom()
        for index in cluster.backends.indices {
            // Spread the first checks over one interval.
            let offset = Int64(Double(settings.interval.nanoseconds) * random.unit())
            schedule(index, on: group.next(), after: .nanoseconds(offset))
        }
    }

    /// Stops scheduling checks; checks in flight finish and are ignored.
    public func stop() {
        let tasks = state.withLock { state in
            state.stopped = true
            return state.tasks.values
        }
        for task in tasks { task.cancel() }
    }

    private func schedule(_ index: Int, on loop: any EventLoop, after delay: TimeAmount) {
        guard !state.withLock({ $0.stopped }) else { return }
        let task = loop.scheduleTask(in: delay) { [self] in
            check(index, on: loop).whenComplete { [self] result in
                let outcome: CheckResult
                switch result {
                case .success(let detail): outcome = .success(detail: detail)
                case .failure(let error): outcome = .failure(reason: "\(error)")
                }
                guard !state.withLock({ $0.stopped }) else { return }
                for event in cluster.recordCheck(outcome, backend: index) {
                    if event.kind == .down { logger.warning("\(event)") } else { logger.info("\(event)") }
                }
                var random = FastRandom()
                let jitter = 0.9 + 0.2 * random.unit()
                schedule(index, on: loop, after: .nanoseconds(Int64(Double(settings.interval.nanoseconds) * jitter)))
            }
        }
        state.withLock { $0.tasks[index] = task }
    }

    /// One check; succeeds with a short detail, fails with the reason.
    private func check(_ index: Int, on loop: any EventLoop) -> EventLoopFuture<String> {
        let backend = cluster.backends[index]
        let timeout = TimeAmount.nanoseconds(settings.timeout.nanoseconds)
        let type = settings.type
        let request = "GET \(settings.path) HTTP/1.1\r\nHost: \(backend.address)\r\nUser-Agent: fulcrum-health\r\nConnection: close\r\n\r\n"
        let promise = loop.makePromise(of: String.self)
        let deadline = loop.scheduleTask(in: timeout) {
            promise.fail(CheckFailure("timeout after \(self.settings.timeout)"))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                guard type == .http else { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StatusLineReader(promise: promise))
                }
            }
            .connect(host: backend.address.host, port: backend.address.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    if type == .tcp {
                        promise.succeed("connected")
                        channel.close(promise: nil)
                    } else {
                        channel.writeAndFlush(channel.allocator.buffer(string: request), promise: nil)
                        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                    }
                case .failure(let error):
                    promise.fail(CheckFailure("connect: \(error)"))
                }
            }
        return promise.futureResult
    }
}

/// Why a check failed, shown to operators.
struct CheckFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reads an HTTP response's status line: 2xx and 3xx pass (HAProxy's and
/// Envoy's default), anything else fails with `HTTP <code>`.
private final class StatusLineReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<String>
    private var buffer = ByteBuffer()

    init(promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        guard let line = buffer.readableBytesView.firstRange(of: [13, 10]) else {
            if buffer.readableBytes > 8192 { promise.fail(CheckFailure("status line too long")) }
            return
        }
        let statusLine = String(decoding: buffer.readableBytesView[..<line.lowerBound], as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
            promise.fail(CheckFailure("not an HTTP response"))
            return
        }
        if (200..<400).contains(code) {
            promise.succeed("HTTP \(code)")
        } else {
            promise.fail(CheckFailure("HTTP \(code)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(CheckFailure("connection closed before a status line"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(CheckFailure("\(error)"))
        context.close(promise: nil)
    }
}
