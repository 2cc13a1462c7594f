import FulcrumConfig
import FulcrumCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Proxies one client connection's requests, one at a time, to backends
/// picked from the cluster.
///
/// Everything runs on the client's event loop: backend connections are
/// dialled with `ClientBootstrap(group: context.eventLoop)` and kept in that
/// loop's keep-alive pool, so the channels' callbacks never race and the
/// pool needs no lock.
final class HTTPProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routing: HTTPRouting
    /// The routing's targets as this event loop uses them.
    private let targets: [LoopTarget]
    private let logger: Logger
    private var random = FastRandom()
    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    /// Distinguishes attempts, so that a late event from an abandoned
    /// backend connection is ignored.
    private var attemptCounter = 0
    private let clientTimeouts: ClientTimeouts
    private let accessLog: AccessLogFormat?
    private let accessLogger: Logger?
    /// Closes a connection that sends no complete request head in time: the
    /// header timeout for the first request (a slowloris defence), the idle
    /// timeout between keep-alive requests.
    private var idleTimer: Scheduled<Void>?
    private var servedRequests = 0
    /// The client's address, read once: it does not change on a connection.
    private var client: ClientAddress?
    /// Set when the listener drains: finish the request in flight, then close.
    private var draining = false

    /// One request and its attempts.
    private struct Exchange {
        var head: HTTPRequestHead
        /// The cluster the request was routed to, as an index into `targets`.
        var target: Int
        /// The matched route's header handling.
        var headerHandling = RouteHeaders.defaults
        /// Body parts kept so that a retry can resend them: all of them
        /// until a backend connection is streaming, then only up to
        /// ``retryBufferLimit`` bytes in all.
        var body: [ByteBuffer] = []
        var bodyBytes = 0
        /// Set when parts were dropped from `body`: the request can no
        /// longer be replayed elsewhere.
        var bodyReleased = false
        var requestEnded = false
        var tried = TriedBackends()
        var attempts = 0
        var attemptID = 0
        var backend = -1
        var backendChannel: (any Channel)?
        var backendHandler: BackendResponseHandler?
        /// Whether the backend's response allows reusing its connection.
        var backendKeepAlive = false
        /// Whether the current attempt counts in the backend's load.
        var attemptOpen = false
        var attemptStarted = NIODeadline.now()
        var started = NIODeadline.now()
        var responseStarted = false
        /// Response body bytes sent to the client, for the access log.
        var responseBytes = 0
        var status = 0
        var timeout: Scheduled<Void>?
    }

    init(
        routing: HTTPRouting,
        targets: [LoopTarget],
        clientTimeouts: ClientTimeouts,
        accessLog: AccessLogFormat?,
        logger: Logger
    ) {
        self.routing = routing
        self.targets = targets
        self.clientTimeouts = clientTimeouts
        self.accessLog = accessLog
        accessLogger = accessLog.map { _ in Logger(label: "fulcrum.access") }
        self.logger = logger
    }

    private func armIdleTimer() {
        guard let context else { return }
        idleTimer?.cancel()
        let first = servedRequests == 0
        let timeout = first ? clientTimeouts.header : clientTimeouts.idle
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard self.exchange == nil, let context = self.context else { return }
            self.logger.debug(
                "closing client connection",
                metadata: ["reason": "\(first ? "no request head within" : "idle for") \(timeout)"]
            )
            context.close(promise: nil)
        }
    }

    /// The current exchange's cluster, options, reader and pool.
    private var target: LoopTarget { targets[exchange!.target] }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        client = context.channel.remoteAddress.flatMap(ClientAddress.init)
        if context.channel.isActive { armIdleTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer()
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is DrainRequest else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        draining = true
        if exchange == nil { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            idleTimer?.cancel()
            idleTimer = nil
            servedRequests += 1
            guard let choice = routing.choose(head, client, &random) else {
                exchange = Exchange(head: head, target: 0)
                respondWithError(.notFound, reason: "no route for \(head.headers.first(name: "Host") ?? "-")\(head.uri)")
                return
            }
            var exchange = Exchange(head: head, target: choice.target)
            exchange.headerHandling = choice.headers
            exchange.started = .now()
            self.exchange = exchange
            dispatch()
        case .body(let buffer):
            guard var exchange else { return }
            if let channel = exchange.backendChannel, exchange.attempts > 0 {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
            }
            // Kept for a retry on another backend while the body is small;
            // a large body streaming to a connected backend is not retained.
            exchange.bodyBytes += buffer.readableBytes
            if exchange.backendChannel != nil && exchange.bodyBytes > Self.retryBufferLimit {
                exchange.body = []
                exchange.bodyReleased = true
            } else if !exchange.bodyReleased {
                exchange.body.append(buffer)
            }
            self.exchange = exchange
        case .end:
            guard var exchange else { return }
            exchange.requestEnded = true
            self.exchange = exchange
            if let channel = exchange.backendChannel {
                channel.write(HTTPClientRequestPart.end(nil), promise: nil)
            }
        }
    }

    /// One flush per read burst: what this read delivered goes to the
    /// backend in as few writes as the kernel allows.
    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.backendChannel?.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            // The client left mid-exchange: release the backend side.
            exchange.timeout?.cancel()
            exchange.backendChannel?.close(promise: nil)
            if exchange.attemptOpen {
                targets[exchange.target].cluster.backends[exchange.backend].load.finish(at: SystemClock().now)
            }
        }
        exchange = nil
        context.fireChannelInactive()
    }

    /// A malformed request: NIOHTTP1's error handler has answered 400;
    /// closing is ours to do.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.info("closing client connection", metadata: ["reason": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Attempts

    private func dispatch() {
        guard let context, var exchange else { return }
        let target = targets[exchange.target]
        let cluster = target.cluster
        let options = target.options
        let reader = target.reader
        let pool = target.pool
        var pick = PickContext(random: random, now: SystemClock().now)
        pick.tried = exchange.tried
        pick.client = client
        let result: PickResult
        if options.hashKey == .clientIP, let client = pick.client {
            result = client.withBytes { bytes in
                pick.hashKey = bytes
                return reader.value.pick(&pick)
            }
        } else if let key = options.hashKey?.value(in: exchange.head) {
            var key = key
            result = key.withUTF8 { bytes in
                pick.hashKey = UnsafeRawBufferPointer(bytes)
                return reader.value.pick(&pick)
            }
        } else {
            result = reader.value.pick(&pick)
        }
        random = pick.random
        guard let index = result.index else {
            let reason = if case .unavailable(let why) = result { why.rawValue } else { "no backend" }
            respondWithError(.serviceUnavailable, reason: reason, extraHeaders: [("Retry-After", "1")])
            return
        }
        let backend = cluster.backends[index]
        attemptCounter += 1
        exchange.attempts += 1
        exchange.attemptID = attemptCounter
        exchange.backend = index
        exchange.tried.insert(index)
        exchange.attemptStarted = .now()
        exchange.backendChannel = nil
        exchange.attemptOpen = true
        self.exchange = exchange
        backend.load.start()

        let attemptID = attemptCounter
        if let idle = pool.value.checkout(index) {
            idle.handler.attach(self, attemptID: attemptID)
            connected(idle.channel, handler: idle.handler, attemptID: attemptID)
            return
        }
        let handler = BackendResponseHandler(pool: pool, backend: index)
        handler.attach(self, attemptID: attemptID)
        let boundHandler = NIOLoopBound(handler, eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(boundHandler.value)
                }
            }
            .connect(host: backend.address.host, port: backend.address.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel): self.connected(channel, handler: handler, attemptID: attemptID)
                case .failure(let error): self.attemptFailed(attemptID: attemptID, reason: "connect: \(error)", canRetry: true)
                }
            }
    }

    private func connected(_ channel: any Channel, handler: BackendResponseHandler, attemptID: Int) {
        guard let context, var exchange, exchange.attemptID == attemptID else {
            channel.close(promise: nil)
            return
        }
        exchange.backendChannel = channel
        exchange.backendHandler = handler
        var head = exchange.head
        Self.prepareRequestHeaders(
            &head,
            context: context,
            handling: exchange.headerHandling,
            backend: targets[exchange.target].cluster.backends[exchange.backend].address
        )
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        for buffer in exchange.body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        }
        if exchange.requestEnded {
            channel.write(HTTPClientRequestPart.end(nil), promise: nil)
        }
        channel.flush()
        exchange.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: target.options.firstByteTimeout) {
            self.firstByteTimedOut(attemptID: attemptID)
        }
        self.exchange = exchange
    }

    private func firstByteTimedOut(attemptID: Int) {
        guard let exchange, exchange.attemptID == attemptID, !exchange.responseStarted else { return }
        let target = self.target
        finishAttempt(outcome: .gatewayFailure(reason: "no response within \(target.options.firstByteTimeout)"))
        respondWithError(.gatewayTimeout, reason: "backend \(target.cluster.backends[exchange.backend].id) sent nothing in time")
    }

    /// An attempt ended before any response byte.
    private func attemptFailed(attemptID: Int, reason: String, canRetry: Bool) {
        guard let exchange, exchange.attemptID == attemptID, !exchange.responseStarted else { return }
        let options = target.options
        let backendID = target.cluster.backends[exchange.backend].id
        finishAttempt(outcome: .gatewayFailure(reason: reason))
        // A connect failure never reached the backend; a reset before any
        // response byte is safe to retry only for idempotent methods.
        let idempotent = [.GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE].contains(exchange.head.method)
        if canRetry && !exchange.bodyReleased && (reason.hasPrefix("connect") || idempotent)
            && exchange.attempts <= options.retries
        {
            logger.info("retrying on another backend", metadata: ["backend": "\(backendID)", "reason": "\(reason)"])
            dispatch()
        } else if reason.hasPrefix("connect") && target.reader.value.current().mode == .panic {
            // Every backend is known to be down and panic routing tried one
            // anyway: the service is unavailable, not misbehaving.
            respondWithError(
                .serviceUnavailable,
                reason: "no healthy backend (panic routing tried \(backendID): \(reason))",
                extraHeaders: [("Retry-After", "1")]
            )
        } else {
            respondWithError(.badGateway, reason: "backend \(backendID): \(reason)")
        }
    }

    /// Ends the current attempt's bookkeeping: load, outcome, and the
    /// backend connection, which goes back to the pool when `reuse` allows.
    private func finishAttempt(outcome: PassiveOutcome, reuse: Bool = false) {
        guard var exchange, exchange.attemptOpen else { return }
        let cluster = targets[exchange.target].cluster
        let pool = targets[exchange.target].pool
        exchange.attemptOpen = false
        exchange.timeout?.cancel()
        exchange.timeout = nil
        let latency = Duration.nanoseconds((NIODeadline.now() - exchange.attemptStarted).nanoseconds)
        cluster.backends[exchange.backend].load.finish(latency: latency, at: SystemClock().now)
        for event in cluster.recordOutcome(outcome, backend: exchange.backend) {
            logger.warning("\(event)")
        }
        if let channel = exchange.backendChannel, let handler = exchange.backendHandler {
            handler.detach()
            if reuse {
                pool.value.checkin(exchange.backend, channel: channel, handler: handler)
            } else {
                channel.close(promise: nil)
            }
        }
        exchange.backendChannel = nil
        exchange.backendHandler = nil
        self.exchange = exchange
    }

    // MARK: - Responses

    func backendRead(_ part: HTTPClientResponsePart, attemptID: Int) {
        guard let context, var exchange, exchange.attemptID == attemptID else { return }
        switch part {
        case .head(let head):
            exchange.timeout?.cancel()
            exchange.timeout = nil
            exchange.responseStarted = true
            exchange.status = Int(head.status.code)
            exchange.backendKeepAlive = head.isKeepAlive
            self.exchange = exchange
            var response = HTTPResponseHead(version: exchange.head.version, status: head.status, headers: head.headers)
            Self.removeHopByHop(&response.headers)
            if !exchange.head.isKeepAlive || draining {
                response.headers.replaceOrAdd(name: "Connection", value: "close")
            }
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(let buffer):
            self.exchange?.responseBytes += buffer.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            let keepAlive = exchange.head.isKeepAlive && !draining
            let status = exchange.status
            finishAttempt(
                outcome: [502, 503, 504].contains(status) ? .gatewayFailure(reason: "HTTP \(status)") : .success,
                reuse: exchange.backendKeepAlive && exchange.requestEnded
            )
            logAccess(status: status)
            self.exchange = nil
            // The end flushes everything written since the last read burst,
            // so a response that arrives in one read costs one write.
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
            if keepAlive { armIdleTimer() }
        }
    }

    /// The backend's read burst ended: send the client what it produced, in
    /// one flush.
    func backendReadComplete() {
        context?.flush()
    }

    func backendClosed(attemptID: Int) {
        guard let context, let exchange, exchange.attemptID == attemptID else { return }
        if exchange.responseStarted {
            // Cut off mid-response: the client cannot be given a clean answer.
            finishAttempt(outcome: .gatewayFailure(reason: "closed mid-response"))
            self.exchange = nil
            context.close(promise: nil)
        } else {
            attemptFailed(attemptID: attemptID, reason: "connection closed before the response", canRetry: true)
        }
    }

    private func respondWithError(
        _ status: HTTPResponseStatus,
        reason: String,
        extraHeaders: [(String, String)] = []
    ) {
        guard let context else { return }
        let keepAlive = (exchange?.head.isKeepAlive ?? false) && !draining
        let version = exchange?.head.version ?? .http1_1
        logger.warning("\(status.code) \(status.reasonPhrase): \(reason)", metadata: ["uri": "\(exchange?.head.uri ?? "")"])
        exchange?.responseBytes = "\(status.code) \(status.reasonPhrase)\n".utf8.count
        logAccess(status: Int(status.code))
        exchange?.timeout?.cancel()
        exchange = nil
        let body = "\(status.code) \(status.reasonPhrase)\n"
        var headers = HTTPHeaders([("Content-Type", "text/plain"), ("Content-Length", String(body.utf8.count))])
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
        if keepAlive { armIdleTimer() }
    }

    /// One access-log line for the finished exchange, when the listener
    /// has an access log.
    private func logAccess(status: Int) {
        guard let format = accessLog, let exchange, let accessLogger else { return }
        let head = exchange.head
        let record = AccessRecord(
            client: context?.channel.remoteAddress?.ipAddress ?? "-",
            method: head.method.rawValue,
            uri: head.uri,
            version: "HTTP/\(head.version.major).\(head.version.minor)",
            status: status,
            bytes: exchange.responseBytes,
            referer: head.headers.first(name: "Referer"),
            userAgent: head.headers.first(name: "User-Agent"),
            cluster: target.name,
            backend: exchange.backend >= 0 ? target.cluster.backends[exchange.backend].id : "-",
            upstreamMilliseconds: Double((NIODeadline.now() - exchange.started).nanoseconds) / 1e6,
            retries: max(0, exchange.attempts - 1)
        )
        let unixSeconds = Int(time(nil))
        accessLogger.info("\(record.line(format, unixSeconds: unixSeconds))")
    }

    // MARK: - Headers

    /// How much of a request body is kept for replay on another backend once
    /// a backend is receiving it: 64 KiB, so large uploads are not held.
    static let retryBufferLimit = 64 * 1024

    /// Hop-by-hop headers (RFC 9110 §7.6.1) and those a proxy must not pass on.
    static let hopByHop = [
        "connection", "keep-alive", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection",
    ]

    /// Removes the hop-by-hop headers and those the `Connection` header
    /// names. `Transfer-Encoding` stays: NIOHTTP1's encoder frames the body
    /// from it.
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        let named = headers[canonicalForm: "connection"]
        for name in hopByHop { headers.remove(name: name) }
        for name in named where name.lowercased() != "transfer-encoding" {
            headers.remove(name: String(name))
        }
    }

    /// Removes hop-by-hop headers and adds the forwarding ones the route asks
    /// for: `X-Forwarded-For`/`-Proto`/`-Host` and `X-Request-ID` by default,
    /// RFC 7239 `Forwarded` when enabled, and the backend's own address as
    /// `Host` when `preserve_host` is off.
    static func prepareRequestHeaders(
        _ head: inout HTTPRequestHead,
        context: ChannelHandlerContext,
        handling: RouteHeaders,
        backend: BackendAddress
    ) {
        let originalHost = head.headers.first(name: "Host")
        removeHopByHop(&head.headers)
        let ip = context.channel.remoteAddress?.ipAddress
        if handling.xForwardedFor {
            if let ip {
                if let existing = head.headers.first(name: "X-Forwarded-For") {
                    head.headers.replaceOrAdd(name: "X-Forwarded-For", value: existing + ", " + ip)
                } else {
                    head.headers.add(name: "X-Forwarded-For", value: ip)
                }
            }
            head.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
            if let originalHost {
                head.headers.replaceOrAdd(name: "X-Forwarded-Host", value: originalHost)
            }
        }
        if handling.forwarded {
            var element: [String] = []
            if let ip { element.append(ip.contains(":") ? "for=\"[\(ip)]\"" : "for=\(ip)") }
            if let originalHost { element.append("host=\"\(originalHost)\"") }
            element.append("proto=http")
            let value = element.joined(separator: ";")
            if let existing = head.headers.first(name: "Forwarded") {
                head.headers.replaceOrAdd(name: "Forwarded", value: existing + ", " + value)
            } else {
                head.headers.add(name: "Forwarded", value: value)
            }
        }
        if handling.requestID && !head.headers.contains(name: "X-Request-ID") {
            var random = SystemRandomNumberGenerator()
            head.headers.add(name: "X-Request-ID", value: String(random.next() as UInt64, radix: 16))
        }
        if !handling.preserveHost {
            head.headers.replaceOrAdd(name: "Host", value: backend.description)
        }
        // Backend connections are kept alive and pooled, whatever the
        // client's own version and keep-alive choice.
        head.version = .http1_1
    }
}

/// Passes a backend connection's response parts to the proxy handler that
/// is using the connection, which lives on the same event loop. While the
/// connection sits idle in the pool no handler is attached, and a close is
/// reported to the pool instead.
final class BackendResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let pool: NIOLoopBoundBox<BackendConnectionPool>
    private let backend: Int
    private var proxy: HTTPProxyHandler?
    private var attemptID = 0

    init(pool: NIOLoopBoundBox<BackendConnectionPool>, backend: Int) {
        self.pool = pool
        self.backend = backend
    }

    func attach(_ proxy: HTTPProxyHandler, attemptID: Int) {
        self.proxy = proxy
        self.attemptID = attemptID
    }

    func detach() {
        proxy = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        proxy?.backendRead(unwrapInboundIn(data), attemptID: attemptID)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        proxy?.backendReadComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let proxy {
            proxy.backendClosed(attemptID: attemptID)
        } else {
            pool.value.remove(context.channel, backend: backend)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
