import Foundation
import FulcrumCore
import FulcrumProxy
import Testing

@Suite("HTTP proxy against real loopback backends", .serialized)
struct ProxyIntegrationTests {
    @Test("Six curl requests reach all three backends in rotation")
    func roundRobinWithCurl() async throws {
        let fixture = try await ProxyFixture.start()
        defer { Task { await fixture.stop() } }
        var names: [String] = []
        for _ in 0..<6 {
            let result = try await curl([fixture.url + "/"])
            #expect(result.exitCode == 0 && result.status == 200)
            names.append(result.body.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(Set(names) == ["backend-1", "backend-2", "backend-3"])
    }

    @Test("A refused backend is retried elsewhere: the client sees no error")
    func retryOnRefused() async throws {
        let dead = try ProxyFixture.closedPort()
        let fixture = try await ProxyFixture.start(
            backends: 2,
            extraAddresses: [BackendAddress(host: "127.0.0.1", port: dead)]
        ) { $0.outlierDetection.consecutiveGatewayFailures = 0 }
        defer { Task { await fixture.stop() } }
        for _ in 0..<12 {
            let result = try await curl([fixture.url + "/"])
            #expect(result.status == 200, "body: \(result.body)")
        }
    }

    @Test("No backend available: 503 with Retry-After, at once")
    func allDown() async throws {
        let dead = try ProxyFixture.closedPort()
        let fixture = try await ProxyFixture.start(backends: 0, extraAddresses: [BackendAddress(host: "127.0.0.1", port: dead)])
        defer { Task { await fixture.stop() } }
        fixture.proxy.cluster.markDown(0)
        let result = try await curl([fixture.url + "/"])
        #expect(result.status == 503)
        #expect(result.headers.lowercased().contains("retry-after: 1"))
        #expect(result.body.contains("503"))
    }

    @Test("All backends down with panic routing on: a fast 503, not a 502")
    func panicAllDown() async throws {
        let dead = try ProxyFixture.closedPort()
        let fixture = try await ProxyFixture.start(
            backends: 0,
            extraAddresses: [BackendAddress(host: "127.0.0.1", port: dead)]
        ) { $0.panicThresholdPercent = 50 }
        defer { Task { await fixture.stop() } }
        fixture.proxy.cluster.markDown(0)
        let started = ContinuousClock.now
        let result = try await curl([fixture.url + "/"])
        #expect(result.status == 503)
        #expect(result.headers.lowercased().contains("retry-after: 1"))
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test("Every attempt refused: 502 after the retries")
    func badGateway() async throws {
        let dead = try ProxyFixture.closedPort()
        let fixture = try await ProxyFixture.start(backends: 0, extraAddresses: [BackendAddress(host: "127.0.0.1", port: dead)])
        defer { Task { await fixture.stop() } }
        let result = try await curl([fixture.url + "/"])
        #expect(result.status == 502)
    }

    @Test("A backend that does not answer in time: 504")
    func gatewayTimeout() async throws {
        var options = ProxyOptions()
        options.firstByteTimeout = .milliseconds(200)
        let fixture = try await ProxyFixture.start(backends: 1, options: options)
        defer { Task { await fixture.stop() } }
        let result = try await curl([fixture.url + "/slow?ms=3000"])
        #expect(result.status == 504)
        let fast = try await curl([fixture.url + "/"])
        #expect(fast.status == 200)
    }

    @Test("Forwarding headers are added and hop-by-hop headers removed")
    func headers() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let result = try await curl([
            "-H", "Connection: keep-alive, X-Secret", "-H", "X-Secret: hidden", "-H", "X-Forwarded-For: 10.1.2.3",
            "-H", "Keep-Alive: timeout=5", fixture.url + "/headers",
        ])
        #expect(result.status == 200)
        let lines = Set(result.body.split(separator: "\n").map(String.init))
        #expect(lines.contains("x-forwarded-for: 10.1.2.3, 127.0.0.1"))
        #expect(lines.contains("x-forwarded-proto: http"))
        #expect(lines.contains { $0.hasPrefix("x-forwarded-host: 127.0.0.1:") })
        // Sixteen lower-case hex digits.
        #expect(lines.contains { $0.hasPrefix("x-request-id: ") && $0.dropFirst(14).count == 16 && $0.dropFirst(14).allSatisfy(\.isHexDigit) && $0 == $0.lowercased() })
        #expect(!lines.contains { $0.hasPrefix("x-secret") || $0.hasPrefix("keep-alive") })
        #expect(lines.contains { $0.hasPrefix("host: 127.0.0.1:\(fixture.proxy.port)") })
    }

    @Test("Backend connections are kept alive and reused across client connections")
    func backendKeepAlive() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        var counts: [Int] = []
        for _ in 0..<6 {
            let result = try await curl([fixture.url + "/connection"])
            counts.append(Int(result.body.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
        }
        // Six separate curl connections; the proxy's two event loops each
        // keep a backend connection, so the backend sees far fewer than six.
        #expect(counts.max()! >= 3, "requests per backend connection: \(counts)")
    }

    @Test("Request bodies reach the backend")
    func body() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-body-\(UUID().uuidString)")
        try Data(repeating: 0x78, count: 1 << 20).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await curl(["-X", "POST", "--data-binary", "@" + file.path, fixture.url + "/"])
        #expect(result.status == 200)
        #expect(result.body.contains("received \(1 << 20) bytes"))
    }

    @Test("Malformed bytes get a 400 and the proxy stays up")
    func malformed() async throws {
        let fixture = try await ProxyFixture.start(backends: 1)
        defer { Task { await fixture.stop() } }
        let started = ContinuousClock.now
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".utf8))
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        // The connection is closed, not left to time out.
        #expect(ContinuousClock.now - started < .seconds(4))
        let after = try await curl([fixture.url + "/"])
        #expect(after.status == 200)
    }

    @Test("A client that never finishes its request head is closed after the header timeout")
    func slowloris() async throws {
        let fixture = try await ProxyFixture.start(
            backends: 1,
            clientTimeouts: ClientTimeouts(header: .milliseconds(200), idle: .seconds(60))
        )
        defer { Task { await fixture.stop() } }
        let started = ContinuousClock.now
        // The head never ends; the socket's own receive timeout is 5 s.
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8))
        #expect(answer.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test("An idle keep-alive connection is closed after the idle timeout")
    func idleKeepAlive() async throws {
        let fixture = try await ProxyFixture.start(
            backends: 1,
            clientTimeouts: ClientTimeouts(header: .seconds(10), idle: .milliseconds(200))
        )
        defer { Task { await fixture.stop() } }
        let started = ContinuousClock.now
        let answer = try rawExchange(port: fixture.proxy.port, bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(answer.hasSuffix("backend-1\n"))
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test("hash on a header keeps a user on one backend")
    func hashAffinity() async throws {
        var options = ProxyOptions()
        options.hashKey = .header("X-User")
        let fixture = try await ProxyFixture.start(algorithm: .hash(method: .ring, bound: nil), options: options)
        defer { Task { await fixture.stop() } }
        var seen: [String: Set<String>] = [:]
        for user in ["ann", "bob", "cy", "dee"] {
            for _ in 0..<3 {
                let result = try await curl(["-H", "X-User: \(user)", fixture.url + "/"])
                seen[user, default: []].insert(result.body)
            }
        }
        #expect(seen.values.allSatisfy { $0.count == 1 })
    }
}

extension Cluster {
    func markDown(_ index: Int) {
        for _ in 0..<settings.fall { recordCheck(.failure(reason: "test"), backend: index) }
    }
}
