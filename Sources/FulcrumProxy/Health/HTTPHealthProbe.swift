import FulcrumConfig
import NIOCore
import NIOHTTP1
import NIOPosix

/// The `http` and `application` checks: one request on a new connection,
/// judged by status, body text or regex, and for `application` by the
/// `application/health+json` body.
///
/// It uses NIOHTTP1's client codec, which handles chunked bodies and is
/// fine off the proxy's hot path.
struct HTTPHealthProbe: HealthProbe {
    /// Bodies are read up to this size; a health page larger than this is
    /// judged by its first 64 KiB.
    static let maxBody = 64 * 1024

    let settings: HealthCheckConfig

    var kind: String { settings.type.rawValue }

    func run(_ target: CheckTarget, on loop: any EventLoop, promise: EventLoopPromise<CheckVerdict>) {
        let settings = settings
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: settings.host ?? target.hostHeader)
        headers.add(name: "User-Agent", value: "fulcrum-health")
        headers.add(name: "Accept", value: settings.type == .application ? "application/health+json" : "*/*")
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(
            version: .http1_1,
            method: HTTPMethod(rawValue: settings.method),
            uri: settings.path,
            headers: headers
        )
        let judge: @Sendable (Int, [UInt8]) -> CheckVerdict = { status, body in Self.judge(status, body, settings) }
        ProbeConnection.connect(target, on: loop, timeout: settings.timeout, promise: promise, kind: kind) { channel in
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(
                ResponseCollector(promise: promise, kind: settings.type.rawValue, judge: judge)
            )
        } connected: { channel in
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
    }

    /// The verdict on a complete response.
    static func judge(_ status: Int, _ body: [UInt8], _ settings: HealthCheckConfig) -> CheckVerdict {
        let kind = settings.type.rawValue
        if settings.type == .application, let document = HealthDocument.parse(body) {
            let verdict = document.verdict(required: settings.required, warnWeightPercent: settings.warnWeightPercent)
            if case .success = verdict.result, !settings.expectStatus.contains(status) {
                return .fail("\(kind) check: status \(status)")
            }
            return verdict
        }
        guard settings.expectStatus.contains(status) else { return .fail("\(kind) check: status \(status)") }
        if settings.expectBody != nil || settings.expectBodyRegex != nil {
            let text = String(decoding: body, as: UTF8.self)
            if let expected = settings.expectBody, !text.contains(expected) {
                return .fail("\(kind) check: body lacks '\(expected)'")
            }
            if let pattern = settings.expectBodyRegex, let regex = try? Regex(pattern), !text.contains(regex) {
                return .fail("\(kind) check: body does not match /\(pattern)/")
            }
        }
        if settings.type == .application {
            return .fail("\(kind) check: status \(status), body is not application/health+json")
        }
        return .pass("\(kind) check: status \(status)")
    }
}

/// Collects one response and hands it to `judge`.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<CheckVerdict>
    private let kind: String
    private let judge: @Sendable (Int, [UInt8]) -> CheckVerdict
    private var status: Int?
    private var body: [UInt8] = []

    init(
        promise: EventLoopPromise<CheckVerdict>,
        kind: String,
        judge: @escaping @Sendable (Int, [UInt8]) -> CheckVerdict
    ) {
        self.promise = promise
        self.kind = kind
        self.judge = judge
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status.code >= 200 { status = Int(head.status.code) }
        case .body(let buffer):
            let room = HTTPHealthProbe.maxBody - body.count
            if room > 0 { body.append(contentsOf: buffer.readableBytesView.prefix(room)) }
        case .end:
            guard let status else { return }
            promise.succeed(judge(status, body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(CheckFailure("\(kind) check: connection closed before a response"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(CheckFailure("\(kind) check: \(ConnectionErrorText.describe(error))"))
        context.close(promise: nil)
    }
}
