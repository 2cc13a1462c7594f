import Foundation
import FulcrumCore
import FulcrumProxy
import NIOCore
import NIOPosix
import Testing

/// The proxy's framing as clients and backends see it on the wire: raw
/// bytes over real sockets, so that every byte the proxy sends is checked.
@Suite("HTTP framing on the wire", .serialized)
struct HTTPWireTests {
    private static func statusLines(_ text: String) -> [String] {
        // "\r\n" is one Character in Swift, so split the bytes.
        text.utf8.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
            .filter { $0.hasPrefix("HTTP/1.") }
    }

    @Test("A head over 64 KiB is 431, a target over 8 KiB is 414, and the proxy stays up")
    func limits() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 70_000) + "\r\n\r\n"
        #expect(try rawExchange(port: fixture.proxy.port, bytes: Array(big.utf8)).hasPrefix("HTTP/1.1 431 "))
        let long = "GET /" + String(repeating: "a", count: 9_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(try rawExchange(port: fixture.proxy.port, bytes: Array(long.utf8)).hasPrefix("HTTP/1.1 414 "))
        #expect(try await curl([fixture.url + "/"]).status == 200)
    }

    @Test(
        "Smuggling-shaped requests are 400 and never reach a backend",
        arguments: [
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "GET / HTTP/1.1\r\nHost: x\r\n folded: value\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\n\n",
            // Two credentials: a route could verify one while the backend reads the other.
            "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n",
        ]
    )
    func smuggling(request: String) async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array(request.utf8))
        #expect(answer.hasPrefix("HTTP/1.1 400 "), "got: \(answer.prefix(40))")
        #expect(answer.contains("Connection: close"))
        #expect(fixture.proxy.cluster.backends[0].load.pickCount == 0)
    }

    @Test("CONNECT is refused with 405 and the connection closed; no backend sees it")
    func connect() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".utf8))
        #expect(answer.hasPrefix("HTTP/1.1 405 "))
        #expect(answer.contains("Connection: close"))
        #expect(fixture.proxy.cluster.backends[0].load.pickCount == 0)
    }

    @Test("A chunked body with an invalid chunk size is 400, and the backend connection that saw its head is not reused")
    func invalidChunk() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let request = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array(request.utf8))
        #expect(answer.hasPrefix("HTTP/1.1 400 "), "got: \(answer.prefix(40))")
        // A fresh backend connection serves the next request: it is the first on its connection.
        let next = try await curl([fixture.url + "/connection"])
        #expect(next.body == "1\n")
    }

    @Test("Pipelined requests are answered in order; HEAD, 204 and 304 carry no body and keep the framing")
    func pipelining() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let requests = [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n",
            "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ]
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array(requests.joined().utf8))
        #expect(
            Self.statusLines(answer).map { String($0.prefix(12)) }
                == ["HTTP/1.1 200", "HTTP/1.1 204", "HTTP/1.1 200", "HTTP/1.1 304", "HTTP/1.1 200"],
            "\(answer)"
        )
        #expect(answer.components(separatedBy: "\r\n\r\nbackend-1\n").count - 1 == 2)
        #expect(answer.hasSuffix("backend-1\n"))
    }

    @Test("A pipelined POST whose body arrives after the previous answer is sent on whole")
    func pipelinedBody() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let fd = try connectLoopback(port: fixture.proxy.port)
        defer { close(fd) }
        let size = 100_000
        // The POST's head and first bytes wait behind the GET; they go to the
        // backend connection the GET frees, and the rest of the body must
        // then be read and sent on, not wait for the backend's timeout.
        sendAll(
            fd,
            Array("GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(size)\r\n\r\n".utf8)
                + [UInt8](repeating: 0x62, count: 4000)
        )
        var first = [UInt8](repeating: 0, count: 65536)
        let count = first.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        try #require(count > 0)
        sendAll(fd, [UInt8](repeating: 0x62, count: size - 4000))
        let answer = String(decoding: first[..<count], as: UTF8.self) + String(decoding: receiveAll(fd), as: UTF8.self)
        #expect(Self.statusLines(answer).map { String($0.prefix(12)) } == ["HTTP/1.1 200", "HTTP/1.1 200"], "\(answer)")
    }

    @Test("A client that ends its connection mid-body is let go at once, not after the backend's timeout")
    func endMidBody() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let started = ContinuousClock.now
        let answer = try rawExchange(
            port: fixture.proxy.port,
            bytes: Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789".utf8),
            halfClose: true
        )
        #expect(answer.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(3), "waited for the backend's timeout")
    }

    @Test("An error answer to HEAD has no body, so the next answer on the connection is read right")
    func headError() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        await fixture.backends[0].stop()
        let answer = try rawExchange(
            port: fixture.proxy.port,
            bytes: Array("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        )
        // 502 at first; 503 once the dead backend is out of rotation.
        #expect(Self.statusLines(answer).map { String($0.prefix(10)) } == ["HTTP/1.1 5", "HTTP/1.1 5"], "\(answer)")
        // The HEAD's head is followed at once by the GET's answer, which
        // alone has a body.
        #expect(answer.contains("\r\n\r\nHTTP/1.1 5"), "\(answer)")
        #expect(answer.hasSuffix("\r\n\r\n502 Bad Gateway\n") || answer.hasSuffix("\r\n\r\n503 Service Unavailable\n"), "\(answer)")
    }

    @Test("HTTP/1.0 keep-alive is honoured and announced; a plain HTTP/1.0 request closes")
    func http10() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let answer = try rawExchange(
            port: fixture.proxy.port,
            bytes: Array("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n".utf8)
        )
        let heads = answer.components(separatedBy: "backend-1\n")
        #expect(heads.count == 3, "two responses, then close: \(answer)")
        #expect(heads[0].contains("Connection: keep-alive"))
        #expect(heads[1].contains("Connection: close"))
    }

    @Test("A client that sends its request and half-closes still gets the response")
    func halfClose() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), halfClose: true)
        #expect(answer.hasPrefix("HTTP/1.1 200 "))
        #expect(answer.hasSuffix("backend-1\n"))
    }

    @Test("Expect: 100-continue: the backend's 100 reaches the client before the body is sent")
    func expectContinue() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let fd = try connectLoopback(port: fixture.proxy.port)
        defer { close(fd) }
        sendAll(fd, Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n".utf8))
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        let interim = String(decoding: chunk.prefix(max(0, count)), as: UTF8.self)
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"))
        sendAll(fd, Array("hello".utf8))
        let final = String(decoding: receiveAll(fd), as: UTF8.self)
        #expect(final.contains("HTTP/1.1 200 "))
        #expect(final.hasSuffix("received 5 bytes\n"))
    }

    @Test("A chunked upload streams through as chunks")
    func chunkedUpload() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-chunked-\(UUID().uuidString)")
        try Data(repeating: 0x61, count: 3 << 20).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await curl(["-X", "POST", "-H", "Transfer-Encoding: chunked", "-T", file.path, fixture.url + "/"])
        #expect(result.status == 200)
        #expect(result.body == "backend-1 received \(3 << 20) bytes\n")
    }

    @Test(
        "A malformed or truncated backend response: 502 before any byte, a closed connection after",
        arguments: [
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "502"),
            ("HTTP/1.1 2000 OK\r\n\r\n", "502"),
            ("garbage\r\n\r\n", "502"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut", "cut"),
        ]
    )
    func brokenBackend(response: String, expected: String) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await RawBackend.start(answer: response, group: group)
        let cluster = try Cluster(
            name: "raw",
            backends: [try Backend(address: BackendAddress(host: "127.0.0.1", port: backend.port))],
            settings: ClusterSettings(algorithm: .roundRobin)
        )
        var options = ProxyOptions()
        options.retries = 0
        let proxy = try await HTTPProxyServer.start(
            host: "127.0.0.1",
            port: 0,
            routing: HTTPRouting(cluster: cluster, options: options),
            group: group
        )
        defer {
            Task {
                await proxy.stop()
                try? await backend.close()
                try? await group.shutdownGracefully()
            }
        }
        // A 502 leaves a keep-alive connection open, so that request asks
        // for a close; a response cut off must close the connection itself.
        let request = expected == "502" ? "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" : "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        let started = ContinuousClock.now
        let answer = try rawExchange(port: proxy.port, bytes: Array(request.utf8))
        #expect(ContinuousClock.now - started < .seconds(4), "the proxy closed the connection rather than leaving it to time out")
        if expected == "502" {
            #expect(answer.hasPrefix("HTTP/1.1 502 "), "got: \(answer)")
        } else {
            // The head and what arrived were forwarded; then the client
            // connection closed, so the client sees a short body.
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(answer.hasSuffix("\r\n\r\ncut"))
        }
    }

    @Test("A backend's early answer to an upload it will not read reaches the client, which is not reset mid-upload")
    func earlyAnswerDuringUpload() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await RawBackend.start(
            answer: "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large",
            group: group
        )
        let cluster = try Cluster(
            name: "raw",
            backends: [try Backend(address: BackendAddress(host: "127.0.0.1", port: backend.port))],
            settings: ClusterSettings(algorithm: .roundRobin)
        )
        let proxy = try await HTTPProxyServer.start(host: "127.0.0.1", port: 0, routing: HTTPRouting(cluster: cluster), group: group)
        defer {
            Task {
                await proxy.stop()
                try? await backend.close()
                try? await group.shutdownGracefully()
            }
        }
        let size = 64 * 1024 * 1024
        let fd = try connectLoopback(port: proxy.port)
        defer { close(fd) }
        sendAll(fd, Array("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n".utf8))
        // The proxy answers while this is still sending. Closing with the
        // upload unread would reset the connection: the send fails, and
        // over a real network the answer can be lost with it. The proxy
        // instead sends a FIN and drops the rest of the upload.
        let body = [UInt8](repeating: 0x61, count: size)
        var sent = 0
        while sent < size {
            let count = body[sent...].withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, 65536), Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        #expect(sent == size, "the upload was cut off after \(sent) bytes (errno \(errno))")
        shutdown(fd, Int32(SHUT_WR))
        let answer = String(decoding: receiveAll(fd), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 413 Payload Too Large\r\n"), "got: \(answer.prefix(200))")
        #expect(answer.hasSuffix("\r\n\r\ntoo large"))
    }
}

/// A backend that answers every connection's first read with fixed bytes
/// and then closes: for responses no real server would send.
enum RawBackend {
    static func start(answer: String, group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Answer(answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    private final class Answer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: String
        var answered = false

        init(answer: String) { self.answer = answer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            let buffer = context.channel.allocator.buffer(string: answer)
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}

extension Channel {
    var port: Int { localAddress?.port ?? 0 }
}

@Suite("Per-try timeout", .serialized)
struct PerTryTimeoutTests {
    @Test("A GET stuck on a backend that never answers moves to another after the per-try timeout; a POST gets 504")
    func perTry() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let silent = try await SilentBackend.start(group: group)
        defer { Task { try? await silent.close(); try? await group.shutdownGracefully() } }
        var options = ProxyOptions()
        options.perTryTimeout = .milliseconds(200)
        options.firstByteTimeout = .seconds(10)
        let fixture = try await ProxyFixture.start(
            backends: 1,
            extraAddresses: [BackendAddress(host: "127.0.0.1", port: silent.localAddress!.port!)],
            options: options
        ) { settings in
            settings.outlierDetection.consecutiveGatewayFailures = 0
        }
        defer { Task { await fixture.stop() } }
        let started = ContinuousClock.now
        // Four requests over two event loops' rotations: at least one loop
        // takes two, so at least one attempt lands on the silent backend.
        for _ in 0..<4 {
            let result = try await curl([fixture.url + "/"])
            #expect(result.status == 200)
            #expect(result.body == "backend-1\n")
        }
        #expect(fixture.proxy.cluster.backends[1].load.pickCount >= 1)
        #expect(ContinuousClock.now - started < .seconds(5))
        // A POST is not retried once sent: it gets 504 at the per-try
        // timeout, not at the first-byte timeout.
        let silentOnly = try await ProxyFixture.start(
            backends: 0,
            extraAddresses: [BackendAddress(host: "127.0.0.1", port: silent.localAddress!.port!)],
            options: options
        )
        defer { Task { await silentOnly.stop() } }
        let posted = ContinuousClock.now
        #expect(try await curl(["-X", "POST", "-d", "x", silentOnly.url + "/"]).status == 504)
        #expect(ContinuousClock.now - posted < .seconds(5))
    }
}

/// Accepts connections and reads requests, but never answers.
enum SilentBackend {
    static func start(group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }
}
