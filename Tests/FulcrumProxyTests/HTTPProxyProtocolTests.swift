import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import NIOCore
import NIOPosix
import Testing

/// PROXY protocol on HTTP listeners: accepting it from a balancer in front,
/// and sending it to backends.
@Suite("PROXY protocol on HTTP listeners", .serialized)
struct HTTPProxyProtocolTests {
    private static func serve(_ yaml: String, group: MultiThreadedEventLoopGroup) async throws -> FulcrumServer {
        try await FulcrumServer.start(try ConfigLoader.parse(yaml: yaml, file: "test.yaml"), group: group)
    }

    @Test("A trusted balancer's header names the client for X-Forwarded-For; an untrusted source is closed unanswered")
    func accept() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "echo", group: group)
        let trustedPort = try ProxyFixture.closedPort()
        let untrustedPort = try ProxyFixture.closedPort()
        let server = try await Self.serve(
            """
            listeners:
              - { name: inner, address: 127.0.0.1, port: \(trustedPort), proxy_protocol: accept, trusted: [127.0.0.0/8] }
              - { name: outer, address: 127.0.0.1, port: \(untrustedPort), proxy_protocol: accept, trusted: [10.0.0.0/8] }
            routes:
              - match: { path: { prefix: / } }
                cluster: echo
            clusters:
              echo:
                backends:
                  - address: 127.0.0.1:\(backend.port)
            """,
            group: group
        )
        defer {
            Task {
                await server.stop(drainTimeout: .zero)
                await backend.stop()
                try? await group.shutdownGracefully()
            }
        }
        let request = "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\nGET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        let answer = try rawExchange(port: trustedPort, bytes: Array(request.utf8))
        #expect(answer.hasPrefix("HTTP/1.1 200 "))
        #expect(answer.contains("x-forwarded-for: 203.0.113.7\n"), "\(answer)")
        let refused = try rawExchange(port: untrustedPort, bytes: Array(request.utf8))
        #expect(refused.isEmpty)
    }

    @Test("A header a byte at a time and a LOCAL header are accepted; no header, or one stalled past the header timeout, closes and reaches no backend")
    func acceptEdges() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "echo", group: group)
        let cluster = try Cluster(
            name: "echo",
            backends: [try Backend(address: BackendAddress(host: "127.0.0.1", port: backend.port))],
            settings: ClusterSettings(algorithm: .roundRobin)
        )
        let proxy = try await HTTPProxyServer.start(
            host: "127.0.0.1",
            port: 0,
            routing: HTTPRouting(cluster: cluster),
            clientTimeouts: ClientTimeouts(header: .milliseconds(300)),
            proxyProtocolTrusted: [try IPNetwork.parse("127.0.0.0/8").get()],
            group: group
        )
        defer {
            Task {
                await proxy.stop()
                await backend.stop()
                try? await group.shutdownGracefully()
            }
        }
        let request = Array("GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)

        let split = try connectLoopback(port: proxy.port)
        defer { close(split) }
        var one: Int32 = 1
        setsockopt(split, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        for byte in Array("PROXY TCP4 203.0.113.9 127.0.0.1 4000 80\r\n".utf8) { sendAll(split, [byte]) }
        sendAll(split, request)
        let splitAnswer = String(decoding: receiveAll(split), as: UTF8.self)
        #expect(splitAnswer.hasPrefix("HTTP/1.1 200 ") && splitAnswer.contains("x-forwarded-for: 203.0.113.9\n"), "\(splitAnswer)")

        // LOCAL (a health check from the balancer in front) names no
        // client: the connection's own peer stands.
        let local = try rawExchange(port: proxy.port, bytes: Array("PROXY UNKNOWN\r\n".utf8) + request)
        #expect(local.contains("x-forwarded-for: 127.0.0.1\n"), "\(local)")

        let picked = cluster.backends[0].load.pickCount
        #expect(try rawExchange(port: proxy.port, bytes: request).isEmpty)
        let started = ContinuousClock.now
        let stalled = try rawExchange(port: proxy.port, bytes: Array("PROXY TCP4 ".utf8))
        #expect(stalled.isEmpty)
        #expect(ContinuousClock.now - started >= .milliseconds(250), "closed before the header timeout")
        #expect(cluster.backends[0].load.pickCount == picked)
    }

    @Test("A cluster with proxy_protocol: v1 starts each backend connection with the client's header, and does not pool it")
    func send() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await FirstLineBackend.start(group: group)
        let port = try ProxyFixture.closedPort()
        let server = try await Self.serve(
            """
            listeners:
              - { name: front, address: 127.0.0.1, port: \(port) }
            routes:
              - match: { path: { prefix: / } }
                cluster: marked
            clusters:
              marked:
                proxy_protocol: v1
                backends:
                  - address: 127.0.0.1:\(backend.localAddress!.port!)
            """,
            group: group
        )
        defer {
            Task {
                await server.stop(drainTimeout: .zero)
                try? await backend.close()
                try? await group.shutdownGracefully()
            }
        }
        for _ in 0..<2 {
            let result = try await curl(["http://127.0.0.1:\(port)/"])
            #expect(result.status == 200)
            #expect(result.body.hasPrefix("PROXY TCP4 127.0.0.1 127.0.0.1 "), "\(result.body)")
            // Each request is the first on its backend connection.
            #expect(result.body.hasSuffix(" \(port) #1"), "\(result.body)")
        }
    }
}

/// A backend that answers each request with the first line its connection
/// received and the request's number on the connection, and keeps the
/// connection open: with PROXY protocol, that line is the header.
enum FirstLineBackend {
    static func start(group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var firstLine: String?
        var pending = ""
        var requests = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            pending += String(buffer: buffer)
            if firstLine == nil, let end = pending.range(of: "\r\n") {
                firstLine = String(pending[..<end.lowerBound])
            }
            // One response per complete request head (GETs without bodies).
            while let end = pending.range(of: "\r\n\r\n") {
                pending.removeSubrange(..<end.upperBound)
                requests += 1
                let body = "\(firstLine ?? "") #\(requests)"
                let response = "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response)), promise: nil)
            }
        }
    }
}
