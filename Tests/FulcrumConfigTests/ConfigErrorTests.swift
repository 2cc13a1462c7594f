import Foundation
import FulcrumConfig
import Testing

@Suite("Configuration errors")
struct ConfigErrorTests {
    @Test("the documented one-line format, with file, line, column and key path")
    func format() {
        let lines = errorLines(
            """
            listeners:
              - port: 8080
            clusters:
              api:
                backends:
                  - address: 127.0.0.1:9001
                  - address: 127.0.0.1:9002
                  - address: 127.0.0.1:9003
                    weight: -3
            """
        )
        #expect(
            lines == [
                "fulcrum.yaml:9:17: clusters.api.backends[2].weight: found -3; expected a whole number from 0 to 256"
            ]
        )
    }

    @Test("every error is reported at once, in file order")
    func everyError() {
        let found = diagnostics(
            """
            listeners:
              - port: 70000
                protocol: htp
            routes:
              - cluster: apii
            clusters:
              api:
                algoritm: round-robin
                retries: many
                backends:
                  - address: 127.0.0.1
            timeouts:
              drain: 30
            """
        )
        #expect(
            found.map(\.description) == [
                "fulcrum.yaml:2:11: listeners[0].port: found 70000; expected a whole number from 1 to 65535",
                "fulcrum.yaml:3:15: listeners[0].protocol: found 'htp'; expected one of http, tcp, udp; did you mean 'http'?",
                "fulcrum.yaml:5:14: routes[0].cluster: found 'apii'; expected the name of a cluster defined under clusters: api; did you mean 'api'?",
                "fulcrum.yaml:8:5: clusters.api: found unknown key 'algoritm'; expected one of algorithm, hash_key, hash_method, hash_bound, backends, timeouts, retries, retry_budget_percent, panic_threshold_percent, slow_start, outlier_detection, health_check, proxy_protocol; did you mean 'algorithm'?",
                "fulcrum.yaml:9:14: clusters.api.retries: found 'many'; expected a whole number from 0 to 100",
                "fulcrum.yaml:11:18: clusters.api.backends[0].address: found '127.0.0.1'; expected host:port, such as 10.0.0.1:8080 or api.internal:80, with IPv6 in brackets such as [::1]:8080; add the port, such as :8080",
                "fulcrum.yaml:13:10: timeouts.drain: found 30; expected a duration such as 500ms, 2s, 1m or 1h30m, or 0s; add a unit, such as 30s",
            ]
        )
        #expect(
            found.map(\.kind) == [
                .invalidValue, .invalidValue, .unknownReference, .unknownKey, .invalidValue, .invalidValue,
                .invalidValue,
            ]
        )
        #expect(found.allSatisfy { $0.file == "fulcrum.yaml" })
    }

    @Test("the error carries structured fields")
    func structuredFields() throws {
        let diagnostic = try #require(diagnostics(minimalConfig + "    retry_budget_percent: 120\n").first)
        #expect(diagnostic.kind == .invalidValue)
        #expect(diagnostic.line == 7)
        #expect(diagnostic.column == 27)
        #expect(diagnostic.keyPath == "clusters.api.retry_budget_percent")
        #expect(diagnostic.found == "120")
        #expect(diagnostic.expected == "a percentage from 0 to 100")
        #expect(diagnostic.hint == nil)
        do {
            _ = try ConfigLoader.parse(yaml: minimalConfig + "    retries: -1\n", file: "x.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(
                error.description
                    == "x.yaml:7:14: clusters.api.retries: found -1; expected a whole number from 0 to 100"
            )
        }
    }

    @Test("references to unknown clusters: route, split, listener default")
    func unknownClusters() {
        #expect(
            errorLines(
                """
                listeners:
                  - port: 80
                    default_cluster: wbe
                routes:
                  - match: { path: { prefix: /a } }
                    cluster: api
                  - split:
                      - { cluster: web, weight: 1 }
                      - { cluster: nowhere, weight: 1 }
                clusters:
                  web: { backends: [ 10.0.0.1:80 ] }
                """
            ) == [
                "fulcrum.yaml:3:22: listeners[0].default_cluster: found 'wbe'; expected the name of a cluster defined under clusters: web; did you mean 'web'?",
                "fulcrum.yaml:6:14: routes[0].cluster: found 'api'; expected the name of a cluster defined under clusters: web",
                "fulcrum.yaml:9:20: routes[1].split[1].cluster: found 'nowhere'; expected the name of a cluster defined under clusters: web",
            ]
        )
    }

    @Test("duplicate names: listeners, routes, backends in a cluster")
    func duplicateNames() {
        let found = diagnostics(
            """
            listeners:
              - { name: web, port: 80 }
              - { name: web, port: 81 }
            routes:
              - { name: r, match: { host: a.example }, cluster: c }
              - { name: r, match: { host: b.example }, cluster: c }
            clusters:
              c:
                backends:
                  - { address: 10.0.0.1:80, name: one }
                  - { address: 10.0.0.2:80, name: one }
                  - 10.0.0.3:80
                  - 10.0.0.3:80
            """
        )
        #expect(
            found.map(\.description) == [
                "fulcrum.yaml:3:13: listeners[1].name: found the listener name 'web' again; expected a name no other listener has (listeners[0].name at 2:13 has it)",
                "fulcrum.yaml:6:13: routes[1].name: found the route name 'r' again; expected a name no other route has (routes[0].name at 5:13 has it)",
                "fulcrum.yaml:11:39: clusters.c.backends[1].name: found the backend name 'one' again; expected a name no other backend in the cluster has (clusters.c.backends[0].name at 10:39 has it); a backend without a name is named by its address",
                "fulcrum.yaml:13:9: clusters.c.backends[3]: found the backend name '10.0.0.3:80' again; expected a name no other backend in the cluster has (clusters.c.backends[2] at 12:9 has it); a backend without a name is named by its address",
            ]
        )
        #expect(found.allSatisfy { $0.kind == .duplicate })
    }

    @Test("weights that sum to 0, in a cluster and in a split")
    func zeroWeights() {
        #expect(
            errorLines(
                """
                listeners: [ { port: 80 } ]
                routes:
                  - split:
                      - { cluster: c, weight: 0 }
                clusters:
                  c:
                    backends:
                      - { address: 10.0.0.1:80, weight: 0 }
                      - { address: 10.0.0.2:80, weight: 0, backup: true }
                """
            ) == [
                "fulcrum.yaml:4:7: routes[0].split: found weights that sum to 0; expected at least one weight above 0",
                "fulcrum.yaml:8:7: clusters.c.backends: found weights that sum to 0; expected at least one backend with weight above 0 (weight 0 takes only sticky traffic)",
            ]
        )
    }

    @Test("listeners on the same address and port; 0.0.0.0 clashes with every address")
    func listenerClash() {
        let found = diagnostics(
            """
            listeners:
              - { address: 127.0.0.1, port: 8080 }
              - { port: 8080 }
              - { address: 127.0.0.1, port: 9090 }
              - { address: 127.0.0.1, port: 9090, name: again }
              - { address: 127.0.0.2, port: 9090 }
              - { port: 8080, protocol: udp }
            clusters: { c: { backends: [ 10.0.0.1:80 ] } }
            """
        )
        #expect(
            found.map(\.description) == [
                "fulcrum.yaml:3:13: listeners[1].port: found 0.0.0.0:8080, which clashes with listeners[0] (127.0.0.1:8080 at 2:5); expected each port on one listener per address; 0.0.0.0 and :: take the port on every address",
                "fulcrum.yaml:5:33: listeners[3].port: found 127.0.0.1:9090, which clashes with listeners[2] (127.0.0.1:9090 at 4:5); expected each port on one listener per address; 0.0.0.0 and :: take the port on every address",
            ]
        )
        #expect(found.allSatisfy { $0.kind == .conflict })
    }

    @Test("an unknown algorithm lists the accepted names")
    func unknownAlgorithm() {
        #expect(
            errorLines(minimalConfig + "    algorithm: least-conections\n") == [
                "fulcrum.yaml:7:16: clusters.api.algorithm: found 'least-conections'; expected one of round-robin, weighted-round-robin, least-connections, least-response-time, random, power-of-two, ip-hash, hash, first; did you mean 'least-connections'?"
            ]
        )
    }

    @Test("hash needs hash_key; hash settings need hash")
    func hashKeys() {
        #expect(
            errorLines(
                """
                listeners: [ { port: 80 } ]
                clusters:
                  a:
                    algorithm: hash
                    backends: [ 10.0.0.1:80 ]
                  b:
                    hash_key: ip
                    hash_bound: 1.25
                    backends: [ 10.0.0.1:80 ]
                """
            ) == [
                "fulcrum.yaml:4:5: clusters.a.hash_key: found nothing; expected header:NAME, cookie:NAME, query:NAME, ip, ip_port or path, with algorithm hash (required)",
                "fulcrum.yaml:7:15: clusters.b.hash_key: found hash_key with algorithm round-robin; expected hash_key, hash_method and hash_bound only with algorithm hash",
                "fulcrum.yaml:8:17: clusters.b.hash_bound: found hash_bound with algorithm round-robin; expected hash_key, hash_method and hash_bound only with algorithm hash",
            ]
        )
    }

    @Test(
        "hash_key syntax",
        arguments: [
            ("header:", "a header name after 'header:', such as header:X-User"),
            ("cookie:a b", "a cookie name of letters, digits and !#$%&'*+-.^_`|~ after 'cookie:'"),
            ("query:", "a parameter name after 'query:', such as query:user"),
            ("body:x", "a key source: header:NAME, cookie:NAME, query:NAME, ip or path"),
            ("X-User", "a key source: header:NAME, cookie:NAME, query:NAME, ip or path"),
        ]
    )
    func hashKeySyntax(key: String, expected: String) {
        let found = diagnostics(minimalConfig + "    algorithm: hash\n    hash_key: \"\(key)\"\n")
        #expect(
            found.map(\.description) == [
                "fulcrum.yaml:8:15: clusters.api.hash_key: found '\(key)'; expected \(expected)"
            ]
        )
    }

    @Test("jump with unequal weights")
    func jumpWeights() {
        #expect(
            errorLines(
                """
                listeners: [ { port: 80 } ]
                clusters:
                  c:
                    algorithm: hash
                    hash_key: path
                    hash_method: jump
                    backends:
                      - { address: 10.0.0.1:80, weight: 2 }
                      - { address: 10.0.0.2:80, weight: 1 }
                      - { address: 10.0.0.3:80, weight: 0 }
                """
            ) == [
                "fulcrum.yaml:6:18: clusters.c.hash_method: found jump with unequal weights (1, 2); expected equal weights for jump, which gives every backend the same share; use ring, maglev or rendezvous for weights"
            ]
        )
        // Equal weights, with weight 0 for sticky-only backends, are fine.
        _ = valid(
            """
            listeners: [ { port: 80 } ]
            clusters:
              c:
                algorithm: hash
                hash_key: path
                hash_method: jump
                backends:
                  - { address: 10.0.0.1:80, weight: 2 }
                  - { address: 10.0.0.2:80, weight: 2 }
                  - { address: 10.0.0.3:80, weight: 0 }
            """
        )
    }

    @Test("invalid regular expressions, in a path and in a header match")
    func regexes() {
        let found = diagnostics(
            """
            listeners: [ { port: 80 } ]
            routes:
              - match:
                  path: { regex: "^/(v[0-9]+" }
                  headers: [ { name: X-A, regex: "[z-a]" } ]
                cluster: c
            clusters: { c: { backends: [ 10.0.0.1:80 ] } }
            """
        )
        #expect(found.count == 2)
        #expect(found.map(\.line) == [4, 5])
        #expect(found.map(\.column) == [22, 38])
        #expect(found.map(\.keyPath) == ["routes[0].match.path.regex", "routes[0].match.headers[0].regex"])
        #expect(found.map(\.found) == ["'^/(v[0-9]+'", "'[z-a]'"])
        #expect(found.allSatisfy { $0.expected == "a valid regular expression" && $0.hint != nil })
    }

    @Test(
        "durations, ports and percentages",
        arguments: [
            (
                "timeouts: { connect: 0s }", 7, 26, "clusters.api.timeouts.connect", "'0s'",
                "a duration such as 500ms, 2s, 1m or 1h30m, longer than 0s"
            ),
            (
                "timeouts: { idle: 5 minutes }", 7, 23, "clusters.api.timeouts.idle", "'5 minutes'",
                "a duration such as 500ms, 2s, 1m or 1h30m, longer than 0s"
            ),
            (
                "timeouts: { first_byte: -2s }", 7, 29, "clusters.api.timeouts.first_byte", "'-2s'",
                "a duration such as 500ms, 2s, 1m or 1h30m, longer than 0s"
            ),
            (
                "panic_threshold_percent: 101", 7, 30, "clusters.api.panic_threshold_percent", "101",
                "a percentage from 0 to 100"
            ),
            (
                "retry_budget_percent: -1", 7, 27, "clusters.api.retry_budget_percent", "-1",
                "a percentage from 0 to 100"
            ),
            (
                "slow_start: { min_weight_percent: 150 }", 7, 39, "clusters.api.slow_start.min_weight_percent", "150",
                "a percentage from 0 to 100"
            ),
            (
                "slow_start: { aggression: 0 }", 7, 31, "clusters.api.slow_start.aggression", "0",
                "a number above 0 and at most 1000 (1 is linear)"
            ),
            (
                "outlier_detection: { max_ejection_percent: 50.5 }", 7, 48,
                "clusters.api.outlier_detection.max_ejection_percent", "50.5", "a whole-number percentage from 0 to 100"
            ),
            (
                "outlier_detection: { base_ejection_time: never }", 7, 46,
                "clusters.api.outlier_detection.base_ejection_time", "'never'",
                "a duration such as 500ms, 2s, 1m or 1h30m, longer than 0s"
            ),
            (
                "health_check: { rise: 0 }", 7, 27, "clusters.api.health_check.rise", "0",
                "a whole number from 1 to 1000"
            ),
            ("health_check: { type: grpc }", 7, 27, "clusters.api.health_check.type", "'grpc'", "one of http, tcp, application, agent, ping"),
            (
                "health_check: { type: http, send: PING }", 7, 39, "clusters.api.health_check.send",
                "send with type http", "send only with type tcp or agent"
            ),
            (
                "health_check: { type: application, expect_status: \"200-99\" }", 7, 55,
                "clusters.api.health_check.expect_status", "'200-99'", HTTPStatusSet.syntax
            ),
            (
                "health_check: { expect_status: [200, 700] }", 7, 42, "clusters.api.health_check.expect_status[1]",
                "700", HTTPStatusSet.syntax
            ),
            (
                "health_check: { type: agent }", 7, 19, "clusters.api.health_check.port", "nothing",
                "the agent's port, 1 to 65535, with type agent (required)"
            ),
            (
                "health_check: { jitter_percent: 80 }", 7, 37, "clusters.api.health_check.jitter_percent", "80",
                "a percentage from 0 to 50"
            ),
            (
                "health_check: { initial: pending }", 7, 30, "clusters.api.health_check.initial", "'pending'",
                "one of up, down, first_check"
            ),
            (
                "health_check: { type: http, required: [db] }", 7, 43, "clusters.api.health_check.required",
                "required with type http", "required only with type application"
            ),
            (
                "health_check: { down_interval: 0s }", 7, 36, "clusters.api.health_check.down_interval", "'0s'",
                "a duration such as 500ms, 2s, 1m or 1h30m, longer than 0s"
            ),
            (
                "backends: [ { address: 10.0.0.1:80, health_check: { rise: 0 } } ]", 5, 63,
                "clusters.api.backends[0].health_check.rise", "0", "a whole number from 1 to 1000"
            ),
            (
                "hash_bound: 0.5", 7, 17, "clusters.api.hash_bound", "hash_bound with algorithm round-robin",
                "hash_key, hash_method and hash_bound only with algorithm hash"
            ),
            (
                "backends: [ { address: \"10.0.0.1:0\" } ]", 5, 28, "clusters.api.backends[0].address", "'10.0.0.1:0'",
                "host:port, such as 10.0.0.1:8080 or api.internal:80, with IPv6 in brackets such as [::1]:8080"
            ),
            (
                "backends: [ { address: \"::1:80\" } ]", 5, 28, "clusters.api.backends[0].address", "'::1:80'",
                "host:port, such as 10.0.0.1:8080 or api.internal:80, with IPv6 in brackets such as [::1]:8080"
            ),
            (
                "backends: [ { address: 10.0.0.1:80, max_in_flight: 0 } ]", 5, 56,
                "clusters.api.backends[0].max_in_flight", "0", "a whole number, 1 or more"
            ),
            (
                "backends: [ { address: 10.0.0.1:80, backup: yes } ]", 5, 49, "clusters.api.backends[0].backup",
                "'yes'", "true or false"
            ),
            ("retries: \"2\"", 7, 14, "clusters.api.retries", "'2' (a quoted string)", "a whole number from 0 to 100"),
        ] as [(String, Int, Int, String, String, String)]
    )
    func ranges(line: String, row: Int, column: Int, keyPath: String, found: String, expected: String) throws {
        // A line that sets `backends` replaces the cluster's own, so it lands on line 5.
        let base =
            line.hasPrefix("backends:")
            ? minimalConfig.replacingOccurrences(of: "    backends:\n      - 127.0.0.1:9001\n", with: "")
            : minimalConfig
        let yaml = base + "    " + line + "\n"
        let found0 = diagnostics(yaml)
        let diagnostic = try #require(found0.first)
        #expect(found0.count == 1, "\(found0)")
        #expect(diagnostic.line == row, "\(diagnostic)")
        #expect(diagnostic.column == column, "\(diagnostic)")
        #expect(diagnostic.keyPath == keyPath)
        #expect(diagnostic.found == found)
        #expect(diagnostic.expected == expected)
    }

    @Test("routes need exactly one of cluster and split; split_key needs split")
    func routeTargets() {
        #expect(
            errorLines(
                """
                listeners: [ { port: 80 } ]
                routes:
                  - match: { host: a.example }
                  - match: { host: b.example }
                    cluster: c
                    split: [ { cluster: c, weight: 1 } ]
                  - cluster: c
                    split_key: ip
                clusters: { c: { backends: [ 10.0.0.1:80 ] } }
                """
            ) == [
                "fulcrum.yaml:3:5: routes[0].cluster: found nothing; expected cluster: NAME, or split: a list of { cluster, weight } (one is required)",
                "fulcrum.yaml:5:14: routes[1]: found both cluster and split; expected either cluster (one cluster) or split (weighted clusters)",
                "fulcrum.yaml:8:16: routes[2].split_key: found split_key without split; expected split_key only on a route with split",
            ]
        )
    }

    @Test("match conditions")
    func matchConditions() {
        #expect(
            errorLines(
                """
                listeners: [ { port: 80 } ]
                routes:
                  - match:
                      host: "api.*.com"
                      path: { prefix: api }
                      headers: [ { name: "X Bad", exact: a }, { name: X-Ok }, { name: X-Two, exact: a, present: true } ]
                      jwt: { exact: acme }
                    cluster: c
                  - match: { path: { prefix: /a, exact: /a } }
                    cluster: c
                clusters: { c: { backends: [ 10.0.0.1:80 ] } }
                """
            ) == [
                "fulcrum.yaml:4:13: routes[0].match.host: found 'api.*.com'; expected a host name such as api.example.com, or a wildcard such as *.example.com",
                "fulcrum.yaml:5:23: routes[0].match.path.prefix: found 'api'; expected a path starting with /",
                "fulcrum.yaml:6:26: routes[0].match.headers[0].name: found 'X Bad'; expected a header name of letters, digits and !#$%&'*+-.^_`|~",
                "fulcrum.yaml:6:47: routes[0].match.headers[1]: found no condition; expected one of exact, prefix, regex or present",
                "fulcrum.yaml:6:63: routes[0].match.headers[2]: found exact and present; expected exactly one of exact, prefix, regex or present",
                "fulcrum.yaml:7:12: routes[0].match.jwt.claim: found nothing; expected a claim name, such as tenant (required)",
                "fulcrum.yaml:9:20: routes[1].match.path: found prefix and exact; expected exactly one of prefix, exact or regex",
            ]
        )
    }

    @Test("an RS256 key file that is missing or holds no PEM public key is an error at its position")
    func rs256KeyFile() throws {
        let notAKey = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-not-a-key-\(UUID().uuidString).pem")
        try "hello\n".write(to: notAKey, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: notAKey) }
        let lines = errorLines(
            """
            listeners: [ { port: 80 } ]
            routes:
              - match: { jwt: { claim: a, present: true, verification: { rs256_public_key_file: \(notAKey.path) } } }
                cluster: c
              - match: { jwt: { claim: a, present: true, verification: { rs256_public_key_file: /nonexistent/key.pem } } }
                cluster: c
            clusters: { c: { backends: [ 10.0.0.1:80 ] } }
            """
        )
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("routes[0].match.jwt.verification.rs256_public_key_file") == true)
        #expect(lines.first?.contains("holds no PEM public key") == true, "\(lines)")
        #expect(lines.last?.contains("routes[1].match.jwt.verification.rs256_public_key_file") == true)
        #expect(lines.last?.contains("no such file") == true, "\(lines)")
    }

    @Test("a route after a catch-all route can never match")
    func unreachableRoute() {
        #expect(
            errorLines(
                """
                listeners: [ { port: 80 } ]
                routes:
                  - cluster: c
                  - match: { host: a.example }
                    cluster: c
                clusters: { c: { backends: [ 10.0.0.1:80 ] } }
                """
            ) == [
                "fulcrum.yaml:4:5: routes[1]: found a route that can never match: routes[0] at 3:5 has no match conditions and takes every request; expected routes with no conditions last"
            ]
        )
    }

    @Test("missing and empty sections")
    func missingSections() {
        #expect(
            errorLines("routes: []\n") == [
                "fulcrum.yaml:1:1: clusters: found nothing; expected a mapping from cluster names to clusters (required)",
                "fulcrum.yaml:1:1: listeners: found nothing; expected a list of listeners, each with at least a port (required)",
            ]
        )
        #expect(
            errorLines("listeners: []\nclusters: {}\n") == [
                "fulcrum.yaml:1:12: listeners: found a list; expected at least one listener",
                "fulcrum.yaml:2:11: clusters: found a mapping; expected at least one cluster",
            ]
        )
        #expect(
            errorLines("") == ["fulcrum.yaml:1:1: found an empty file; expected a mapping with listeners and clusters"]
        )
        #expect(
            errorLines("listeners:\n  - address: 127.0.0.1\nclusters: { c: { backends: [] } }\n") == [
                "fulcrum.yaml:2:5: listeners[0].port: found nothing; expected a port, a whole number from 1 to 65535 (required)",
                "fulcrum.yaml:3:28: clusters.c.backends: found a list; expected at least one backend",
            ]
        )
    }

    @Test("wrong types")
    func wrongTypes() {
        let found = diagnostics(
            """
            listeners:
              port: 80
            clusters:
              - c
            """
        )
        #expect(
            found.map(\.description) == [
                "fulcrum.yaml:2:3: listeners: found a mapping; expected a list of listeners, each with at least a port",
                "fulcrum.yaml:4:3: clusters: found a list; expected a mapping from cluster names to clusters",
            ]
        )
        #expect(found.allSatisfy { $0.kind == .wrongType })
    }

    @Test("YAML syntax errors carry their position")
    func syntaxError() throws {
        do {
            _ = try ConfigLoader.parse(yaml: "listeners:\n  - port: 80\n   bad: [\nclusters: {}\n", file: "broken.yaml")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.code == .syntax)
            let diagnostic = try #require(error.diagnostics.first)
            #expect(error.diagnostics.count == 1)
            #expect(diagnostic.kind == .syntax)
            #expect(diagnostic.file == "broken.yaml")
            #expect((diagnostic.line, diagnostic.column) == (3, 4))
            #expect(diagnostic.description.hasPrefix("broken.yaml:3:4: found a YAML syntax error: "), "\(diagnostic)")
            #expect(diagnostic.expected == "well-formed YAML")
        }
    }

    @Test("duplicate keys are reported at the first one")
    func duplicateKeys() throws {
        do {
            _ = try ConfigLoader.parse(yaml: "listeners:\n  - port: 80\n    port: 81\nclusters: {}\n", file: "f.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .syntax)
            #expect(
                error.description
                    == "f.yaml:2:5: found the key 'port' more than once in one mapping; expected each key once per mapping"
            )
        }
    }

    @Test("unknown keys suggest the closest known key")
    func suggestions() {
        #expect(
            errorLines(
                """
                listeners:
                  - port: 80
                    defualt_cluster: c
                    colour: blue
                clusters: { c: { backends: [ 10.0.0.1:80 ] } }
                """
            ) == [
                "fulcrum.yaml:3:5: listeners[0]: found unknown key 'defualt_cluster'; expected one of name, address, port, protocol, default_cluster, proxy_protocol, trusted, idle_timeout, max_connections, max_sessions, access_log; did you mean 'default_cluster'?",
                "fulcrum.yaml:4:5: listeners[0]: found unknown key 'colour'; expected one of name, address, port, protocol, default_cluster, proxy_protocol, trusted, idle_timeout, max_connections, max_sessions, access_log",
            ]
        )
    }

    @Test("cluster names that are not plain words are quoted in key paths")
    func quotedKeyPath() {
        #expect(
            errorLines(
                "listeners: [ { port: 80 } ]\nclusters:\n  \"api.v1\": { backends: [ 10.0.0.1:80 ], retries: x }\n"
            )
                == ["fulcrum.yaml:3:51: clusters[\"api.v1\"].retries: found 'x'; expected a whole number from 0 to 100"]
        )
    }

    @Test("an unreadable file")
    func unreadableFile() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/fulcrum.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unreadableFile)
            #expect(
                error.description
                    == "/nonexistent/fulcrum.yaml: found no such file; expected the path of a fulcrum.yaml configuration file"
            )
        }
    }
}

@Suite("Listener access logs")
struct AccessLogConfigTests {
    @Test("access_log takes combined or json on http listeners, and is refused elsewhere")
    func accessLog() throws {
        let configuration = try ConfigLoader.parse(
            yaml: """
                listeners:
                  - { port: 8080, access_log: json }
                clusters:
                  api:
                    backends: [{ address: 127.0.0.1:9001 }]
                """,
            file: "fulcrum.yaml"
        )
        #expect(configuration.listeners[0].accessLog == .json)
        #expect(
            errorLines(
                """
                listeners:
                  - { port: 8080, access_log: common }
                  - { port: 7000, protocol: tcp, default_cluster: api, access_log: json }
                clusters:
                  api:
                    backends: [{ address: 127.0.0.1:9001 }]
                """
            ) == [
                "fulcrum.yaml:2:31: listeners[0].access_log: found 'common'; expected one of combined, json",
                "fulcrum.yaml:3:68: listeners[1].access_log: found access_log on a tcp listener; expected access_log only on http listeners (tcp and udp log one line per connection or flow)",
            ]
        )
    }
}

@Suite("Per-try timeout")
struct PerTryConfigTests {
    @Test("timeouts.per_try is read as a duration and is off by default")
    func perTry() throws {
        let yaml = """
            listeners:
              - { port: 8080 }
            clusters:
              api:
                timeouts: { per_try: 250ms }
                backends: [{ address: 127.0.0.1:9001 }]
              web:
                backends: [{ address: 127.0.0.1:9002 }]
            """
        let configuration = try ConfigLoader.parse(yaml: yaml, file: "fulcrum.yaml")
        #expect(configuration.clusters.first { $0.name == "api" }?.timeouts.perTry == .milliseconds(250))
        #expect(configuration.clusters.first { $0.name == "web" }?.timeouts.perTry == nil)
    }
}
