import Foundation
import Testing

/// `fulcrum serve --mode tcp` run out of file descriptors (a low `ulimit -n`
/// and more clients than it allows).
@Suite("The TCP listener out of descriptors", .serialized)
struct DescriptorLimitCLITests {
    @Test("Out of descriptors, the TCP listener pauses accepting instead of spinning, and serves again once they are free")
    func pausesAndRecovers() throws {
        let backend = try ServerProcess(["backend", "--name", "b1", "--listen", "127.0.0.1:0"], waitFor: "listening on")
        defer { backend.stop() }
        let backendPort = try backend.port(after: "listening on 127.0.0.1:")
        let binary = try Fulcrum.binary.get().path
        // max_connections above what 40 descriptors allow, so the shortage
        // itself is met (the default would stop at 1 connection first).
        let port = try Peer.freePort()
        let config = "/tmp/fulcrum-descriptors-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).yaml"
        try """
            listeners:
              - { address: 127.0.0.1, port: \(port), protocol: tcp, default_cluster: db, max_connections: 1000 }
            clusters:
              db: { backends: ["127.0.0.1:\(backendPort)"] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        let fulcrum = try ExternalProcess("/bin/sh", ["-c", "ulimit -n 40 && exec '\(binary)' serve --config '\(config)'"])
        defer { fulcrum.stop() }
        try fulcrum.waitFor("listening")

        // Each relayed connection takes two descriptors; 100 clients need
        // 200. Those the proxy cannot take wait in the listen queue, and it
        // takes (and closes) one per loop every 100 ms, so the shortage
        // lasts a few seconds.
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<100 { held.append(try Self.connect(port)) }
        try fulcrum.waitFor("not accepting for 100 ms")
        // The warning repeats at most once a second per relay thread (two
        // of them here), so three more mean at least a second has passed; a
        // listener that spun on the failing accept would burn that second.
        let warnings = Self.count("not accepting for 100 ms", in: fulcrum.text)
        let before = try Self.cpuTicks(fulcrum.pid)
        try fulcrum.waitUntil(timeout: 20) { text, _ in Self.count("not accepting for 100 ms", in: text) >= warnings + 3 }
        let spent = try Self.cpuTicks(fulcrum.pid) - before
        #expect(spent < 30, "\(spent) clock ticks of CPU while out of descriptors")
        #expect(fulcrum.text.contains("Too many open files"))
        // A shortage here is not the backend's fault.
        #expect(!fulcrum.text.contains("EJECTED") && !fulcrum.text.contains("no backend"))

        for fd in held { close(fd) }
        held = []
        // The relays see their clients go and close, and the queued
        // connections their clients closed are accepted and dropped, some of
        // them refused for want of descriptors on the way. Once that is
        // done a new connection is served; each try is one more connection
        // through the queue, at most 50.
        var served = false
        var lastAnswer = ""
        for _ in 0..<50 where !served {
            lastAnswer = try Self.exchange(port)
            served = lastAnswer.hasPrefix("HTTP/1.1 200 ")
        }
        #expect(served, "last answer: \(lastAnswer.prefix(80)); \(fulcrum.text.suffix(600))")
    }

    @Test("serve raises its soft limit on open files to the hard limit")
    func raisesSoftLimit() throws {
        let binary = try Fulcrum.binary.get().path
        let fulcrum = try ExternalProcess(
            "/bin/sh",
            ["-c", "ulimit -S -n 256 && exec '\(binary)' serve --listen 127.0.0.1:0 --mode tcp --backend 127.0.0.1:9"]
        )
        defer { fulcrum.stop() }
        try fulcrum.waitFor("listening")
        let limits = try String(contentsOfFile: "/proc/\(fulcrum.pid)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let values = line.split(separator: " ").compactMap { Int($0) }
        try #require(values.count == 2, "\(line)")
        #expect(values[0] == min(values[1], 1 << 20) && values[0] > 256, "\(line)")
    }

    /// One `GET /` through the relay; what came back before it closed.
    static func exchange(_ port: Int) throws -> String {
        let fd = try connect(port)
        defer { close(fd) }
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// utime + stime of `pid`, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// A blocking loopback connection to `port` (with a 10 s receive timeout).
    static func connect(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Peer.loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw CLITestError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
        return fd
    }
}
