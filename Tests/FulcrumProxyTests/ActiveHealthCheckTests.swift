import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Logging
import MetricsTestKit
import NIOCore
import NIOPosix
import Testing

@Suite("Active health checks against real backends", .serialized)
struct ActiveHealthCheckTests {
    func cluster(
        _ addresses: [(String, Int)],
        rise: Int = 2,
        fall: Int = 2,
        initial: InitialHealth = .up
    ) throws -> Cluster {
        var settings = ClusterSettings(algorithm: .roundRobin)
        settings.rise = rise
        settings.fall = fall
        settings.initialHealth = initial
        settings.panicThresholdPercent = 0
        return try Cluster(
            name: "checked",
            backends: try addresses.map {
                try Backend(id: $0.0, address: BackendAddress(host: "127.0.0.1", port: $0.1))
            },
            settings: settings
        )
    }

    func check(
        _ type: HealthCheckConfig.CheckType = .http,
        _ configure: (inout HealthCheckConfig) -> Void = { _ in }
    )
        -> HealthCheckConfig
    {
        var check = HealthCheckConfig(
            type: type,
            interval: .milliseconds(50),
            timeout: .milliseconds(500),
            rise: 2,
            fall: 2,
            initial: .up
        )
        configure(&check)
        return check
    }

    /// Runs `body` with a started checker and stops everything after.
    func checking(
        _ cluster: Cluster,
        _ settings: HealthCheckConfig,
        group: MultiThreadedEventLoopGroup,
        metrics: TestMetrics = TestMetrics(),
        _ body: (EventRecorder) async throws -> Void
    ) async throws {
        let recorder = EventRecorder()
        let checker = try ActiveHealthChecker(
            cluster: cluster,
            settings: settings,
            logger: Logger(label: "test"),
            metrics: metrics,
            observer: recorder.observer
        )
        checker.start(group: group)
        do {
            try await body(recorder)
        } catch {
            checker.stop()
            throw error
        }
        checker.stop()
    }

    @Test("HTTP checks: a dead backend goes down with the reason and count; restarted, it comes back (2/2)")
    func httpChecks() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let healthy = try await DemoBackend.start(name: "healthy", group: group)
        let dying = try await DemoBackend.start(name: "dying", group: group)
        let port = dying.port
        let cluster = try cluster([("healthy", healthy.port), ("dying", port)])
        try await checking(cluster, check(), group: group) { recorder in
            await dying.stop()
            let down = await recorder.first { $0.kind == .down }
            #expect(down?.description == "cluster=checked backend=dying DOWN (http check: connection refused, 2/2)")
            #expect(cluster.snapshot.states == [.up, .down])
            let again = try await DemoBackend.start(name: "dying", port: port, group: group)
            let up = await recorder.first { $0.kind == .up }
            #expect(up?.description == "cluster=checked backend=dying UP (2/2)")
            await again.stop()
        }
        await healthy.stop()
        try await group.shutdownGracefully()
    }

    @Test("/health turning to 500 while the backend serves takes it down with the status in the reason")
    func statusFlip() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "b2", group: group)
        let cluster = try cluster([("b2", backend.port)], fall: 3)
        let metrics = TestMetrics()
        ProxyMetrics(factory: metrics).observe(cluster)
        try await checking(cluster, check { $0.fall = 3 }, group: group, metrics: metrics) { recorder in
            backend.health.status = 500
            let down = await recorder.first { $0.kind == .down }
            #expect(down?.description == "cluster=checked backend=b2 DOWN (http check: status 500, 3/3)")
        }
        // Counted in metrics, per backend.
        let labels = [("cluster", "checked"), ("backend", "b2")]
        #expect(try metrics.expectCounter("fulcrum_cluster_events_total", labels + [("event", "down")]).totalValue == 1)
        #expect(try metrics.expectCounter("fulcrum_health_checks_total", labels + [("result", "fail")]).totalValue >= 3)
        await backend.stop()
        try await group.shutdownGracefully()
    }

    @Test("expect_status lists, body text and regex, method and Host header")
    func httpExpectations() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "web", group: group)
        let address = [("web", backend.port)]
        // Each case: the initial state, the check, and the change it must
        // cause. Started down, a backend rises only on passing checks;
        // /headers echoes the request's headers, the Host header among them.
        func web(
            _ path: String,
            method: String = "GET",
            host: String? = nil,
            statuses: [ClosedRange<Int>] = [200...399],
            body: String? = nil,
            regex: String? = nil
        ) -> HealthCheckConfig {
            check {
                ($0.path, $0.method, $0.host) = (path, method, host)
                ($0.expectStatus, $0.expectBody, $0.expectBodyRegex) = (.init(ranges: statuses), body, regex)
            }
        }
        let cases: [(InitialHealth, HealthCheckConfig, ClusterEvent.Kind, String)] = [
            (.up, web("/status/204", statuses: [200...200]), .down, "http check: status 204, 2/2"),
            (.down, web("/status/204", statuses: [200...200, 204...204]), .up, "2/2"),
            (
                .up, web("/headers", host: "x.internal", body: "host: nope"), .down,
                "http check: body lacks 'host: nope', 2/2"
            ),
            (
                .up, web("/headers", method: "HEAD", regex: "^x-never"), .down,
                "http check: body does not match /^x-never/, 2/2"
            ),
            (.down, web("/headers", host: "x.internal", regex: "host: x\\.internal"), .up, "2/2"),
        ]
        for (initial, settings, kind, reason) in cases {
            try await checking(try cluster(address, initial: initial), settings, group: group) {
                #expect(await $0.first { $0.kind == kind }?.reason == reason)
            }
        }
        await backend.stop()
        try await group.shutdownGracefully()
    }

    @Test("application check: db failing takes the backend down naming db; cache warning halves its weight")
    func applicationCheck() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "app", group: group)
        let cluster = try cluster([("app", backend.port)])
        let settings = check(.application) {
            $0.path = "/health/deep"
            $0.required = ["db", "cache"]
            $0.warnWeightPercent = 50
        }
        try await checking(cluster, settings, group: group) { recorder in
            backend.health.setDependency("cache:ping", "warn")
            let weight = await recorder.first { $0.kind == .weight }
            #expect(
                weight?.description
                    == "cluster=checked backend=app WEIGHT (50% of its weight, application check: cache:ping warn)"
            )
            #expect(cluster.snapshot.healthWeights == [0.5])
            backend.health.setDependency("db:connection", "fail")
            let down = await recorder.first { $0.kind == .down }
            #expect(
                down?.description == "cluster=checked backend=app DOWN (application check: db:connection fail, 2/2)"
            )
            backend.health.setDependency("db:connection", "pass")
            backend.health.setDependency("cache:ping", "pass")
            #expect(await recorder.first { $0.kind == .up }?.reason == "2/2")
            #expect(await recorder.first { $0.kind == .weight && $0.reason.hasPrefix("100%") } != nil)
        }
        // A required dependency the document does not list counts as failing.
        let strict = try self.cluster([("app", backend.port)])
        try await checking(
            strict,
            check(.application) {
                $0.path = "/health/deep"
                $0.required = ["queue"]
            },
            group: group
        ) {
            #expect(await $0.first { $0.kind == .down }?.reason == "application check: queue missing, 2/2")
        }
        await backend.stop()
        try await group.shutdownGracefully()
    }

    @Test("TCP checks: connect, and send/expect against the reply")
    func tcpChecks() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await DemoTCPBackend.start(name: "echo", group: group)
        try await checking(
            try cluster([("echo", echo.port)], initial: .down),
            check(.tcp) {
                $0.send = "PING\r\n"
                $0.expect = "PING"
            },
            group: group
        ) {
            #expect(await $0.first { $0.kind == .up }?.reason == "2/2")
        }
        try await checking(
            try cluster([("echo", echo.port)]),
            check(.tcp) {
                $0.send = "PING\r\n"
                $0.expect = "PONG"
                $0.timeout = .milliseconds(100)
            },
            group: group
        ) {
            #expect(await $0.first { $0.kind == .down }?.reason == "tcp check: timeout after 100ms, 2/2")
        }
        let port = echo.port
        await echo.stop()
        try await checking(try cluster([("echo", port)]), check(.tcp), group: group) {
            #expect(await $0.first { $0.kind == .down }?.reason == "tcp check: connection refused, 2/2")
        }
        try await group.shutdownGracefully()
    }

    @Test("agent checks apply the agent's word: drain and a weight; down takes the backend down")
    func agentChecks() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The demo TCP backend greets with its name: the agent's reply.
        let drain = try await DemoTCPBackend.start(name: "drain 75%", group: group)
        let down = try await DemoTCPBackend.start(name: "down #disk full", group: group)
        let web = try await DemoBackend.start(name: "web", group: group)
        let cluster = try cluster([("web", web.port)])
        try await checking(cluster, check(.agent) { $0.port = drain.port }, group: group) { recorder in
            #expect(await recorder.first { $0.kind == .draining }?.reason == "agent check")
            #expect(await recorder.first { $0.kind == .weight }?.reason == "75% of its weight, agent check: drain 75%")
            #expect(cluster.snapshot.states == [.draining])
        }
        let failing = try self.cluster([("web", web.port)])
        try await checking(failing, check(.agent) { $0.port = down.port }, group: group) {
            #expect(await $0.first { $0.kind == .down }?.reason == "agent check: down (disk full), 2/2")
        }
        await drain.stop()
        await down.stop()
        await web.stop()
        try await group.shutdownGracefully()
    }

    @Test("the demo backend's agent answers what /admin/agent sets, and the checker follows it")
    func demoAgent() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let web = try await DemoBackend.start(name: "web", group: group)
        let agent = try await DemoAgent.start(state: web.health, group: group)
        let cluster = try cluster([("web", web.port)])
        try await checking(cluster, check(.agent) { $0.port = agent.port }, group: group) { recorder in
            let set = try await curl(["http://127.0.0.1:\(web.port)/admin/agent?reply=maint+%23upgrade"])
            #expect(set.body == "web agent now answers 'maint #upgrade'\n")
            #expect(await recorder.first { $0.kind == .maintenance }?.reason == "agent check")
            web.health.agentReply = "ready 25%"
            #expect(await recorder.first { $0.kind == .weight }?.reason == "25% of its weight, agent check: ready 25%")
            #expect(await recorder.first { $0.kind == .enabled } != nil)
        }
        await agent.stop()
        await web.stop()
        try await group.shutdownGracefully()
    }

    @Test("ping checks 127.0.0.1 with whichever ICMP socket this process may open")
    func ping() async throws {
        guard case .success = ActiveHealthChecker.pingSocketKind() else {
            // Neither socket kind: building the checker must fail with the reason.
            let cluster = try cluster([("lo", 1)])
            #expect(throws: ActiveHealthChecker.SetupError.self) {
                try ActiveHealthChecker(cluster: cluster, settings: check(.ping), logger: Logger(label: "test"))
            }
            return
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var settings = ClusterSettings(algorithm: .roundRobin)
        settings.initialHealth = .firstCheck
        let cluster = try Cluster(
            name: "checked",
            backends: [try Backend(id: "lo", address: BackendAddress(host: "127.0.0.1", port: 1))],
            settings: settings
        )
        try await checking(cluster, check(.ping) { $0.initial = .firstCheck }, group: group) {
            #expect(await $0.first { $0.kind == .up }?.reason == "first check passed")
        }
        try await group.shutdownGracefully()
    }

    @Test("fast_interval while a state is changing and down_interval while down, not the 10 s interval")
    func fastAndDownIntervals() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "b", group: group)
        let slow = check {
            $0.interval = .seconds(10)
            $0.fastInterval = .milliseconds(50)
            $0.downInterval = .milliseconds(50)
            $0.fall = 1
        }
        // Down at first: the first pass starts a rise, the second comes a fast interval later.
        try await checking(try cluster([("b", backend.port)], initial: .down), slow, group: group) {
            #expect(await $0.first(within: .seconds(3)) { $0.kind == .up }?.reason == "2/2")
        }
        // Failing: down at once (fall 1); healed, it is noticed a down interval later.
        backend.health.status = 503
        try await checking(try cluster([("b", backend.port)], fall: 1), slow, group: group) { recorder in
            #expect(
                await recorder.first(within: .seconds(3)) { $0.kind == .down }?.reason == "http check: status 503, 1/1"
            )
            backend.health.status = 200
            #expect(await recorder.first(within: .seconds(3)) { $0.kind == .up }?.reason == "2/2")
        }
        await backend.stop()
        try await group.shutdownGracefully()
    }

    @Test("each delay lies within ±jitter of its interval", arguments: [(0.0, 1800), (0.5, 2000), (0.999_999, 2200)])
    func jitter(unit: Double, milliseconds: Int) {
        let delay = ActiveHealthChecker.jittered(.seconds(2), percent: 10, unit: unit)
        #expect(abs((delay - .milliseconds(milliseconds)).nanoseconds) < 1_000_000)
    }

    @Test("first checks are spread evenly over one interval")
    func spread() {
        let offsets = (0..<4).map { ActiveHealthChecker.startOffset(position: $0, of: 4, interval: .seconds(2)) }
        #expect(offsets == [.zero, .milliseconds(500), .seconds(1), .milliseconds(1500)])
    }
}
