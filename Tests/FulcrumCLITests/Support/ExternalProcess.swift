import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A long-running peer for a test (redis-server, dnsmasq, `fulcrum serve`):
/// its output is collected as it comes, a test waits for a line to appear
/// (an event, not a sleep), and `stop()` kills it.
final class ExternalProcess: @unchecked Sendable {
    let name: String
    let pid: Int32
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var output = ""
    private var finished = false
    private var exitStatus: Int32?

    /// Starts `executable` (a path) with `arguments`; stdout and stderr are
    /// both collected, stdin is /dev/null.
    ///
    /// It is spawned with posix_spawn, not Foundation's `Process`: that one
    /// watches each child through an inherited descriptor, and a daemon such
    /// as dnsmasq closes every descriptor above 2 at start, which made
    /// Foundation block in `wait4` for it and stop reaping every other child.
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later),
    /// which Swift's Glibc module does not export.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
        )
    }()

    init(_ executable: String, _ arguments: [String]) throws {
        name = (executable as NSString).lastPathComponent
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CLITestError("pipe() failed") }
        // Only this child gets the write end (dup2 clears close-on-exec).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        // Nothing else: other tests' sockets and pipes, open in this process
        // without close-on-exec, would otherwise live on in the child
        // (holding ports, and counting against its descriptor limit).
        Self.addCloseFrom?(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw CLITestError("cannot start \(executable): error \(result)")
        }
        pid = child
        let readFD = fds[0]
        let reader = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(readFD, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                condition.lock()
                if count <= 0 {
                    if count < 0 { output += "[fulcrum tests: reading the output failed, errno \(errno)]" }
                    finished = true
                } else {
                    output += String(decoding: buffer[..<count], as: UTF8.self)
                }
                condition.broadcast()
                condition.unlock()
                if count <= 0 {
                    close(readFD)
                    return
                }
            }
        }
        reader.start()
    }


    /// Everything printed so far.
    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return output
    }

    /// Waits until the output contains `needle` and returns the output, or
    /// throws after `timeout` seconds or when the process ends first.
    @discardableResult
    func waitFor(_ needle: String, timeout: Double = 30) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !output.contains(needle) {
            if finished {
                let alive = kill(pid, 0) == 0
                throw CLITestError(
                    "\(name) closed its output before printing '\(needle)' (it is \(alive ? "still running" : "gone")); "
                        + "it printed: \(output.suffix(800))"
                )
            }
            if !condition.wait(until: deadline) {
                throw CLITestError("\(name) did not print '\(needle)' within \(timeout) s; it printed: \(output.suffix(800))")
            }
        }
        return output
    }

    /// Waits until `condition(output, ended)` holds, for up to `timeout`
    /// seconds; returns whether the process had ended by then.
    @discardableResult
    func waitUntil(timeout: Double, _ condition: (String, Bool) -> Bool) throws -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        self.condition.lock()
        defer { self.condition.unlock() }
        while !condition(output, finished) {
            if finished || !self.condition.wait(until: deadline) {
                throw CLITestError("\(name): the awaited output did not come within \(timeout) s: \(output.suffix(800))")
            }
        }
        return finished
    }

    /// Waits for the process to exit by itself, up to `timeout` seconds;
    /// kills it and throws if it does not.
    func waitForExit(timeout: Double) throws -> Int32 {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        while !finished {
            if !condition.wait(until: deadline) {
                condition.unlock()
                stop()
                throw CLITestError("\(name) did not finish within \(timeout) s; it printed: \(text.suffix(800))")
            }
        }
        condition.unlock()
        return reap()
    }

    /// Waits for the child and returns its exit status (128 + signal when killed).
    private func reap() -> Int32 {
        condition.lock()
        defer { condition.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        exitStatus = code
        return code
    }

    /// Kills the process (SIGKILL) and reaps it.
    func stop(signal: Int32 = SIGKILL) {
        condition.lock()
        let reaped = exitStatus != nil
        condition.unlock()
        guard !reaped else { return }
        kill(pid, signal)
        _ = reap()
    }

    /// The `VmRSS` or `VmHWM` line of /proc/PID/status, in KiB.
    func memory(_ field: String = "VmRSS") -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// The real user id the process runs as, from /proc/PID/status.
    var uid: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
        return line.flatMap { Int($0.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") }
    }
}

/// Real peers the L4 tests drive. A missing one fails the test with what to
/// install (`.ci/run` installs them), rather than skipping silently.
enum Peer {
    static func path(_ command: String, package: String) throws -> String {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin"] {
            let path = directory + "/" + command
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw CLITestError(
            "\(command) is not installed: `apt-get install \(package)` (.ci/run installs it for CI)"
        )
    }

    /// A port that was free on 127.0.0.1 a moment ago, for peers that cannot
    /// bind port 0 and report it (redis-server, dnsmasq, iperf3). It is
    /// chosen below the kernel's ephemeral range: a port from that range can
    /// become the local port of any outgoing connection (a test running
    /// alongside opens many) before the peer binds it.
    static func freePort(udp: Bool = false) throws -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .map { $0.split(whereSeparator: \.isWhitespace).compactMap { Int($0) } } ?? []
        let ephemeralStart = range.first ?? 32768
        for _ in 0..<100 {
            let port = Int.random(in: 10_000..<max(10_001, ephemeralStart))
            let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw CLITestError("socket() failed") }
            defer { close(fd) }
            var address = loopback(port: port)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        throw CLITestError("no free port on 127.0.0.1 below \(ephemeralStart) in 100 tries")
    }

    /// 127.0.0.1:`port` as a socket address.
    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A port free on 127.0.0.1 for both UDP and TCP, as a DNS server binds
    /// both: a UDP port chosen alone can be a TCP port in use (with all the
    /// TIME_WAIT loopback connections of a test run), and dnsmasq then stops
    /// at start. Up to 50 tries.
    static func freeDualPort() throws -> Int {
        for _ in 0..<50 {
            let port = try freePort(udp: true)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var address = loopback(port: port)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound { return port }
        }
        throw CLITestError("no port free for both UDP and TCP on 127.0.0.1 in 50 tries")
    }

    /// Runs a short command to completion and returns its output.
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) throws -> (Int32, String) {
        let process = try ExternalProcess(executable, arguments)
        let status = try process.waitForExit(timeout: timeout)
        return (status, process.text)
    }

    /// `fulcrum serve …` started with `--listen 127.0.0.1:0`; returns the
    /// process and the port it reported in its "listening" line.
    static func fulcrumServe(_ arguments: [String]) throws -> (ExternalProcess, Int) {
        let binary = try Fulcrum.binary.get()
        let process = try ExternalProcess(binary.path, ["serve", "--listen", "127.0.0.1:0"] + arguments)
        let text: String
        do {
            text = try process.waitFor("listening", timeout: 30)
        } catch {
            process.stop()
            throw error
        }
        guard let range = text.range(of: "address=127.0.0.1:"),
            let port = Int(text[range.upperBound...].prefix { $0.isNumber })
        else {
            process.stop()
            throw CLITestError("fulcrum serve did not report its port: \(text.prefix(400))")
        }
        return (process, port)
    }
}
