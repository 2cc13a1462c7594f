import Foundation
import Testing

/// `fulcrum serve` quick-form L4 options: each misuse exits 2 with one line
/// naming the value and what is accepted, before anything listens.
@Suite("serve: L4 quick-form usage errors")
struct L4ServeUsageCLITests {
    static let cases: [(String, [String], [String])] = [
        ("unknown mode", ["--mode", "sctp"], ["sctp", "http, tcp or udp"]),
        ("PROXY protocol on http", ["--send-proxy-protocol", "v2"], ["--send-proxy-protocol", "--mode tcp"]),
        ("unknown PROXY version", ["--mode", "tcp", "--send-proxy-protocol", "v3"], ["v3", "v1 or v2"]),
        ("trusted network with host bits", ["--mode", "tcp", "--trusted-proxy", "10.0.0.1/8"], ["10.0.0.1/8", "10.0.0.0/8"]),
        ("trusted host name", ["--mode", "tcp", "--trusted-proxy", "lb.internal"], ["lb.internal", "10.0.0.0/8"]),
        ("PROXY protocol on udp", ["--mode", "udp", "--trusted-proxy", "10.0.0.0/8"], ["--trusted-proxy", "not udp"]),
        ("ip_port on http", ["--hash-key", "ip_port"], ["ip_port", "tcp or udp"]),
    ]

    @Test("each misuse is refused with exit status 2", arguments: 0..<cases.count)
    func refused(index: Int) throws {
        let (label, extra, mentions) = Self.cases[index]
        let result = try Fulcrum.run(
            ["serve", "--listen", "127.0.0.1:0", "--backend", "127.0.0.1:9"] + extra,
            timeout: 60
        )
        expectBadInput(result, mentions: mentions, label)
        // Refused before anything listens: no "listening" line at all.
        #expect(!result.stderrText.contains("listening"), "\(label): \(result.summary)")
    }
}
