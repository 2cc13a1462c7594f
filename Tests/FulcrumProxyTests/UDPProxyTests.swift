import Foundation
import FulcrumCore
import FulcrumProxy
import Logging
import NIOCore
import NIOPosix
import Testing

/// Real UDP backends behind the UDP listener, driven from plain sockets.
struct UDPFixture {
    let group: MultiThreadedEventLoopGroup
    let backends: [DemoUDPBackend]
    let proxy: UDPProxyServer

    static func start(
        backends count: Int = 3,
        algorithm: BalancingAlgorithm = .roundRobin,
        settings: UDPListenerSettings = UDPListenerSettings(),
        logger: Logger = Logger(label: "fulcrum.udp")
    ) async throws -> UDPFixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var backends: [DemoUDPBackend] = []
        for i in 0..<count {
            backends.append(try await DemoUDPBackend.start(name: "udp-\(i + 1)", group: group))
        }
        var clusterSettings = ClusterSettings(algorithm: algorithm)
        clusterSettings.panicThresholdPercent = 0
        let cluster = try Cluster(
            name: "udp",
            backends: try backends.map { try Backend(address: BackendAddress(host: "127.0.0.1", port: $0.port)) },
            settings: clusterSettings
        )
        let proxy = try await UDPProxyServer.start(
            host: "127.0.0.1",
            port: 0,
            cluster: cluster,
            settings: settings,
            group: group,
            logger: logger
        )
        return UDPFixture(group: group, backends: backends, proxy: proxy)
    }

    func stop() async {
        await proxy.stop()
        for backend in backends { await backend.stop() }
        try? await group.shutdownGracefully()
    }
}

/// A client UDP socket on 127.0.0.1 with a receive timeout, so that a lost
/// datagram fails the test instead of hanging it.
final class UDPClient {
    let fd: Int32

    init(receiveTimeout seconds: Int = 5) {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        precondition(fd >= 0)
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends `text` to 127.0.0.1:`port` and returns the reply, or `nil` on timeout.
    func exchange(_ text: String, port: Int) -> String? {
        send(text, port: port)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Whether a datagram is waiting, without waiting for one.
    var hasPendingReply: Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK)) >= 0
    }

    func send(_ text: String, port: Int) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bytes = Array(text.utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}

@Suite("UDP proxy against real loopback backends", .serialized)
struct UDPProxyTests {
    static func backendName(_ reply: String?) -> String { String(reply?.split(separator: " ").first ?? "") }

    @Test("Replies come back, and each client address and port keeps to one backend")
    func affinity() async throws {
        let fixture = try await UDPFixture.start()
        defer { Task { await fixture.stop() } }
        let clients = (0..<6).map { _ in UDPClient() }
        var first: [String] = []
        for (index, client) in clients.enumerated() {
            let reply = client.exchange("hello \(index)", port: fixture.proxy.port)
            #expect(reply?.hasSuffix(" hello \(index)") == true)
            first.append(Self.backendName(reply))
        }
        #expect(Set(first).count == 3, "round robin over new flows")
        for round in 0..<3 {
            for (index, client) in clients.enumerated() {
                let reply = client.exchange("again \(round)", port: fixture.proxy.port)
                #expect(Self.backendName(reply) == first[index], "flow \(index) moved")
            }
        }
    }

    @Test("An idle flow ends with a log line; the client's next datagram starts a new flow")
    func idleTimeout() async throws {
        let capture = LogCapture()
        var settings = UDPListenerSettings()
        settings.idleTimeout = .milliseconds(200)
        let fixture = try await UDPFixture.start(settings: settings, logger: capture.logger)
        defer { Task { await fixture.stop() } }
        let client = UDPClient()
        let firstName = Self.backendName(client.exchange("one", port: fixture.proxy.port))
        let line = try #require(await capture.next("flow closed"))
        #expect(line.metadata["end"] == "idle timeout")
        #expect(line.metadata["bytes_in"] == "3")
        #expect(line.metadata["bytes_out"] == "\(firstName.utf8.count + 4)")
        #expect(line.metadata["datagrams_in"] == "1")
        // Round robin: the new flow goes to the next backend.
        let secondName = Self.backendName(client.exchange("two", port: fixture.proxy.port))
        #expect(!secondName.isEmpty && secondName != firstName)
    }

    @Test("At the session bound new clients are dropped with one log line; existing flows carry on")
    func sessionBound() async throws {
        let capture = LogCapture()
        var settings = UDPListenerSettings()
        settings.maxSessions = 2
        let fixture = try await UDPFixture.start(settings: settings, logger: capture.logger)
        defer { Task { await fixture.stop() } }
        let admitted = [UDPClient(), UDPClient()]
        for client in admitted { #expect(client.exchange("in", port: fixture.proxy.port) != nil) }
        let refused = UDPClient()
        for _ in 0..<50 { refused.send("out", port: fixture.proxy.port) }
        let line = try #require(await capture.next("udp session limit reached: datagrams from new clients are dropped"))
        #expect(line.metadata["max_sessions"] == "2")
        #expect(
            capture.lines.filter { $0.message.hasPrefix("udp session limit") }.count == 1,
            "the log line is rate-limited"
        )
        for client in admitted { #expect(client.exchange("still", port: fixture.proxy.port) != nil) }
        #expect(!refused.hasPendingReply)
    }
}
