import Foundation
import Testing

/// A bulk transfer through a real `fulcrum serve --mode tcp` process, between
/// real iperf3 peers, with the balancer's memory read from /proc.
@Suite("Bulk transfer through the TCP listener", .serialized)
struct StreamingL4CLITests {
    @Test("iperf3 sends 1 GiB through the TCP listener, and the peak RSS stays within 32 MiB of idle")
    func oneGiBFlatRSS() throws {
        let iperf3 = try Peer.path("iperf3", package: "iperf3")
        let serverPort = try Peer.freePort()
        let server = try ExternalProcess(iperf3, ["-s", "-1", "--forceflush", "-B", "127.0.0.1", "-p", "\(serverPort)"])
        defer { server.stop() }
        try server.waitFor("Server listening", timeout: 20)
        let (fulcrum, port) = try Peer.fulcrumServe(["--mode", "tcp", "--backend", "127.0.0.1:\(serverPort)"])
        defer { fulcrum.stop() }
        let idle = try #require(fulcrum.memory("VmRSS"))
        let gib = 1 << 30
        let (status, output) = try Peer.run(
            iperf3,
            ["-c", "127.0.0.1", "-p", "\(port)", "-n", "\(gib)", "--json"],
            timeout: 600
        )
        #expect(status == 0, "iperf3 exited \(status): \(output.prefix(400))")
        let peak = try #require(fulcrum.memory("VmHWM"))
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let end = json?["end"] as? [String: Any]
        let sent = (end?["sum_sent"] as? [String: Any])?["bytes"] as? Int ?? 0
        let received = (end?["sum_received"] as? [String: Any])?["bytes"] as? Int ?? 0
        let seconds = (end?["sum_received"] as? [String: Any])?["seconds"] as? Double ?? 0
        print(
            "1 GiB through fulcrum serve --mode tcp: received \(received) bytes in \(seconds) s "
                + "(\(seconds > 0 ? Int(Double(received) * 8 / seconds / 1e6) : 0) Mbit/s); RSS idle \(idle) KiB, peak \(peak) KiB"
        )
        #expect(sent == gib)
        // iperf3's server stops counting, and closes the data connection,
        // when the client's end-of-test message arrives; what is still in
        // the sockets on both sides of the proxy then goes unread. That is
        // at most each hop's largest send and receive buffers plus the
        // relay's 64 KiB, so a count short by more means bytes were lost.
        // Byte-exact delivery is checked by TCPProxyTests.largeTransfer.
        let inFlight = 2 * (Self.sysctlMax("tcp_rmem") + Self.sysctlMax("tcp_wmem")) + 64 * 1024
        #expect(received >= gib - inFlight, "received \(received) of \(gib); up to \(inFlight) may be in flight")
        #expect(peak - idle < 32 * 1024, "RSS grew from \(idle) KiB to a peak of \(peak) KiB")
    }

    /// The last (largest) value of `/proc/sys/net/ipv4/NAME`.
    static func sysctlMax(_ name: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/" + name, encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) } ?? 0
    }
}
