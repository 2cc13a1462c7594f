import FulcrumConfig
import FulcrumCore
import FulcrumHashing
import Testing

@Suite("Loading a valid configuration")
struct ConfigLoaderTests {
    static let full = """
        listeners:
          - name: web
            address: 127.0.0.1
            port: 8080
            protocol: http
            default_cluster: api
          - port: 9000
            protocol: tcp
          - address: "[::1]"
            port: 8080
            protocol: udp
        routes:
          - name: api-v1
            match:
              host: API.example.com
              path: { prefix: "/api" }
              headers:
                - { name: X-Env, exact: staging }
                - { name: X-Debug, present: true }
                - { name: X-User, regex: "^a" }
                - { name: X-Tier, prefix: gold }
              query: [ { name: variant, exact: b } ]
              cookies: [ { name: beta, exact: "1" } ]
              jwt:
                claim: tenant
                exact: acme
                header: X-Token
                verification: { hs256_secret: correct-horse-battery-staple-2026 }
            cluster: api
            headers: { forwarded: true, x_forwarded_for: false, request_id: false, preserve_host: false }
          - name: ab
            match:
              host: "*.example.com"
              path: { regex: "^/v[0-9]+/" }
            split:
              - { cluster: api, weight: 90 }
              - { cluster: cache, weight: 10 }
            split_key: "cookie:sid"
          - match: { path: { exact: /x } }
            cluster: cache
        clusters:
          api:
            algorithm: least-connections
            backends:
              - address: 127.0.0.1:9001
                name: b1
                weight: 3
                backup: false
                max_in_flight: 100
              - address: "[::1]:9002"
                weight: 0
              - address: backend.internal:80
                backup: true
            timeouts: { connect: 500ms, first_byte: 1m30s, idle: 2m }
            retries: 3
            retry_budget_percent: 25
            panic_threshold_percent: 0
            slow_start: { window: 30s, aggression: 1.5, min_weight_percent: 5 }
            outlier_detection: { consecutive_gateway_failures: 7, base_ejection_time: 10s, max_ejection_time: 300s, max_ejection_percent: 30 }
            health_check: { type: tcp, interval: 3s, timeout: 1s, rise: 4, fall: 5 }
          cache:
            algorithm: hash
            hash_key: "header:X-User"
            hash_method: maglev
            hash_bound: 1.25
            backends:
              - 10.0.0.1:11211
              - 10.0.0.2:11211
        timeouts:
          client_header: 5s
          client_idle: 1h
          drain: 0s
        """

    @Test("every setting lands in the model")
    func fullConfiguration() throws {
        let configuration = try ConfigLoader.parse(yaml: Self.full, file: "fulcrum.yaml")
        let expected = FulcrumConfiguration(
            listeners: [
                ListenerConfig(name: "web", address: "127.0.0.1", port: 8080, protocol: .http, defaultCluster: "api"),
                ListenerConfig(name: "0.0.0.0:9000", address: "0.0.0.0", port: 9000, protocol: .tcp),
                ListenerConfig(name: "[::1]:8080", address: "::1", port: 8080, protocol: .udp),
            ],
            routes: [
                RouteConfig(
                    name: "api-v1",
                    match: RouteMatch(
                        host: .exact("api.example.com"),
                        path: .prefix("/api"),
                        headers: [
                            NamedMatch(name: "X-Env", value: .exact("staging")),
                            NamedMatch(name: "X-Debug", value: .present(true)),
                            NamedMatch(name: "X-User", value: .regex("^a")),
                            NamedMatch(name: "X-Tier", value: .prefix("gold")),
                        ],
                        query: [NamedMatch(name: "variant", value: .exact("b"))],
                        cookies: [NamedMatch(name: "beta", value: .exact("1"))],
                        jwt: JWTMatch(
                            claim: "tenant",
                            value: .exact("acme"),
                            header: "X-Token",
                            verification: JWTVerification(hs256Secret: "correct-horse-battery-staple-2026")
                        )
                    ),
                    target: .cluster("api"),
                    headers: RouteHeaders(forwarded: true, xForwardedFor: false, requestID: false, preserveHost: false)
                ),
                RouteConfig(
                    name: "ab",
                    match: RouteMatch(host: .suffix(".example.com"), path: .regex("^/v[0-9]+/")),
                    target: .split([
                        WeightedCluster(cluster: "api", weight: 90), WeightedCluster(cluster: "cache", weight: 10),
                    ]),
                    splitKey: .cookie("sid")
                ),
                RouteConfig(match: RouteMatch(path: .exact("/x")), target: .cluster("cache")),
            ],
            clusters: [
                ClusterConfig(
                    name: "api",
                    algorithm: .leastConnections,
                    backends: [
                        BackendConfig(
                            name: "b1",
                            address: BackendAddress(host: "127.0.0.1", port: 9001),
                            weight: 3,
                            maxInFlight: 100
                        ),
                        BackendConfig(address: BackendAddress(host: "::1", port: 9002), weight: 0),
                        BackendConfig(address: BackendAddress(host: "backend.internal", port: 80), backup: true),
                    ],
                    timeouts: UpstreamTimeouts(
                        connect: .milliseconds(500),
                        firstByte: .seconds(90),
                        idle: .seconds(120)
                    ),
                    retries: 3,
                    retryBudgetPercent: 25,
                    panicThresholdPercent: 0,
                    slowStart: SlowStartSettings(window: .seconds(30), aggression: 1.5, minWeightPercent: 5),
                    outlierDetection: OutlierDetectionSettings(
                        consecutiveGatewayFailures: 7,
                        baseEjectionTime: .seconds(10),
                        maxEjectionTime: .seconds(300),
                        maxEjectionPercent: 30
                    ),
                    healthCheck: HealthCheckConfig(
                        type: .tcp,
                        interval: .seconds(3),
                        timeout: .seconds(1),
                        rise: 4,
                        fall: 5
                    )
                ),
                ClusterConfig(
                    name: "cache",
                    algorithm: .hash(method: .maglev, bound: 1.25),
                    hashKey: .header("X-User"),
                    backends: [
                        BackendConfig(address: BackendAddress(host: "10.0.0.1", port: 11211)),
                        BackendConfig(address: BackendAddress(host: "10.0.0.2", port: 11211)),
                    ]
                ),
            ],
            timeouts: ClientTimeouts(clientHeader: .seconds(5), clientIdle: .seconds(3600), drain: .zero)
        )
        #expect(configuration.listeners == expected.listeners)
        #expect(configuration.routes == expected.routes)
        #expect(configuration.clusters == expected.clusters)
        #expect(configuration.timeouts == expected.timeouts)
        #expect(configuration == expected)
        #expect(configuration.summary == "3 listeners, 3 routes, 2 clusters, 5 backends")
        #expect(configuration.clusters[1].backends[1].name == "10.0.0.2:11211")
        #expect(configuration.clusters[0].backends[1].name == "[::1]:9002")
    }

    @Test("a minimal configuration takes every default")
    func defaults() throws {
        let configuration = try #require(valid(minimalConfig))
        #expect(configuration.listeners == [ListenerConfig(port: 8080)])
        #expect(configuration.listeners[0].name == "0.0.0.0:8080")
        #expect(configuration.listeners[0].address == "0.0.0.0")
        #expect(configuration.listeners[0].protocol == .http)
        #expect(configuration.routes.isEmpty)
        var cluster = ClusterConfig.defaults
        cluster.name = "api"
        cluster.backends = [BackendConfig(address: BackendAddress(host: "127.0.0.1", port: 9001))]
        #expect(configuration.clusters == [cluster])
        #expect(configuration.timeouts == .defaults)
        #expect(configuration.summary == "1 listener, 0 routes, 1 cluster, 1 backend")
    }

    @Test("a cluster converts to FulcrumCore's settings and backends")
    func conversion() throws {
        let configuration = try ConfigLoader.parse(yaml: Self.full, file: "fulcrum.yaml")
        let settings = try #require(configuration.makeClusterSettings("api"))
        #expect(settings.algorithm == .leastConnections)
        #expect(settings.panicThresholdPercent == 0)
        #expect(settings.retryBudgetPercent == 25)
        #expect(settings.rise == 4 && settings.fall == 5)
        #expect(settings.slowStart == SlowStartSettings(window: .seconds(30), aggression: 1.5, minWeightPercent: 5))
        #expect(settings.outlierDetection.maxEjectionPercent == 30)
        let backends = try configuration.makeBackends("api")
        #expect(backends.map(\.id) == ["b1", "[::1]:9002", "backend.internal:80"])
        #expect(backends.map(\.weight) == [3, 0, 1])
        #expect(backends.map(\.isBackup) == [false, false, true])
        #expect(backends[0].maxInFlight == 100)
        #expect(configuration.makeClusterSettings("cache")?.algorithm == .hash(method: .maglev, bound: 1.25))
        #expect(configuration.makeClusterSettings("nope") == nil)
        #expect(throws: CoreError.self) { try configuration.makeBackends("nope") }
        // The core accepts what the loader accepted.
        for cluster in configuration.clusters {
            _ = try Cluster(name: cluster.name, backends: cluster.makeBackends(), settings: cluster.makeSettings())
        }
    }

    @Test(
        "durations",
        arguments: [
            ("500ms", Duration.milliseconds(500)), ("2s", .seconds(2)), ("1m", .seconds(60)), ("1h30m", .seconds(5400)),
            ("1.5s", .milliseconds(1500)), ("250us", .microseconds(250)), ("90s", .seconds(90)),
        ]
    )
    func durations(text: String, expected: Duration) throws {
        let configuration = try #require(valid(minimalConfig + "    timeouts: { connect: \(text) }\n"))
        #expect(configuration.clusters[0].timeouts.connect == expected)
    }

    @Test("YAML anchors and merge keys")
    func mergeKeys() throws {
        let configuration = try #require(
            valid(
                """
                listeners:
                  - port: 8080
                clusters:
                  a: &base
                    algorithm: least-connections
                    retries: 4
                    backends: [ 10.0.0.1:80 ]
                  b:
                    <<: *base
                    retries: 1
                """
            )
        )
        #expect(configuration.clusters.map(\.retries) == [4, 1])
        #expect(configuration.clusters[1].algorithm == .leastConnections)
    }

    @Test("bare and bracketed IPv6 listener addresses, host names")
    func listenerAddresses() throws {
        let configuration = try #require(
            valid(
                """
                listeners:
                  - { address: "::", port: 1 }
                  - { address: localhost, port: 2 }
                  - { address: "[fe80::1%eth0]", port: 3 }
                clusters: { a: { backends: [ "[2001:db8::1]:80" ] } }
                """
            )
        )
        #expect(configuration.listeners.map(\.address) == ["::", "localhost", "fe80::1%eth0"])
        #expect(configuration.listeners.map(\.name) == ["[::]:1", "localhost:2", "[fe80::1%eth0]:3"])
    }
}
