import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Logging
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
        leadingAddresses: [BackendAddress] = [],
        extraAddresses: [BackendAddress] = [],
        algorithm: BalancingAlgorithm = .roundRobin,
        options: ProxyOptions = ProxyOptions(),
        settings listenerSettings: TCPListenerSettings = TCPListenerSettings(),
        logger: Logger = Logger(label: "fulcrum.tcp")
    ) async throws -> TCPFixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var backends: [DemoTCPBackend] = []
        for i in 0..<count {
            backends.append(try await DemoTCPBackend.start(name: "tcp-\(i + 1)", group: group))
        }
        var settings = ClusterSettings(algorithm: algorithm)
        settings.panicThresholdPercent = 0
        settings.outlierDetection.consecutiveGatewayFailures = 0
        let addresses = leadingAddresses + backends.map { BackendAddress(host: "127.0.0.1", port: $0.port) } + extraAddresses
        let cluster = try Cluster(name: "tcp", backends: try addresses.map { try Backend(address: $0) }, settings: settings)
        let proxy = try await TCPProxyServer.start(
            host: "127.0.0.1",
            port: 0,
            cluster: cluster,
            options: options,
            settings: listenerSettings,
            group: group,
            logger: logger
        )
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
        let dead = try ProxyFixture.closedPort()
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

@Suite("TCP proxy: PROXY protocol, hashing, idle timeout, per-connection log", .serialized)
struct TCPProxyL4Tests {
    static let loopback = [try! IPNetwork.parse("127.0.0.0/8").get()]

    /// The name of the backend that answered: the greeting line.
    static func backendName(_ answer: String) -> String { String(answer.split(separator: "\n").first ?? "") }

    @Test("A trusted source's PROXY header is stripped, and the client it names is sent on in our own header")
    func acceptAndSend() async throws {
        var settings = TCPListenerSettings()
        settings.proxyProtocolTrusted = Self.loopback
        settings.sendProxyProtocol = .v1
        let fixture = try await TCPFixture.start(backends: 1, settings: settings)
        defer { Task { await fixture.stop() } }
        let header = "PROXY TCP4 203.0.113.7 198.51.100.1 5000 80\r\n"
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array((header + "hello\n").utf8), halfClose: true)
        // The echo backend returns what it received: our header, then the payload.
        #expect(answer == "tcp-1\n" + header + "hello\nbye tcp-1\n")
    }

    @Test("Without a header, or from an untrusted source, the connection is closed and no backend sees it")
    func refusals() async throws {
        var settings = TCPListenerSettings()
        settings.proxyProtocolTrusted = Self.loopback
        let fixture = try await TCPFixture.start(backends: 1, settings: settings)
        defer { Task { await fixture.stop() } }
        #expect(try rawExchange(port: fixture.proxy.port, bytes: Array("hello\n".utf8), halfClose: true) == "")

        var untrusted = TCPListenerSettings()
        untrusted.proxyProtocolTrusted = [try IPNetwork.parse("10.0.0.0/8").get()]
        let other = try await TCPFixture.start(backends: 1, settings: untrusted)
        defer { Task { await other.stop() } }
        let header = "PROXY TCP4 203.0.113.7 198.51.100.1 5000 80\r\nhello\n"
        #expect(try rawExchange(port: other.proxy.port, bytes: Array(header.utf8), halfClose: true) == "")
        #expect(fixture.proxy.cluster.backends[0].load.pickCount == 0)
        #expect(other.proxy.cluster.backends[0].load.pickCount == 0)
    }

    @Test("A trusted source that sends no header is closed at the header timeout, with a log line")
    func headerTimeout() async throws {
        let capture = LogCapture()
        var settings = TCPListenerSettings()
        settings.proxyProtocolTrusted = Self.loopback
        settings.proxyHeaderTimeout = .milliseconds(300)
        let fixture = try await TCPFixture.start(backends: 1, settings: settings, logger: capture.logger)
        defer { Task { await fixture.stop() } }
        let start = ContinuousClock.now
        // No half-close: only the header timeout can end this connection.
        let answer = try rawExchange(port: fixture.proxy.port, bytes: [], halfClose: false)
        let elapsed = ContinuousClock.now - start
        #expect(answer == "")
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(4), "took \(elapsed)")
        let line = try #require(await capture.next("closing connection: PROXY protocol"))
        #expect(line.metadata["reason"] == "timeout")
        #expect(fixture.proxy.cluster.backends[0].load.pickCount == 0)
    }

    @Test("A header that arrives a byte at a time is put together, and the payload after it passes")
    func headerByteByByte() async throws {
        var settings = TCPListenerSettings()
        settings.proxyProtocolTrusted = Self.loopback
        let fixture = try await TCPFixture.start(backends: 1, settings: settings)
        defer { Task { await fixture.stop() } }
        let fd = try connectLoopback(port: fixture.proxy.port)
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        for byte in Array("PROXY TCP4 203.0.113.9 198.51.100.1 4000 80\r\n".utf8) { sendAll(fd, [byte]) }
        sendAll(fd, Array("hello\n".utf8))
        shutdown(fd, Int32(SHUT_WR))
        #expect(String(decoding: receiveAll(fd), as: UTF8.self) == "tcp-1\nhello\nbye tcp-1\n")
    }

    @Test("v2 to backends: the header carries the client's real address and port")
    func sendV2() async throws {
        var settings = TCPListenerSettings()
        settings.sendProxyProtocol = .v2
        let fixture = try await TCPFixture.start(backends: 1, settings: settings)
        defer { Task { await fixture.stop() } }
        let fd = try connectLoopback(port: fixture.proxy.port)
        defer { close(fd) }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let clientPort = UInt16(bigEndian: local.sin_port)
        sendAll(fd, Array("x".utf8))
        shutdown(fd, Int32(SHUT_WR))
        let answer = receiveAll(fd)
        let expected =
            Array("tcp-1\n".utf8) + ProxyHeader.v2Signature + [0x21, 0x11, 0x00, 0x0C, 127, 0, 0, 1, 127, 0, 0, 1]
            + [UInt8(clientPort >> 8), UInt8(clientPort & 0xFF)]
            + [UInt8(fixture.proxy.port >> 8), UInt8(fixture.proxy.port & 0xFF)] + Array("xbye tcp-1\n".utf8)
        #expect(answer == expected)
    }

    @Test("ip-hash balances on the address a PROXY header carries")
    func ipHashOnCarriedAddress() async throws {
        var settings = TCPListenerSettings()
        settings.proxyProtocolTrusted = Self.loopback
        let fixture = try await TCPFixture.start(algorithm: .ipHash(prefix24: false), settings: settings)
        defer { Task { await fixture.stop() } }
        var placements: [Int: String] = [:]
        for round in 0..<2 {
            for host in 1...16 {
                let header = "PROXY TCP4 203.0.113.\(host) 198.51.100.1 \(5000 + round) 80\r\n"
                let name = Self.backendName(
                    try rawExchange(port: fixture.proxy.port, bytes: Array(header.utf8), halfClose: true)
                )
                if let first = placements[host] {
                    #expect(first == name, "client 203.0.113.\(host) moved")
                } else {
                    placements[host] = name
                }
            }
        }
        #expect(Set(placements.values).count == 3)
    }

    @Test("hash on ip keeps one client on one backend; on ip_port its connections spread")
    func hashIPAndPort() async throws {
        let ring = BalancingAlgorithm.hash(method: .ring, bound: nil)
        let byIP = try await TCPFixture.start(algorithm: ring)
        defer { Task { await byIP.stop() } }
        var settings = TCPListenerSettings()
        settings.hashIncludesClientPort = true
        let byPort = try await TCPFixture.start(algorithm: ring, settings: settings)
        defer { Task { await byPort.stop() } }
        var ipNames: Set<String> = []
        var portNames: Set<String> = []
        for _ in 0..<24 {
            ipNames.insert(Self.backendName(try rawExchange(port: byIP.proxy.port, bytes: [], halfClose: true)))
            portNames.insert(Self.backendName(try rawExchange(port: byPort.proxy.port, bytes: [], halfClose: true)))
        }
        #expect(ipNames.count == 1)
        #expect(portNames.count == 3)
    }

    @Test("A quiet connection is closed at the idle timeout, and the log line says so with bytes and backend")
    func idleTimeoutAndLogLine() async throws {
        let capture = LogCapture()
        var settings = TCPListenerSettings()
        settings.idleTimeout = .milliseconds(300)
        let fixture = try await TCPFixture.start(backends: 1, settings: settings, logger: capture.logger)
        defer { Task { await fixture.stop() } }
        let start = ContinuousClock.now
        // No half-close: only the idle timeout can end this exchange.
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("ping\n".utf8), halfClose: false)
        #expect(answer == "tcp-1\nping\n")
        #expect(ContinuousClock.now - start < .seconds(4))
        let line = try #require(await capture.next("connection closed"))
        #expect(line.metadata["end"] == "idle timeout")
        #expect(line.metadata["bytes_in"] == "5")
        #expect(line.metadata["bytes_out"] == "11")
        #expect(line.metadata["backend"] == fixture.proxy.cluster.backends[0].id)
        #expect(line.metadata["client"]?.hasPrefix("127.0.0.1:") == true)
        #expect(Int(line.metadata["duration_ms"] ?? "") ?? 0 >= 300)
        let load = fixture.proxy.cluster.backends[0].load
        #expect(load.bytesIn == 5 && load.bytesOut == 11 && load.connectionsClosed == 1)
    }
}

/// A loopback port whose accept queue is full, so the kernel drops further
/// SYNs and a connect to it neither succeeds nor is refused: the only way to
/// get a connect timeout without leaving 127.0.0.1.
final class Blackhole {
    let port: Int
    private var fds: [Int32] = []

    init() throws {
        let (listener, address) = listenOnLoopback(backlog: 0)
        port = Int(UInt16(bigEndian: address.sin_port))
        fds.append(listener)
        // Fill the queue (backlog 0 holds one) with connects that are never accepted.
        for _ in 0..<3 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var target = address
            _ = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            fds.append(fd)
        }
    }

    deinit { for fd in fds { close(fd) } }
}

@Suite("TCP proxy: connect timeout and least-connections", .serialized)
struct TCPConnectTests {
    @Test("A backend that never answers the connect is given up at the connect timeout and the next one serves")
    func connectTimeout() async throws {
        let blackhole = try Blackhole()
        var options = ProxyOptions()
        options.connectTimeout = .milliseconds(300)
        // `first` tries the blackhole, listed first, for every connection,
        // whichever relay thread accepts it.
        let fixture = try await TCPFixture.start(
            backends: 1,
            leadingAddresses: [BackendAddress(host: "127.0.0.1", port: blackhole.port)],
            algorithm: .first,
            options: options
        )
        defer { Task { await fixture.stop() } }
        let start = ContinuousClock.now
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("hi\n".utf8), halfClose: true)
        let elapsed = ContinuousClock.now - start
        #expect(answer == "tcp-1\nhi\nbye tcp-1\n")
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(3), "took \(elapsed)")
    }

    @Test("A backend that answers and then resets: the answer still reaches the client")
    func answerThenReset() async throws {
        let backend = try AnswerThenReset(answer: "answer\n")
        let fixture = try await TCPFixture.start(
            backends: 0,
            leadingAddresses: [BackendAddress(host: "127.0.0.1", port: backend.port)]
        )
        defer { Task { await fixture.stop() } }
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("hi\n".utf8))
        backend.join()
        #expect(answer == "answer\n")
    }

    @Test("A backend that answers and resets while the client is still uploading: the answer arrives whole")
    func answerThenResetMidUpload() async throws {
        let backend = try AnswerThenReset(answer: String(repeating: "a", count: 100_000) + "\n")
        let fixture = try await TCPFixture.start(
            backends: 0,
            leadingAddresses: [BackendAddress(host: "127.0.0.1", port: backend.port)]
        )
        defer { Task { await fixture.stop() } }
        let fd = try connectLoopback(port: fixture.proxy.port)
        defer { close(fd) }
        // The upload goes on from another thread while this one reads; the
        // backend reads only the first line.
        let upload = Array("hi\n".utf8) + [UInt8](repeating: 0x75, count: 4 << 20)
        let sender = Thread { _ = upload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        sender.start()
        let answer = receiveAll(fd)
        backend.join()
        #expect(answer.count == 100_001 && answer.last == 0x0A, "received \(answer.count) bytes")
    }

    @Test("At max_connections a new connection waits in the listen queue until one ends, then is served")
    func maxConnections() async throws {
        let capture = LogCapture()
        var settings = TCPListenerSettings()
        settings.maxConnections = 2
        let fixture = try await TCPFixture.start(backends: 1, settings: settings, logger: capture.logger)
        defer { Task { await fixture.stop() } }
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<2 {
            let fd = try connectLoopback(port: fixture.proxy.port)
            held.append(fd)
            #expect(Self.readLine(fd) == "tcp-1")
        }
        // The kernel completes the third handshake; the relay does not take
        // it, so no greeting comes while two are held (300 ms receive limit).
        let third = try connectLoopback(port: fixture.proxy.port, receiveTimeout: 1)
        defer { close(third) }
        #expect(await capture.next("at max_connections; new connections wait in the listen queue") != nil)
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(third, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #expect(Self.readLine(third) == "")
        close(held.removeFirst())
        timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(third, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #expect(Self.readLine(third) == "tcp-1")
    }

    /// One line from `fd`, without its newline ("" on timeout or close).
    static func readLine(_ fd: Int32) -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 64, recv(fd, &byte, 1, 0) == 1, byte != 0x0A { line.append(byte) }
        return String(decoding: line, as: UTF8.self)
    }

    @Test("least-connections sends a new connection to the backend with the fewest open ones")
    func leastConnections() async throws {
        let fixture = try await TCPFixture.start(algorithm: .leastConnections)
        defer { Task { await fixture.stop() } }
        // Two connections held open, each read up to its greeting.
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        var names: [String] = []
        for _ in 0..<2 {
            let fd = try connectLoopback(port: fixture.proxy.port)
            held.append(fd)
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while line.count < 64, recv(fd, &byte, 1, 0) == 1, byte != 0x0A { line.append(byte) }
            names.append(String(decoding: line, as: UTF8.self))
        }
        #expect(Set(names).count == 2)
        for _ in 0..<3 {
            let third = TCPProxyL4Tests.backendName(try rawExchange(port: fixture.proxy.port, bytes: [], halfClose: true))
            #expect(!names.contains(third), "\(third) already had an open connection")
        }
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

/// A backend on a thread of its own that reads one line, answers, and closes
/// with a reset (SO_LINGER 0), so the proxy sees the answer and the reset in
/// one event.
final class AnswerThenReset: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)

    init(answer: String) throws {
        let (listener, address) = listenOnLoopback(backlog: 4)
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        let done = done
        Thread {
            defer { done.signal() }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while recv(fd, &byte, 1, 0) == 1 {
                line.append(byte)
                if byte == 0x0A { break }
            }
            sendAll(fd, Array(answer.utf8))
            var reset = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
            close(fd)
        }.start()
    }

    /// Waits until the answer was sent and the connection reset.
    func join() {
        done.wait()
        close(listener)
    }
}

/// A blocking socket listening on 127.0.0.1 and a free port, and its address.
func listenOnLoopback(backlog: Int32) -> (Int32, sockaddr_in) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(listener, pointer, length)
            return getsockname(listener, pointer, &length)
        }
    }
    listen(listener, backlog)
    return (listener, address)
}

@Suite("TCP listener with active health checks", .serialized)
struct TCPHealthTests {
    @Test("A tcp check takes a dead backend out of a TCP listener's rotation: no connection is tried on it after DOWN")
    func tcpCheckRemovesBackend() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let live = try await DemoTCPBackend.start(name: "tcp-1", group: group)
        let doomed = try await DemoTCPBackend.start(name: "tcp-2", group: group)
        let port = try ProxyFixture.closedPort()
        let yaml = """
            listeners:
              - { name: raw, address: 127.0.0.1, port: \(port), protocol: tcp, default_cluster: db }
            clusters:
              db:
                algorithm: round-robin
                backends:
                  - { name: b1, address: "127.0.0.1:\(live.port)" }
                  - { name: b2, address: "127.0.0.1:\(doomed.port)" }
                health_check: { type: tcp, interval: 100ms, timeout: 500ms }
            """
        let recorder = EventRecorder()
        let server = try await FulcrumServer.start(
            try ConfigLoader.parse(yaml: yaml, file: "test.yaml"),
            group: group,
            events: recorder.observer
        )
        defer {
            Task {
                await server.stop(drainTimeout: .zero)
                await live.stop()
                try? await group.shutdownGracefully()
            }
        }
        for name in ["b1", "b2"] {
            #expect(await recorder.first { $0.backend == name && $0.kind == .up } != nil)
        }
        await doomed.stop()
        let down = await recorder.first { $0.backend == "b2" && $0.kind == .down }
        #expect(down?.reason.hasPrefix("tcp check:") == true, "\(String(describing: down))")
        let cluster = server.clusters[0].cluster
        let picksAtDown = cluster.backends[1].load.pickCount
        for _ in 0..<6 {
            let answer = try rawExchange(port: port, bytes: Array("x\n".utf8), halfClose: true)
            #expect(answer == "tcp-1\nx\nbye tcp-1\n")
        }
        #expect(cluster.backends[1].load.pickCount == picksAtDown)
    }
}
