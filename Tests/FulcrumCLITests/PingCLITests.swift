import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `fulcrum serve` with ping checks, as a process, for each kind of ICMP
/// socket the kernel may grant: raw (root, in this machine's namespace),
/// datagram (a network namespace whose `net.ipv4.ping_group_range` admits
/// root's group), and neither (an unprivileged user outside the range),
/// where startup must fail with a message that says what to change.
@Suite("fulcrum serve with ping health checks", .serialized)
struct PingCLITests {
    /// What a process printed (stdout and stderr) until `marker` appeared,
    /// it exited, or `timeout` seconds passed; it is killed afterwards.
    static func output(
        _ executable: String,
        _ arguments: [String],
        until marker: String,
        timeout: Double = 20
    ) throws
        -> (text: String, status: Int32?)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let pid = process.processIdentifier
        // The bound: a process that never prints the marker is killed.
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { kill(pid, SIGKILL) }
        var text = ""
        var ended = false
        let handle = pipe.fileHandleForReading
        while !text.contains(marker) {
            let data = handle.availableData
            if data.isEmpty {
                ended = true
                break
            }
            text += String(decoding: data, as: UTF8.self)
        }
        guard ended else {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            return (text, nil)
        }
        process.waitUntilExit()
        return (text, process.terminationStatus)
    }

    /// A world-readable config (an unprivileged user must read it) with one
    /// ping-checked backend on 127.0.0.1.
    static func config() throws -> String {
        let path = "/tmp/fulcrum-ping-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).yaml"
        let yaml = """
            listeners:
              - { name: web, address: 127.0.0.1, port: \(try Peer.freePort()), default_cluster: app }
            clusters:
              app:
                backends: [ { name: lo, address: "127.0.0.1:\(try Peer.freePort())" } ]
                health_check: { type: ping, interval: 100ms, timeout: 1s }
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        return path
    }

    static var isRoot: Bool { getuid() == 0 }

    /// Whether nogroup (65534) is outside `net.ipv4.ping_group_range`, as
    /// the "neither socket" test needs.
    static var nogroupMayNotPing: Bool {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ping_group_range", encoding: .utf8)) ?? ""
        let bounds = range.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        return bounds.count == 2 && (bounds[0] > bounds[1] || !(bounds[0]...bounds[1]).contains(65534))
    }

    // Raw ICMP sockets, network namespaces and dropping to nobody need root:
    // without it these tests show as skipped rather than passing unseen.
    @Test("as root: the startup summary, then the first echo reply brings the backend up", .enabled(if: isRoot, "needs root"))
    func asRoot() throws {
        let binary = try Fulcrum.binary.get().path
        let config = try Self.config()
        defer { unlink(config) }
        let result = try Self.output(binary, ["serve", "--config", config], until: "backend=lo UP")
        #expect(result.text.contains("cluster=app backend=lo UP (first check passed)"), "\(result.text)")
        #expect(result.text.contains(" ICMP socket"))
        // The one-line summary of the cluster that serve logs at startup.
        #expect(
            result.text.contains(
                "cluster=app round-robin, 1 backend (lo=1); health: ping every 100ms (±10%), timeout 1s, rise 2, "
                    + "fall 3, initial first_check; passive ejection after 5 gateway failures in a row; "
                    + "routing PANIC until the first checks pass"
            )
        )
    }

    @Test("a datagram ICMP socket where ping_group_range allows it (a network namespace of our own)", .enabled(if: isRoot, "needs root"))
    func datagram() throws {
        let binary = try Fulcrum.binary.get().path
        let config = try Self.config()
        defer { unlink(config) }
        let script =
            "{ ip link set lo up && sysctl -qw net.ipv4.ping_group_range='0 0'; } >/dev/null 2>&1 "
            + "|| { echo 'cannot test: no ip or sysctl here'; exit 99; }; exec \"$0\" serve --config \"$1\""
        let result = try Self.output(
            "/usr/bin/unshare",
            ["-n", "sh", "-c", script, binary, config],
            until: "backend=lo UP"
        )
        // .ci/run installs iproute2 and procps; a machine that cannot make a
        // network namespace fails here, saying so, rather than passing unseen.
        try #require(
            !result.text.contains("unshare:") && !result.text.contains("cannot test:"),
            "no network namespace with ip and sysctl here: \(result.text)"
        )
        #expect(result.text.contains("cluster=app ping checks use a datagram ICMP socket"), "\(result.text)")
        #expect(result.text.contains("cluster=app backend=lo UP (first check passed)"))
    }

    @Test(
        "neither socket: startup fails, naming ping_group_range and root",
        .enabled(if: isRoot, "needs root"),
        .enabled(if: nogroupMayNotPing, "nogroup may ping here, so a datagram socket would work")
    )
    func neither() throws {
        let binary = try Fulcrum.binary.get().path
        let config = try Self.config()
        defer { unlink(config) }
        let result = try Self.output(
            "/usr/bin/setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", binary, "serve", "--config", config],
            until: "no marker: run until it exits"
        )
        #expect(result.status != nil && result.status != 0, "\(result.text)")
        #expect(result.text.contains("ping health checks need an ICMP socket"), "\(result.text)")
        #expect(result.text.contains("net.ipv4.ping_group_range"))
        #expect(result.text.contains("needs root"))
        #expect(!result.text.contains("listening"))
    }
}
