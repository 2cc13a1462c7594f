import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Scenarios 3 and 4 of the health issue end to end: the configured server
/// in front of three demo backends, under a steady (bounded) stream of
/// requests from curl, while one backend that keeps serving starts failing
/// its checks.
@Suite("Health scenarios under load", .serialized)
struct HealthScenarioTests {
    /// Sends `count` requests on one keep-alive curl process and returns the
    /// status of each, read from the response heads curl dumps; a request
    /// that got no response counts as 0.
    static func batch(_ url: String, count: Int) async throws -> [Int] {
        let result = try await curl([url] + (1..<count).flatMap { _ in ["-o", "/dev/null", url] })
        let statuses = result.headers.split(whereSeparator: \.isNewline)
            .filter { $0.hasPrefix("HTTP/") }
            .map { line in line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0 }
        return statuses + Array(repeating: 0, count: max(0, count - statuses.count))
    }

    /// Runs the scenario: `fault` makes b2 fail its checks while it serves.
    func run(check: String, expectedReason: String, fault: @escaping @Sendable (DemoBackend) -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var backends: [DemoBackend] = []
        for i in 1...3 { backends.append(try await DemoBackend.start(name: "b\(i)", group: group)) }
        let port = try ProxyFixture.closedPort()
        let yaml = """
            listeners:
              - { name: front, address: 127.0.0.1, port: \(port) }
            routes:
              - { cluster: app }
            clusters:
              app:
                backends:
            \(backends.map { "      - { name: \($0.name), address: 127.0.0.1:\($0.port) }" }.joined(separator: "\n"))
                health_check: \(check)
            """
        let recorder = EventRecorder()
        let server = try await FulcrumServer.start(
            try ConfigLoader.parse(yaml: yaml, file: "test.yaml"),
            group: group,
            events: recorder.observer
        )
        // Every backend up (first_check) before the load starts.
        for name in ["b1", "b2", "b3"] {
            #expect(await recorder.first { $0.backend == name && $0.kind == .up } != nil)
        }
        let url = "http://127.0.0.1:\(port)/"
        let statuses = Mutex<[Int]>([])
        let batches = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let (progress, batchDone) = AsyncStream<Int>.makeStream()
        let load = Task {
            defer { batchDone.finish() }
            // Bounded: at most 60 batches of 50 requests.
            for i in 0..<60 where !stop.load(ordering: .relaxed) {
                let codes = try await Self.batch(url, count: 50)
                statuses.withLock { $0 += codes }
                batches.add(1, ordering: .relaxed)
                batchDone.yield(i)
            }
        }
        let b2 = backends[1]
        fault(b2)
        let down = await recorder.first { $0.backend == "b2" && $0.kind == .down }
        #expect(down?.reason == expectedReason)
        let servedAtDown = b2.health.requestsServed
        // Two full batches after DOWN; the stream ends with the load's own bound.
        let doneAtDown = batches.load(ordering: .relaxed)
        for await finished in progress where finished >= doneAtDown + 2 { break }
        stop.store(true, ordering: .relaxed)
        try await load.value
        let all = statuses.withLock { $0 }
        #expect(all.count >= 100)
        #expect(all.allSatisfy { $0 == 200 }, "non-200 answers: \(all.filter { $0 != 200 })")
        // At most the one request that was in flight when b2 went down.
        #expect(b2.health.requestsServed - servedAtDown <= 1)
        await server.stop(drainTimeout: .zero)
        for backend in backends { await backend.stop() }
        try await group.shutdownGracefully()
    }

    @Test("/health turning to 500 while b2 serves: b2 gets no traffic once DOWN, and no client sees an error")
    func healthTurns500() async throws {
        try await run(
            check: "{ type: http, path: /health, interval: 100ms, timeout: 500ms, rise: 2, fall: 3 }",
            expectedReason: "http check: status 500, 3/3"
        ) { $0.health.status = 500 }
    }

    @Test("the deep check: b2's document reports db failing; it is taken out and the reason names db")
    func deepCheckDBFails() async throws {
        try await run(
            check:
                "{ type: application, path: /health/deep, required: [db], interval: 100ms, timeout: 500ms, fall: 3 }",
            expectedReason: "application check: db:connection fail, 3/3"
        ) { $0.health.setDependency("db:connection", "fail") }
    }

    @Test("a backend's own health_check overrides the cluster's: a tcp check keeps it up while http fails the others")
    func backendOverride() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let b1 = try await DemoBackend.start(name: "b1", group: group)
        let b2 = try await DemoBackend.start(name: "b2", group: group)
        b1.health.status = 500
        b2.health.status = 500
        let port = try ProxyFixture.closedPort()
        let yaml = """
            listeners:
              - { name: front, address: 127.0.0.1, port: \(port), default_cluster: app }
            clusters:
              app:
                backends:
                  - { name: b1, address: 127.0.0.1:\(b1.port) }
                  - { name: b2, address: 127.0.0.1:\(b2.port), health_check: { type: tcp } }
                health_check: { type: http, interval: 50ms, timeout: 500ms }
            """
        let recorder = EventRecorder()
        let server = try await FulcrumServer.start(
            try ConfigLoader.parse(yaml: yaml, file: "test.yaml"),
            group: group,
            events: recorder.observer
        )
        #expect(await recorder.first { $0.backend == "b2" && $0.kind == .up }?.reason == "first check passed")
        let app = try #require(server.clusters.first?.cluster)
        #expect(app.snapshot.states == [.down, .up])
        #expect(recorder.events.allSatisfy { $0.backend != "b1" || $0.kind != .up })
        await server.stop(drainTimeout: .zero)
        await b1.stop()
        await b2.stop()
        try await group.shutdownGracefully()
    }
}
