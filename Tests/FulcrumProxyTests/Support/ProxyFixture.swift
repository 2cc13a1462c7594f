import Foundation
import FulcrumCore
import FulcrumProxy
import NIOCore
import NIOPosix

/// Real loopback servers for the proxy's tests: demo backends on ephemeral
/// ports and the proxy in front of them.
struct ProxyFixture {
    let group: MultiThreadedEventLoopGroup
    let backends: [DemoBackend]
    let proxy: HTTPProxyServer

    var url: String { "http://127.0.0.1:\(proxy.port)" }

    static func start(
        backends count: Int = 3,
        extraAddresses: [BackendAddress] = [],
        weights: [Int] = [],
        latencies: [TimeAmount] = [],
        algorithm: BalancingAlgorithm = .roundRobin,
        options: ProxyOptions = ProxyOptions(),
        clientTimeouts: ClientTimeouts = ClientTimeouts(),
        metrics: ProxyMetrics = ProxyMetrics(),
        configure: (inout ClusterSettings) -> Void = { _ in }
    ) async throws -> ProxyFixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var backends: [DemoBackend] = []
        for i in 0..<count {
            let latency = i < latencies.count ? latencies[i] : .zero
            backends.append(try await DemoBackend.start(name: "backend-\(i + 1)", latency: latency, group: group))
        }
        let addresses = backends.map { BackendAddress(host: "127.0.0.1", port: $0.port) } + extraAddresses
        var settings = ClusterSettings(algorithm: algorithm)
        settings.panicThresholdPercent = 0
        configure(&settings)
        let cluster = try Cluster(
            name: "test",
            backends: try addresses.enumerated().map { i, address in
                try Backend(address: address, weight: i < weights.count ? weights[i] : 1)
            },
            settings: settings
        )
        metrics.observe(cluster)
        let proxy = try await HTTPProxyServer.start(
            host: "127.0.0.1",
            port: 0,
            routing: HTTPRouting(cluster: cluster, options: options),
            clientTimeouts: clientTimeouts,
            metrics: metrics,
            group: group
        )
        return ProxyFixture(group: group, backends: backends, proxy: proxy)
    }

    func stop() async {
        await proxy.stop()
        for backend in backends { await backend.stop() }
        try? await group.shutdownGracefully()
    }

    /// A loopback port with nothing listening on it, below the kernel's
    /// ephemeral range: a port from that range (what binding port 0 gives)
    /// can be taken as the local port of any outgoing connection, made by a
    /// test running alongside, between this call and the caller's bind.
    static func closedPort() throws -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .map { $0.split(whereSeparator: \.isWhitespace).compactMap { Int($0) } } ?? []
        let ephemeralStart = range.first ?? 32768
        for _ in 0..<100 {
            let port = Int.random(in: 10_000..<max(10_001, ephemeralStart))
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if bound == 0 { return port }
        }
        throw CancellationError()
    }
}

/// What curl printed and how it exited.
struct CurlResult {
    var exitCode: Int32
    var body: String
    var status: Int
    var headers: String
}

/// Runs the real curl, as users do. Waits for it without holding a thread:
/// Swift Testing runs tests on the small cooperative pool (two threads on
/// this machine), and a test blocked in a synchronous wait starves every
/// other test's continuations, which turns timing-free tests flaky.
func curl(_ arguments: [String]) async throws -> CurlResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-curl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let bodyFile = directory.appendingPathComponent("body")
    let headerFile = directory.appendingPathComponent("headers")
    let statusFile = directory.appendingPathComponent("status")
    process.arguments = ["sh", "-c", "curl \"$@\" > '\(statusFile.path)'", "curl",
        "-s", "--max-time", "20", "-o", bodyFile.path, "-D", headerFile.path, "-w", "%{http_code}"] + arguments
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        process.terminationHandler = { _ in done.resume() }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            done.resume()
        }
    }
    let status = (try? String(contentsOf: statusFile, encoding: .utf8)) ?? ""
    return CurlResult(
        exitCode: process.isRunning ? -1 : process.terminationStatus,
        body: (try? String(contentsOf: bodyFile, encoding: .utf8)) ?? "",
        status: Int(status) ?? 0,
        headers: (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
    )
}

/// A plain blocking socket connected to a loopback port, with a receive
/// timeout so that a test can never hang.
func connectLoopback(port: Int, receiveTimeout seconds: Int = 5) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw POSIXError(.ECONNREFUSED)
    }
    return fd
}

/// Writes all of `bytes`, in pieces of at most 64 KiB.
func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    var sent = 0
    while sent < bytes.count {
        let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, 65536), Int32(MSG_NOSIGNAL)) }
        guard count > 0 else { break }
        sent += count
    }
}

/// Reads until the peer closes or the receive timeout passes.
func receiveAll(_ fd: Int32) -> [UInt8] {
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        received += chunk[0..<count]
    }
    return received
}

/// Sends raw bytes over a plain socket, optionally closes the sending side
/// (half-close), and returns everything read until the server closes (or
/// 5 s pass).
func rawExchange(port: Int, bytes: [UInt8], halfClose: Bool = false) throws -> String {
    let fd = try connectLoopback(port: port)
    defer { close(fd) }
    sendAll(fd, bytes)
    if halfClose { shutdown(fd, Int32(SHUT_WR)) }
    return String(decoding: receiveAll(fd), as: UTF8.self)
}
