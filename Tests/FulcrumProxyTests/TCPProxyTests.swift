import Foundation
import FulcrumCore
import FulcrumProxy
import NIOCore
import NIOPosix
import Testing

/// Real TCP backends behind the L4 listener, driven over plain sockets.
struct TCPFixture {
    let group: MultiThreadedEventLoopGroup
    let backends: [DemoTCPBackend]
    let proxy: TCPProxyServer

    static func start(
        backends count: Int = 3,
        extraAddresses: [BackendAddress] = [],
        algorithm: BalancingAlgorithm = .roundRobin
    ) async throws -> TCPFixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var backends: [DemoTCPBackend] = []
        for i in 0..<count {
            backends.append(try await DemoTCPBackend.start(name: "tcp-\(i + 1)", group: group))
        }
        var settings = ClusterSettings(algorithm: algorithm)
        settings.panicThresholdPercent = 0
        settings.outlierDetection.consecutiveGatewayFailures = 0
        let addresses = backends.map { BackendAddress(host: "127.0.0.1", port: $0.port) } + extraAddresses
        let cluster = try Cluster(name: "tcp", backends: try addresses.map { try Backend(address: $0) }, settings: settings)
        let proxy = try await TCPProxyServer.start(host: "127.0.0.1", port: 0, cluster: cluster, group: group)
        return TCPFixture(group: group, backends: backends, proxy: proxy)
    }

    func stop() async {
        await proxy.stop()
        for backend in backends { await backend.stop() }
        try? await group.shutdownGracefully()
    }
}

@Suite("TCP proxy against real loopback backends", .serialized)
struct TCPProxyTests {
    @Test("Connections rotate over the backends")
    func rotation() async throws {
        let fixture = try await TCPFixture.start()
        defer { Task { await fixture.stop() } }
        var names: Set<String> = []
        for _ in 0..<6 {
            let answer = try rawExchange(port: fixture.proxy.port, bytes: [], halfClose: true)
            names.insert(String(answer.split(separator: "\n").first ?? ""))
        }
        #expect(names == ["tcp-1", "tcp-2", "tcp-3"])
    }

    @Test("Bytes flow both ways and half-close reaches the backend")
    func echoAndHalfClose() async throws {
        let fixture = try await TCPFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("hello\n".utf8), halfClose: true)
        #expect(answer == "tcp-1\nhello\nbye tcp-1\n")
    }

    @Test("A large transfer arrives whole through the relay")
    func largeTransfer() async throws {
        let fixture = try await TCPFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let answer = try rawExchangeBytes(port: fixture.proxy.port, bytes: payload)
        let greeting = Array("tcp-1\n".utf8)
        let farewell = Array("bye tcp-1\n".utf8)
        #expect(answer.count == greeting.count + payload.count + farewell.count)
        #expect(Array(answer[greeting.count..<(greeting.count + payload.count)]) == payload)
    }

    @Test("A refused backend is skipped: every connection still reaches a live one")
    func refusedBackend() async throws {
        let dead = try await ProxyFixture.closedPort()
        let fixture = try await TCPFixture.start(backends: 1, extraAddresses: [BackendAddress(host: "127.0.0.1", port: dead)])
        defer { Task { await fixture.stop() } }
        for _ in 0..<6 {
            let answer = try rawExchange(port: fixture.proxy.port, bytes: [], halfClose: true)
            #expect(answer.hasPrefix("tcp-1\n"))
        }
    }

    @Test("ip-hash keeps a client on one backend")
    func ipHash() async throws {
        let fixture = try await TCPFixture.start(algorithm: .ipHash(prefix24: false))
        defer { Task { await fixture.stop() } }
        var names: Set<String> = []
        for _ in 0..<6 {
            let answer = try rawExchange(port: fixture.proxy.port, bytes: [], halfClose: true)
            names.insert(String(answer.split(separator: "\n").first ?? ""))
        }
        #expect(names.count == 1)
    }
}

/// Sends `bytes` while reading concurrently (so that neither side's buffers
/// fill up), half-closes, and returns every byte read until EOF.
func rawExchangeBytes(port: Int, bytes: [UInt8]) throws -> [UInt8] {
    let fd = try connectLoopback(port: port, receiveTimeout: 10)
    defer { close(fd) }
    let writer = Thread {
        sendAll(fd, bytes)
        shutdown(fd, Int32(SHUT_WR))
    }
    writer.start()
    return receiveAll(fd)
}
