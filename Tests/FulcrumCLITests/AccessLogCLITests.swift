import Foundation
import Testing

@Suite("Access log from a config file", .serialized)
struct AccessLogCLITests {
    @Test("A listener with access_log: json logs one JSON line per request with cluster, backend and status")
    func jsonLines() throws {
        let backend = try ServerProcess(["backend", "--name", "b1", "--listen", "127.0.0.1:0"], waitFor: "listening on")
        defer { backend.stop() }
        let backendPort = try backend.port(after: "listening on 127.0.0.1:")
        let port = try freeLoopbackPort()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = try directory.file(
            "fulcrum.yaml",
            """
            listeners:
              - { name: front, address: 127.0.0.1, port: \(port), access_log: json }
            routes:
              - match: { path: { prefix: / } }
                cluster: api
            clusters:
              api:
                backends:
                  - { name: b1, address: 127.0.0.1:\(backendPort) }
            """
        )
        let proxy = try ServerProcess(["serve", "--config", config], waitFor: "listening", stderr: true)
        defer { proxy.stop() }
        #expect(try runCurl(["http://127.0.0.1:\(port)/status/418"]) == "b1 418\n")
        try proxy.waitFor("\"status\":418")
        let line = try #require(proxy.printed.split(separator: "\n").first { $0.contains("\"status\":418") })
        #expect(line.contains("\"cluster\":\"api\""))
        #expect(line.contains("\"backend\":\"b1\""))
        #expect(line.contains("\"uri\":\"/status/418\""))
    }
}
