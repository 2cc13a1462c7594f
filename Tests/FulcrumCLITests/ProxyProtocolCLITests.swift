import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `fulcrum serve --config` with a tcp listener that accepts PROXY protocol,
/// in front of a real redis-server: the configuration's keys reach the
/// listener, not only the in-process API.
@Suite("PROXY protocol through fulcrum serve --config", .serialized)
struct ProxyProtocolCLITests {
    /// Sends `text`, half-closes, and returns what arrives until EOF (5 s at most).
    static func exchange(port: Int, _ text: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLITestError("socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Peer.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw CLITestError("connect to 127.0.0.1:\(port) failed") }
        let bytes = Array(text.utf8)
        _ = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.count < 1 << 20 {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { break }
            received += chunk[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test("a trusted PROXY header is stripped before Redis sees the bytes; no header closes the connection")
    func acceptFromConfig() throws {
        let redis = try RedisL4CLITests.startRedis(count: 1)
        defer { for r in redis { r.process.stop() } }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try Peer.freePort()
        let config = try directory.file(
            "fulcrum.yaml",
            """
            listeners:
              - { address: 127.0.0.1, port: \(port), protocol: tcp, default_cluster: redis,
                  proxy_protocol: accept, trusted: [127.0.0.0/8], idle_timeout: 30s }
            clusters:
              redis: { algorithm: hash, hash_key: ip, backends: [127.0.0.1:\(redis[0].port)] }
            """
        )
        let binary = try Fulcrum.binary.get()
        let fulcrum = try ExternalProcess(binary.path, ["serve", "--config", config])
        defer { fulcrum.stop() }
        try fulcrum.waitFor("port=\(port)", timeout: 30)
        let answer = try Self.exchange(port: port, "PROXY TCP4 203.0.113.9 127.0.0.1 40000 \(port)\r\nPING\r\n")
        #expect(answer == "+PONG\r\n")
        #expect(try Self.exchange(port: port, "PING\r\n") == "")
        // The refusal is logged with its reason, and the relayed connection's
        // line names the client the header carried.
        try fulcrum.waitFor("not_proxy_protocol", timeout: 10)
        try fulcrum.waitFor("client=203.0.113.9:40000", timeout: 10)
    }
}
