import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Logging
import NIOCore
import NIOPosix
import Testing

@Suite("Active health checks against real backends", .serialized)
struct ActiveHealthCheckTests {
    /// Polls `condition` until it holds or `timeout` passes. Checks run on
    /// their own schedule, so there is no event to wait on; the poll is
    /// bounded in count and time.
    func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    func cluster(_ backends: [DemoBackend]) throws -> Cluster {
        var settings = ClusterSettings(algorithm: .roundRobin)
        settings.rise = 2
        settings.fall = 2
        settings.panicThresholdPercent = 0
        return try Cluster(
            name: "checked",
            backends: try backends.map { try Backend(id: $0.name, address: BackendAddress(host: "127.0.0.1", port: $0.port)) },
            settings: settings
        )
    }

    @Test("HTTP checks: a failing status takes a backend down with the status as reason; a dead one too; recovery brings it back")
    func httpChecks() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let healthy = try await DemoBackend.start(name: "healthy", group: group)
        var dying = try await DemoBackend.start(name: "dying", group: group)
        let cluster = try cluster([healthy, dying])
        let check = HealthCheckConfig(type: .http, path: "/health", interval: .milliseconds(50), timeout: .milliseconds(500), rise: 2, fall: 2)
        let checker = ActiveHealthChecker(cluster: cluster, settings: check, group: group, logger: Logger(label: "test"))
        defer {
            checker.stop()
            let last = dying
            Task {
                await healthy.stop()
                await last.stop()
                try? await group.shutdownGracefully()
            }
        }
        // Both pass.
        #expect(try await eventually { cluster.snapshot.states == [.up, .up] })
        // One stops listening: connect failures take it down.
        let port = dying.port
        await dying.stop()
        #expect(try await eventually { cluster.snapshot.states[1] == .down })
        #expect(cluster.snapshot.states[0] == .up)
        // It comes back on the same port: two passes bring it up.
        dying = try await DemoBackend.start(name: "dying", port: port, group: group)
        #expect(try await eventually { cluster.snapshot.states[1] == .up })
    }

    @Test("An HTTP check whose status is 500 marks the backend down")
    func statusFailure() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "sick", group: group)
        let cluster = try cluster([backend])
        let check = HealthCheckConfig(type: .http, path: "/status/500", interval: .milliseconds(50), timeout: .milliseconds(500), rise: 2, fall: 2)
        let checker = ActiveHealthChecker(cluster: cluster, settings: check, group: group, logger: Logger(label: "test"))
        defer {
            checker.stop()
            Task {
                await backend.stop()
                try? await group.shutdownGracefully()
            }
        }
        #expect(try await eventually { cluster.snapshot.states[0] == .down })
    }

    @Test("A TCP check passes on connect and fails on refusal")
    func tcpCheck() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "tcp", group: group)
        let cluster = try cluster([backend])
        let check = HealthCheckConfig(type: .tcp, interval: .milliseconds(50), timeout: .milliseconds(500), rise: 2, fall: 2)
        let checker = ActiveHealthChecker(cluster: cluster, settings: check, group: group, logger: Logger(label: "test"))
        defer {
            checker.stop()
            Task { try? await group.shutdownGracefully() }
        }
        #expect(cluster.snapshot.states[0] == .up)
        await backend.stop()
        #expect(try await eventually { cluster.snapshot.states[0] == .down })
    }
}
