import FulcrumCore
import FulcrumProxy
import MetricsTestKit
import Testing

@Suite("Proxy metrics", .serialized)
struct ProxyMetricsTests {
    @Test("Responses by backend and class, the proxy's own answers, retries, rejected requests and cluster events are counted")
    func counted() async throws {
        let metrics = TestMetrics()
        let refused = BackendAddress(host: "127.0.0.1", port: try ProxyFixture.closedPort())
        let fixture = try await ProxyFixture.start(
            backends: 1,
            extraAddresses: [refused],
            metrics: ProxyMetrics(factory: metrics)
        ) { settings in
            settings.outlierDetection.consecutiveGatewayFailures = 0
        }
        defer { Task { await fixture.stop() } }
        let backend = fixture.proxy.cluster.backends[0].id
        for _ in 0..<4 { #expect(try await curl([fixture.url + "/"]).status == 200) }
        #expect(try await curl([fixture.url + "/status/503"]).status == 503)
        #expect(try rawExchange(port: fixture.proxy.port, bytes: Array("GET / HTTP/1.1\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 400"))
        fixture.proxy.cluster.setAdminState(.draining, backend: 1)

        func count(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
            metrics.counterTotal(label: label, dimensions: dimensions)
        }
        #expect(count("fulcrum_http_responses_total", [("cluster", "test"), ("backend", backend), ("class", "2xx")]) == 4)
        #expect(count("fulcrum_http_responses_total", [("cluster", "test"), ("backend", backend), ("class", "5xx")]) == 1)
        // Round robin sent some of the five requests to the refused backend
        // first; each of those was retried on the live one.
        #expect(count("fulcrum_retries_total", [("cluster", "test")]) >= 1)
        #expect(metrics.counterTotal(label: "fulcrum_http_rejected_total") == 1)
        #expect(count("fulcrum_cluster_events_total", [("cluster", "test"), ("backend", refused.description), ("event", "draining")]) == 1)
    }
}
