import Foundation
import FulcrumCore
import FulcrumProxy
import Testing

/// Each algorithm's distribution as clients see it through the proxy: 60
/// requests pipelined on one keep-alive connection (so one event loop's
/// rotation), counted by the backend name each answer carries.
@Suite("Distribution per algorithm through the proxy", .serialized)
struct AlgorithmDistributionTests {
    static let requests = 60

    /// Sends `requests` GETs on one connection and returns the backend
    /// names in answer order.
    private static func names(port: Int, headers: (Int) -> String = { _ in "" }) throws -> [String] {
        var batch = ""
        for i in 0..<requests {
            let close = i == requests - 1 ? "Connection: close\r\n" : ""
            batch += "GET / HTTP/1.1\r\nHost: x\r\n\(headers(i))\(close)\r\n"
        }
        let answer = try rawExchange(port: port, bytes: Array(batch.utf8))
        return answer.components(separatedBy: "\r\n\r\n").dropFirst().compactMap { part in
            part.hasPrefix("backend-") ? String(part.prefix { $0 != "\n" }) : nil
        }
    }

    private static func counts(_ names: [String]) -> [Int] {
        (1...3).map { i in names.filter { $0 == "backend-\(i)" }.count }
    }

    @Test(
        "Counts per backend for 60 requests",
        arguments: [
            ("round-robin", [20, 20, 20]),
            ("weighted-round-robin", [10, 20, 30]),
            ("first", [60, 0, 0]),
        ]
    )
    func exact(name: String, expected: [Int]) async throws {
        let fixture = try await ProxyFixture.start(
            weights: name == "weighted-round-robin" ? [1, 2, 3] : [],
            algorithm: try #require(BalancingAlgorithm(name: name))
        )
        defer { Task { await fixture.stop() } }
        let names = try Self.names(port: fixture.proxy.port)
        #expect(names.count == Self.requests)
        #expect(Self.counts(names) == expected)
    }

    @Test(
        "Random and load-aware algorithms use every backend",
        arguments: ["random", "power-of-two", "least-connections"]
    )
    func spread(name: String) async throws {
        let fixture = try await ProxyFixture.start(algorithm: try #require(BalancingAlgorithm(name: name)))
        defer { Task { await fixture.stop() } }
        let names = try Self.names(port: fixture.proxy.port)
        #expect(names.count == Self.requests)
        // For random and power-of-two each backend's count is Binomial(60, 1/3)
        // (below 5 with probability under 1e-4); the load-aware ones see
        // equal idle backends and must not starve any of them.
        #expect(Self.counts(names).allSatisfy { $0 >= 5 }, "\(Self.counts(names))")
    }

    @Test("least-response-time keeps away from a backend 20 ms slower than the others")
    func leastResponseTime() async throws {
        let fixture = try await ProxyFixture.start(
            latencies: [.milliseconds(20)],
            algorithm: BalancingAlgorithm.leastResponseTimeDefault
        )
        defer { Task { await fixture.stop() } }
        let counts = Self.counts(try Self.names(port: fixture.proxy.port))
        #expect(counts.reduce(0, +) == Self.requests)
        // One probe while its latency is unknown, and 1% exploration after.
        #expect(counts[0] <= 4, "\(counts)")
        #expect(counts[1] + counts[2] >= Self.requests - 4, "\(counts)")
    }

    @Test("ip-hash sends one client to one backend")
    func ipHash() async throws {
        let fixture = try await ProxyFixture.start(algorithm: .ipHash(prefix24: false))
        defer { Task { await fixture.stop() } }
        let names = try Self.names(port: fixture.proxy.port)
        #expect(names.count == Self.requests)
        #expect(Set(names).count == 1)
    }

    @Test("hash on a header: each user keeps one backend, and users spread over all three")
    func hashHeader() async throws {
        var options = ProxyOptions()
        options.hashKey = .header("X-User")
        let fixture = try await ProxyFixture.start(algorithm: .hash(method: .ring, bound: nil), options: options)
        defer { Task { await fixture.stop() } }
        // Twenty users, three requests each, interleaved.
        let names = try Self.names(port: fixture.proxy.port) { "X-User: user-\($0 % 20)\r\n" }
        #expect(names.count == Self.requests)
        for user in 0..<20 {
            let mine = Set(stride(from: user, to: Self.requests, by: 20).map { names[$0] })
            #expect(mine.count == 1, "user-\(user) went to \(mine)")
        }
        #expect(Set(names).count == 3)
    }
}
