import Foundation
import Testing

/// `fulcrum validate` against the real binary.
@Suite("fulcrum validate")
struct ValidateCLITests {
    /// The repository's `examples` directory.
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("examples")

    @Test(
        "every example is OK, with a one-line summary on stdout",
        arguments: ["round-robin.yaml", "weighted-split.yaml", "hash-bounded.yaml", "routing.yaml"]
    )
    func examplesAreValid(_ name: String) throws {
        let result = try Fulcrum.run(["validate", Self.examples.appendingPathComponent(name).path])
        #expect(result.succeeded, "\(result.summary)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdoutLines.count == 1)
        let line = try #require(result.stdoutLines.first)
        #expect(line.hasPrefix("OK: "))
        #expect(line.contains(" listener") && line.contains(" cluster") && line.contains(" backend"), "\(line)")
    }

    @Test("the summary counts listeners, routes, clusters and backends")
    func summary() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file(
            "fulcrum.yaml",
            """
            listeners:
              - port: 8080
            routes:
              - { match: { path: { prefix: /a } }, cluster: a }
              - { match: { path: { prefix: /b } }, cluster: b }
              - cluster: a
            clusters:
              a: { backends: [ 10.0.0.1:80, 10.0.0.2:80, 10.0.0.3:80 ] }
              b: { backends: [ 10.0.0.4:80, 10.0.0.5:80, 10.0.0.6:80 ] }

            """
        )
        let result = try Fulcrum.run(["validate", path])
        #expect(result.succeeded, "\(result.summary)")
        #expect(result.stdoutText == "OK: 1 listener, 3 routes, 2 clusters, 6 backends\n")
    }

    @Test("every problem is printed on stderr, one per line, with status 1")
    func invalid() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file(
            "fulcrum.yaml",
            """
            listeners:
              - port: 8080
              - port: 8080
            routes:
              - cluster: nowhere
            clusters:
              api:
                algoritm: round-robin
                backends:
                  - { address: 127.0.0.1:9001, weight: -3 }

            """
        )
        let result = try Fulcrum.run(["validate", path])
        #expect(result.exitedNormally && result.status == 1, "\(result.summary)")
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderrLines == [
                "\(path):3:11: listeners[1].port: found 0.0.0.0:8080, which clashes with listeners[0] (0.0.0.0:8080 at 2:5); "
                    + "expected each port on one listener per address; 0.0.0.0 and :: take the port on every address",
                "\(path):5:14: routes[0].cluster: found 'nowhere'; expected the name of a cluster defined under clusters: api",
                "\(path):8:5: clusters.api: found unknown key 'algoritm'; expected one of algorithm, hash_key, hash_method, "
                    + "hash_bound, backends, timeouts, retries, retry_budget_percent, panic_threshold_percent, slow_start, "
                    + "outlier_detection, health_check, proxy_protocol; did you mean 'algorithm'?",
                "\(path):10:44: clusters.api.backends[0].weight: found -3; expected a whole number from 0 to 256",
            ]
        )
    }

    @Test("a YAML syntax error gives its position")
    func syntaxError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("fulcrum.yaml", "listeners:\n  - port: 80\n   bad: [\n")
        let result = try Fulcrum.run(["validate", path])
        #expect(result.exitedNormally && result.status == 1, "\(result.summary)")
        #expect(result.stderrLines.count == 1)
        #expect(result.stderrText.hasPrefix("\(path):3:4: found a YAML syntax error: "), "\(result.stderrText)")
    }

    @Test("a missing file is one line with status 1")
    func missingFile() throws {
        let result = try Fulcrum.run(["validate", "/nonexistent/fulcrum.yaml"])
        #expect(result.exitedNormally && result.status == 1, "\(result.summary)")
        #expect(
            result.stderrLines == [
                "/nonexistent/fulcrum.yaml: found no such file; expected the path of a fulcrum.yaml configuration file"
            ]
        )
    }

    @Test("--print-defaults prints a document that itself validates")
    func printDefaults() throws {
        let result = try Fulcrum.run(["validate", "--print-defaults"])
        #expect(result.succeeded, "\(result.summary)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdoutText.contains("retry_budget_percent: 20"))
        #expect(result.stdoutText.contains("client_header: 10s"))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("defaults.yaml", result.stdout)
        let again = try Fulcrum.run(["validate", path])
        #expect(again.succeeded, "\(again.summary)")
        #expect(again.stdoutText == "OK: 1 listener, 1 route, 1 cluster, 1 backend\n")
    }

    @Test("no file and no flag is a usage error (status 2)")
    func usage() throws {
        let result = try Fulcrum.run(["validate"])
        #expect(result.exitedNormally && result.status == 2, "\(result.summary)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderrLines.count == 1)
    }
}
