import Foundation
import Testing

/// Three real dnsmasq servers behind `fulcrum serve --mode udp`, asked with
/// dig, as the L4 issue asks. Each dnsmasq answers example.test with its own
/// address, so an answer names the backend that gave it.
@Suite("dnsmasq behind the UDP listener", .serialized)
struct DNSUDPCLITests {
    static let answers = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]

    static func startDnsmasq() throws -> [(process: ExternalProcess, port: Int)] {
        let dnsmasq = try Peer.path("dnsmasq", package: "dnsmasq")
        var started: [(ExternalProcess, Int)] = []
        do {
            for answer in answers {
                let port = try Peer.freeDualPort()
                let process = try ExternalProcess(
                    dnsmasq,
                    [
                        "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                        "--port=\(port)", "--listen-address=127.0.0.1", "--bind-interfaces",
                        "--address=/example.test/\(answer)", "--pid-file=", "--log-facility=-",
                    ]
                )
                started.append((process, port))
                // Ready when it answers. (Its log line is no signal: dnsmasq
                // now and then starts with its output already closed.) Until
                // it has bound its port a query is refused at once, so each
                // refusal is one more try, up to 200.
                var ready: String?
                for _ in 0..<200 where ready == nil {
                    let (status, text) = try Self.digOnce(port: port)
                    if status == 0 {
                        ready = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    } else if !text.contains("connection refused") {
                        throw CLITestError("dig to dnsmasq on port \(port) exited \(status): \(text)")
                    }
                }
                guard ready == answer else {
                    throw CLITestError(
                        "dnsmasq on port \(port) answered \(ready.map { "'\($0)'" } ?? "nothing"), not \(answer) "
                            + "(it is \(kill(process.pid, 0) == 0 ? "running or a zombie" : "gone")): \(process.text)"
                    )
                }
            }
        } catch {
            for (process, _) in started { process.stop() }
            throw error
        }
        return started
    }

    /// `dig @127.0.0.1 -p PORT example.test +short`, optionally from a fixed source port.
    static func dig(port: Int, sourcePort: Int? = nil) throws -> String {
        let (status, text) = try digOnce(port: port, sourcePort: sourcePort)
        guard status == 0 else { throw CLITestError("dig exited \(status): \(text)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One query (3 s at most); its exit status and output.
    static func digOnce(port: Int, sourcePort: Int? = nil) throws -> (Int32, String) {
        let dig = try Peer.path("dig", package: "dnsutils")
        var arguments = ["@127.0.0.1", "-p", "\(port)", "example.test", "A", "+short", "+time=3", "+tries=1"]
        if let sourcePort { arguments += ["-b", "127.0.0.1#\(sourcePort)"] }
        return try Peer.run(dig, arguments, timeout: 30)
    }

    @Test("dig through the UDP listener gets answers from every dnsmasq, evenly, and dnsmasq runs unprivileged")
    func balanced() throws {
        let servers = try Self.startDnsmasq()
        defer { for (process, _) in servers { process.stop() } }
        for (process, _) in servers {
            // As root dnsmasq drops to nobody after binding; as a user it stays that user.
            #expect(process.uid != nil && process.uid != 0, "dnsmasq runs as uid \(String(describing: process.uid))")
        }
        let (fulcrum, port) = try Peer.fulcrumServe(
            ["--mode", "udp"] + servers.flatMap { ["--backend", "127.0.0.1:\($0.port)"] }
        )
        defer { fulcrum.stop() }
        var counts: [String: Int] = [:]
        for _ in 0..<30 {
            counts[try Self.dig(port: port), default: 0] += 1
        }
        print("answers over 30 digs (one flow each): \(counts.sorted { $0.key < $1.key })")
        #expect(Set(counts.keys) == Set(Self.answers))
        #expect(counts.values.allSatisfy { $0 >= 5 }, "unbalanced: \(counts)")
    }

    @Test("one client address and port keeps to one dnsmasq")
    func affinity() throws {
        let servers = try Self.startDnsmasq()
        defer { for (process, _) in servers { process.stop() } }
        let (fulcrum, port) = try Peer.fulcrumServe(
            ["--mode", "udp"] + servers.flatMap { ["--backend", "127.0.0.1:\($0.port)"] }
        )
        defer { fulcrum.stop() }
        let source = try Peer.freePort(udp: true)
        let first = try Self.dig(port: port, sourcePort: source)
        #expect(Self.answers.contains(first))
        for _ in 0..<5 {
            #expect(try Self.dig(port: port, sourcePort: source) == first)
        }
    }

    @Test("protocol: udp from a config file: dig answers through the configured listener")
    func fromConfig() throws {
        let servers = try Self.startDnsmasq()
        defer { for (process, _) in servers { process.stop() } }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try Peer.freePort(udp: true)
        let backends = servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ", ")
        let config = try directory.file(
            "fulcrum.yaml",
            """
            listeners:
              - { address: 127.0.0.1, port: \(port), protocol: udp, default_cluster: dns, idle_timeout: 5s, max_sessions: 100 }
            clusters:
              dns: { algorithm: round-robin, backends: [\(backends)] }
            """
        )
        let fulcrum = try ExternalProcess(try Fulcrum.binary.get().path, ["serve", "--config", config])
        defer { fulcrum.stop() }
        try fulcrum.waitFor("port=\(port)", timeout: 30)
        var answers: Set<String> = []
        for _ in 0..<6 { answers.insert(try Self.dig(port: port)) }
        #expect(answers == Set(Self.answers))
    }
}
