import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP server that answers with its own name, for `fulcrum demo`
/// and for tests: `GET /` → `NAME\n`, `/health` → 200 `ok` (or the status
/// set with `/admin/health?status=CODE`), `/health/deep` → an
/// `application/health+json` document (dependencies set with
/// `/admin/dependency?name=db:connection&status=fail`), what its agent
/// answers (``DemoAgent``) with `/admin/agent?reply=drain`, `/admin/requests` →
/// how many other requests it has served,
/// `/slow?ms=N` → waits N ms then answers, `/status/CODE` → that status,
/// `/headers` → the request's headers, one `name: value` per line,
/// `/connection` → how many requests this connection has carried so far,
/// `/bytes?n=N` → N bytes of `x`, streamed in 64 KiB pieces as the client
/// takes them (for streaming and memory tests).
/// Request bodies are read and their length is reported; `Expect:
/// 100-continue` is answered with `100 Continue`.
///
/// It uses NIOHTTP1, which is fine off the proxy's hot path.
public final class DemoBackend: Sendable {
    public let name: String
    public let channel: any Channel
    /// What `/health` and `/health/deep` report (change it to make checks
    /// fail), and the traffic served.
    public let health: DemoBackendState

    /// The port it listens on (useful when started on port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(name: String, channel: any Channel, health: DemoBackendState) {
        self.name = name
        self.channel = channel
        self.health = health
    }

    /// Starts a backend on `host:port` (port 0 picks a free one).
    ///
    /// `latency` is added to every answer, to stand for a slower server
    /// (for latency-aware balancing tests and demos).
    public static func start(
        name: String,
        host: String = "127.0.0.1",
        port: Int = 0,
        latency: TimeAmount = .zero,
        group: any EventLoopGroup
    ) async throws -> DemoBackend {
        let health = DemoBackendState()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(DemoBackendHandler(name: name, health: health, latency: latency))
                }
            }
            .bind(host: host, port: port)
            .get()
        return DemoBackend(name: name, channel: channel, health: health)
    }

    /// Stops accepting and closes the listener.
    public func stop() async {
        try? await channel.close()
    }
}

/// Serves one connection of a ``DemoBackend``.
final class DemoBackendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let name: String
    private let health: DemoBackendState
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var requestsOnConnection = 0

    private let latency: TimeAmount

    init(name: String, health: DemoBackendState, latency: TimeAmount = .zero) {
        self.name = name
        self.health = health
        self.latency = latency
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
            if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                    promise: nil
                )
            }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        requestsOnConnection += 1
        let (path, query) = Self.split(head.uri)
        var status = HTTPResponseStatus.ok
        var text = "\(name)\n"
        var delay: Int64 = 0
        var contentType = "text/plain"
        if path == "/health" {
            status = HTTPResponseStatus(statusCode: health.status)
            text = health.status < 400 ? "ok\n" : "failing\n"
        } else if path == "/health/deep" {
            let document = health.document
            status = HTTPResponseStatus(statusCode: document.status)
            text = document.body
            contentType = "application/health+json"
        } else if path == "/admin/health", let code = Self.queryValue("status", in: query).flatMap({ Int($0) }),
            (100...599).contains(code)
        {
            health.status = code
            text = "\(name) /health now answers \(code)\n"
        } else if path == "/admin/dependency", let key = Self.queryValue("name", in: query),
            let value = Self.queryValue("status", in: query), ["pass", "warn", "fail"].contains(value)
        {
            health.setDependency(String(key), String(value))
            text = "\(name) \(key) now \(value)\n"
        } else if path == "/admin/agent", let reply = Self.queryValue("reply", in: query) {
            health.agentReply = Self.percentDecoded(reply)
            text = "\(name) agent now answers '\(health.agentReply)'\n"
        } else if path == "/admin/requests" {
            text = "\(health.requestsServed)\n"
        } else if path == "/slow" {
            delay = Int64(Self.queryValue("ms", in: query) ?? "100") ?? 100
            text = "\(name) after \(delay)ms\n"
        } else if path == "/bytes" {
            streamBytes(Int(Self.queryValue("n", in: query) ?? "0") ?? 0, head: head, context: context)
            return
        } else if path == "/connection" {
            text = "\(requestsOnConnection)\n"
        } else if path == "/headers" {
            text = head.headers.map { "\($0.name.lowercased()): \($0.value)\n" }.joined()
        } else if path.hasPrefix("/status/"), let code = Int(path.dropFirst("/status/".count)) {
            status = HTTPResponseStatus(statusCode: code)
            text = "\(name) \(code)\n"
        } else if bodyBytes > 0 {
            text = "\(name) received \(bodyBytes) bytes\n"
        }
        if !path.hasPrefix("/health") && !path.hasPrefix("/admin") { health.countRequest() }
        let keepAlive = head.isKeepAlive
        let send = {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "X-Backend", value: self.name)
            let noBody = head.method == .HEAD || status == .noContent || status == .notModified
            headers.add(name: "Content-Length", value: noBody ? "0" : String(text.utf8.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if !noBody {
                context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
        let wait = TimeAmount.milliseconds(delay) + latency
        if wait > .zero {
            context.eventLoop.assumeIsolated().scheduleTask(in: wait) { send() }
        } else {
            send()
        }
    }

    /// Sends `total` bytes, one 64 KiB piece at a time: the next piece is
    /// written when the previous one has left, so the backend holds at
    /// most one piece whatever the client's speed.
    private func streamBytes(_ total: Int, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Content-Type", "application/octet-stream"), ("Content-Length", String(total))])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        let piece = context.channel.allocator.buffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
        let keepAlive = head.isKeepAlive
        func send(_ remaining: Int) {
            guard remaining > 0 else {
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    if !keepAlive { context.close(promise: nil) }
                }
                return
            }
            let count = min(remaining, piece.readableBytes)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(piece.getSlice(at: 0, length: count)!))))
                .assumeIsolated()
                .whenComplete { result in
                    if case .success = result { send(remaining - count) }
                }
        }
        send(total)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private static func split(_ uri: String) -> (Substring, Substring) {
        guard let question = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<question], uri[uri.index(after: question)...])
    }

    /// `%XX` escapes and `+` for spaces, as in a query string.
    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var rest = Substring(text).utf8[...]
        while let byte = rest.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), rest.count >= 2,
                let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                rest = rest.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func queryValue(_ name: String, in query: Substring) -> Substring? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name) { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }
}
