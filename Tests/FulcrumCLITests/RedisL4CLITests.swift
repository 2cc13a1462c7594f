import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Three real redis-server backends behind `fulcrum serve --mode tcp`,
/// driven by redis-benchmark, as the L4 issue asks.
@Suite("Redis behind the TCP listener", .serialized)
struct RedisL4CLITests {
    struct Redis {
        let process: ExternalProcess
        let port: Int
    }

    static func startRedis(count: Int = 3) throws -> [Redis] {
        let server = try Peer.path("redis-server", package: "redis-server")
        var started: [Redis] = []
        do {
            for _ in 0..<count {
                let port = try Peer.freePort()
                let process = try ExternalProcess(
                    server,
                    [
                        "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                        "--logfile", "", "--daemonize", "no", "--protected-mode", "no",
                    ]
                )
                started.append(Redis(process: process, port: port))
                try process.waitFor("Ready to accept connections", timeout: 20)
            }
        } catch {
            for redis in started { redis.process.stop() }
            throw error
        }
        return started
    }

    /// `total_connections_received` from INFO stats (redis-cli's own
    /// connection included).
    static func connectionsReceived(_ redis: Redis) throws -> Int {
        let cli = try Peer.path("redis-cli", package: "redis-tools")
        let (status, text) = try Peer.run(cli, ["-h", "127.0.0.1", "-p", "\(redis.port)", "INFO", "stats"], timeout: 20)
        guard status == 0,
            let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("total_connections_received:") }),
            let count = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
        else { throw CLITestError("redis-cli INFO failed on port \(redis.port): \(text.prefix(300))") }
        return count
    }

    /// Runs redis-benchmark against the proxy; returns its exit status and output.
    static func benchmark(port: Int, requests: Int, clients: Int, timeout: Double = 300) throws -> (Int32, String) {
        let benchmark = try Peer.path("redis-benchmark", package: "redis-tools")
        return try Peer.run(
            benchmark,
            ["-h", "127.0.0.1", "-p", "\(port)", "-t", "set,get", "-n", "\(requests)", "-c", "\(clients)", "-q"],
            timeout: timeout
        )
    }

    static func backendArguments(_ redis: [Redis]) -> [String] {
        redis.flatMap { ["--backend", "127.0.0.1:\($0.port)"] }
    }

    /// The summary lines ("SET: 15600.62 requests per second, …"), without
    /// the progress lines redis-benchmark redraws with carriage returns.
    static func summary(_ output: String) -> [String] {
        output.split(whereSeparator: { $0 == "\r" || $0 == "\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.contains("requests per second") || $0.lowercased().contains("error") }
    }

    @Test("redis-benchmark -t set,get -n 100000 -c 50 through the TCP listener: 0 errors, every Redis used")
    func benchmarkRoundRobin() throws {
        let redis = try Self.startRedis()
        defer { for r in redis { r.process.stop() } }
        let (fulcrum, port) = try Peer.fulcrumServe(["--mode", "tcp"] + Self.backendArguments(redis))
        defer { fulcrum.stop() }
        let (status, output) = try Self.benchmark(port: port, requests: 100_000, clients: 50)
        let lines = Self.summary(output)
        print("redis-benchmark through fulcrum (debug build): \(lines.joined(separator: " | "))")
        #expect(status == 0, "redis-benchmark exited \(status): \(lines)")
        #expect(!lines.contains { $0.lowercased().contains("error") })
        #expect(lines.filter { $0.hasPrefix("SET:") || $0.hasPrefix("GET:") }.count == 2)
        for r in redis {
            #expect(try Self.connectionsReceived(r) > 10, "redis on \(r.port) took no share")
        }
    }

    @Test("hash on the client IP keeps every connection of this client on one Redis")
    func hashOnClientIP() throws {
        let redis = try Self.startRedis()
        defer { for r in redis { r.process.stop() } }
        let (fulcrum, port) = try Peer.fulcrumServe(
            ["--mode", "tcp", "--algorithm", "hash", "--hash-key", "ip"] + Self.backendArguments(redis)
        )
        defer { fulcrum.stop() }
        let (status, output) = try Self.benchmark(port: port, requests: 20_000, clients: 50)
        #expect(status == 0, "\(Self.summary(output))")
        // redis-cli's own INFO connection counts 1 on each.
        let counts = try redis.map { try Self.connectionsReceived($0) }
        print("connections received per Redis with hash on ip: \(counts)")
        #expect(counts.filter { $0 > 1 }.count == 1, "connections spread: \(counts)")
        #expect(counts.max() ?? 0 >= 51)
    }

    @Test("SIGKILL one Redis mid-run: the run goes on or stops cleanly, and new connections go to the other two")
    func killOneMidRun() throws {
        let redis = try Self.startRedis()
        defer { for r in redis { r.process.stop() } }
        let (fulcrum, port) = try Peer.fulcrumServe(["--mode", "tcp"] + Self.backendArguments(redis))
        defer { fulcrum.stop() }
        let benchmark = try Peer.path("redis-benchmark", package: "redis-tools")
        // Long enough to be running when the kill lands; its first progress
        // line ("SET: rps=…") is the event that it is under way.
        let running = try ExternalProcess(
            benchmark,
            ["-h", "127.0.0.1", "-p", "\(port)", "-t", "set", "-n", "10000000", "-c", "30"]
        )
        defer { running.stop() }
        try running.waitFor("rps=", timeout: 60)
        redis[1].process.stop(signal: SIGKILL)
        // An L4 relay cannot move an established stream: the connections on
        // the killed Redis end. Wait for the benchmark's next progress line
        // (it carried on) or its exit (it gave up on the broken connection).
        let mark = running.text.utf8.count
        let ended = try running.waitUntil(timeout: 60) { text, finished in
            finished || String(decoding: text.utf8.dropFirst(mark), as: UTF8.self).contains("rps=")
        }
        running.stop()
        print("the mid-run benchmark \(ended ? "stopped: \(Self.summary(running.text).suffix(1))" : "carried on after the kill")")
        let before = try redis.enumerated().filter { $0.offset != 1 }.map { try Self.connectionsReceived($0.element) }
        let (status, output) = try Self.benchmark(port: port, requests: 20_000, clients: 50)
        let lines = Self.summary(output)
        print("after the kill: \(lines.joined(separator: " | "))")
        #expect(status == 0, "redis-benchmark after the kill exited \(status): \(lines)")
        #expect(!lines.contains { $0.lowercased().contains("error") })
        let after = try redis.enumerated().filter { $0.offset != 1 }.map { try Self.connectionsReceived($0.element) }
        // 50 new connections, all on the two live ones (plus one INFO each).
        #expect(zip(after, before).map { $0 - $1 }.reduce(0, +) >= 50 + 2)
        #expect(zip(after, before).allSatisfy { $0 - $1 > 1 }, "both live Redis take new connections")
    }
}
