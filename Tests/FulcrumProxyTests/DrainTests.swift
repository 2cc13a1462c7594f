import Foundation
import FulcrumCore
import FulcrumProxy
import Testing

@Suite("Graceful drain", .serialized)
struct DrainTests {
    @Test("Draining lets the request in flight finish, closes idle connections and refuses new ones")
    func drain() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let url = fixture.url
        // A keep-alive connection that has finished its request: idle.
        let idle = try connectLoopback(port: fixture.proxy.port)
        defer { close(idle) }
        sendAll(idle, Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        var first = [UInt8](repeating: 0, count: 4096)
        let count = first.withUnsafeMutableBytes { recv(idle, $0.baseAddress, $0.count, 0) }
        #expect(count > 0)
        // A slow request in flight, from a curl process started right away
        // (not from a task that might wait for a free thread).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-drain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        slow.arguments = [
            "curl", "-s", "--max-time", "20", "-o", directory.appendingPathComponent("body").path,
            "-D", directory.appendingPathComponent("headers").path, url + "/slow?ms=1500",
        ]
        try slow.run()
        let backend = fixture.proxy.cluster.backends[0]
        // Waits for the request to reach the backend. The request is in
        // flight for only 1.5 s, so this polls on its own thread rather
        // than with Task.sleep: with the two-thread cooperative pool busy
        // with other tests, a sleeping task could wake only after the
        // request had finished (it did, once, in a full run). The bound
        // only matters when the machine is very busy starting curl.
        let deadline = ContinuousClock.now + .seconds(60)
        while backend.load.inFlight == 0 && ContinuousClock.now < deadline {
            usleep(1_000)
        }
        try #require(backend.load.inFlight == 1)

        let started = ContinuousClock.now
        await fixture.proxy.drain(timeout: .seconds(5))
        let drained = ContinuousClock.now - started
        slow.waitUntilExit()
        let body = (try? String(contentsOf: directory.appendingPathComponent("body"), encoding: .utf8)) ?? ""
        let headers = (try? String(contentsOf: directory.appendingPathComponent("headers"), encoding: .utf8)) ?? ""
        #expect(headers.hasPrefix("HTTP/1.1 200") && body.contains("after 1500ms"))
        #expect(headers.lowercased().contains("connection: close"))
        #expect(drained < .seconds(4.5), "drain took \(drained)")
        // The idle connection was closed, and nothing new is accepted.
        #expect(receiveAll(idle).isEmpty)
        #expect(throws: (any Error).self) { try connectLoopback(port: fixture.proxy.port) }
        #expect(fixture.proxy.openConnections == 0)
    }
}
