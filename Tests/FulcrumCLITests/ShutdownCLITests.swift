import Foundation
import Testing

@Suite("Graceful shutdown of fulcrum serve", .serialized)
struct ShutdownCLITests {
    @Test("SIGTERM drains: new connections are refused, the request in flight completes, and the exit status is 0")
    func sigtermDrains() throws {
        let servers = try ProxiedBackend(name: "b1")
        defer { servers.stop() }
        let (proxy, port, backendPort) = (servers.proxy, servers.port, servers.backendPort)

        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        slow.arguments = ["curl", "-s", "--max-time", "20", "http://127.0.0.1:\(port)/slow?ms=1500"]
        let output = Pipe()
        slow.standardOutput = output
        try slow.run()
        // The backend counts a request when it arrives, before the slow answer.
        var arrived = false
        for _ in 0..<500 where !arrived {
            arrived = try runCurl(["http://127.0.0.1:\(backendPort)/admin/requests"]) == "1\n"
        }
        try #require(arrived, "the slow request never reached the backend")

        kill(proxy.process.processIdentifier, SIGTERM)
        var refused = false
        for _ in 0..<500 where !refused {
            refused = try runCurl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"]) == "000"
        }
        #expect(refused, "the listener still accepted connections after SIGTERM")

        let body = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        slow.waitUntilExit()
        #expect(body == "b1 after 1500ms\n")
        proxy.process.waitUntilExit()
        #expect(proxy.process.terminationReason == .exit && proxy.process.terminationStatus == 0)
    }
}
