import Foundation
import Testing

@Suite("fulcrum serve --metrics", .serialized)
struct MetricsCLITests {
    @Test("Prometheus text at /metrics counts the responses that went through the proxy")
    func prometheus() throws {
        let backend = try ServerProcess(["backend", "--name", "b1", "--listen", "127.0.0.1:0"], waitFor: "listening on")
        defer { backend.stop() }
        let backendPort = try backend.port(after: "listening on 127.0.0.1:")
        let proxy = try ServerProcess(
            ["serve", "--listen", "127.0.0.1:0", "--backend", "127.0.0.1:\(backendPort)", "--metrics", "127.0.0.1:0"],
            waitFor: "address=127.0.0.1:",
            stderr: true
        )
        defer { proxy.stop() }
        try proxy.waitFor("mode=http")
        let metricsPort = try proxy.port(after: "address=127.0.0.1:")
        let lines = proxy.printed.split(separator: "\n")
        let listening = try #require(lines.first { $0.contains("listening") })
        let port = try #require(Int(listening.split(separator: "address=127.0.0.1:")[1].prefix { $0.isNumber }))
        for _ in 0..<3 { #expect(try runCurl(["http://127.0.0.1:\(port)/"]) == "b1\n") }
        let text = try runCurl(["http://127.0.0.1:\(metricsPort)/metrics"])
        let line = try #require(
            text.split(separator: "\n").first {
                $0.hasPrefix("fulcrum_http_responses_total{") && $0.contains("class=\"2xx\"")
                    && $0.contains("backend=\"127.0.0.1:\(backendPort)\"")
            },
            "\(text)"
        )
        #expect(line.contains("cluster=\"default\""))
        #expect(line.hasSuffix(" 3"))
        #expect(try runCurl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(metricsPort)/other"]) == "404")
    }
}
