import FulcrumConfig
import FulcrumCore
import Testing

@Suite("Health-check settings")
struct HealthCheckConfigTests {
    @Test("every key reads into the model; a backend's own block overrides the cluster's key by key")
    func everyKey() throws {
        let configuration = try #require(
            valid(
                """
                listeners: [ { port: 8080 } ]
                clusters:
                  api:
                    health_check:
                      type: application
                      method: HEAD
                      path: /health/deep
                      host: api.internal
                      expect_status: [200, "300-302"]
                      expect_body: pass
                      expect_body_regex: "\\"status\\""
                      required: [db, cache]
                      warn_weight_percent: 25
                      port: 9100
                      interval: 3s
                      fast_interval: 500ms
                      down_interval: 1s
                      timeout: 800ms
                      jitter_percent: 20%
                      rise: 4
                      fall: 5
                      initial: down
                    backends:
                      - 127.0.0.1:9001
                      - { address: 127.0.0.1:9002, health_check: { type: tcp, send: "PING\\r\\n", expect: PONG, rise: 1 } }
                """
            )
        )
        let cluster = configuration.clusters[0]
        let check = try #require(cluster.healthCheck)
        #expect(check.type == .application)
        #expect(check.method == "HEAD")
        #expect(check.path == "/health/deep")
        #expect(check.host == "api.internal")
        #expect(check.expectStatus == HTTPStatusSet(ranges: [200...200, 300...302]))
        #expect(check.expectBody == "pass")
        #expect(check.expectBodyRegex == "\"status\"")
        #expect(check.required == ["db", "cache"])
        #expect(check.warnWeightPercent == 25)
        #expect(check.port == 9100)
        #expect(check.interval == .seconds(3))
        #expect(check.fastInterval == .milliseconds(500))
        #expect(check.downInterval == .seconds(1))
        #expect(check.timeout == .milliseconds(800))
        #expect(check.jitterPercent == 20)
        #expect(check.thresholds == HealthThresholds(rise: 4, fall: 5, initial: .down))
        #expect(cluster.healthCheck(for: cluster.backends[0]) == check)
        let own = try #require(cluster.healthCheck(for: cluster.backends[1]))
        #expect(own.type == .tcp && own.send == "PING\r\n" && own.expect == "PONG" && own.rise == 1)
        #expect(own.fall == 5 && own.interval == .seconds(3) && own.port == 9100)
        let settings = cluster.makeSettings()
        #expect(
            settings.healthThresholds(for: cluster.backends[0].name)
                == HealthThresholds(rise: 4, fall: 5, initial: .down)
        )
        #expect(
            settings.healthThresholds(for: cluster.backends[1].name)
                == HealthThresholds(rise: 1, fall: 5, initial: .down)
        )
    }

    @Test("a backend may have checks when its cluster has none")
    func backendOnly() throws {
        let configuration = try #require(
            valid(
                """
                listeners: [ { port: 8080 } ]
                clusters:
                  api:
                    backends:
                      - 127.0.0.1:9001
                      - { address: 127.0.0.1:9002, health_check: { type: agent, port: 9777 } }
                """
            )
        )
        let cluster = configuration.clusters[0]
        #expect(cluster.healthCheck(for: cluster.backends[0]) == nil)
        #expect(cluster.healthCheck(for: cluster.backends[1]) == HealthCheckConfig(type: .agent, port: 9777))
    }

    @Test(
        "status sets",
        arguments: [
            ("200-399", [200...399]), ("204", [204...204]), ("200, 204,300-302", [200...200, 204...204, 300...302]),
        ] as [(String, [ClosedRange<Int>])]
    )
    func statusSets(text: String, ranges: [ClosedRange<Int>]) throws {
        let configuration = try #require(
            valid(minimalConfig + "    health_check: { expect_status: \"\(text)\" }\n")
        )
        #expect(configuration.clusters[0].healthCheck?.expectStatus == HTTPStatusSet(ranges: ranges))
    }

    @Test("the startup summary names the kind, the timing and the thresholds")
    func summary() {
        #expect(
            HealthCheckConfig.defaults.summary
                == "http GET /health every 2s (±10%), timeout 2s, rise 2, fall 3, initial first_check"
        )
        let deep = HealthCheckConfig(type: .application, required: ["db"], downInterval: .seconds(1))
        #expect(deep.summary.hasPrefix("application GET /health requires db every 2s (±10%), 1s while down,"))
    }
}
