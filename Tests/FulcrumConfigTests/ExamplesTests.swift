import Foundation
import FulcrumConfig
import Testing

@Suite("examples/")
struct ExamplesTests {
    /// The repository's `examples` directory, found from this file's path.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("examples")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }()

    @Test("the documented examples exist")
    func documentedExamples() {
        for name in ["round-robin.yaml", "weighted-split.yaml", "hash-bounded.yaml", "routing.yaml"] {
            #expect(Self.files.contains(name), "examples/\(name) is missing")
        }
    }

    @Test("every example validates", arguments: files)
    func validates(_ name: String) {
        do {
            let configuration = try ConfigLoader.load(path: Self.directory.appendingPathComponent(name).path)
            #expect(!configuration.listeners.isEmpty && !configuration.clusters.isEmpty)
            // Every cluster converts to the core's types.
            for cluster in configuration.clusters {
                #expect(throws: Never.self) { try cluster.makeBackends() }
            }
        } catch {
            Issue.record("examples/\(name) is invalid:\n\(error)")
        }
    }

    @Test("the examples show what their names promise")
    func contents() throws {
        func load(_ name: String) throws -> FulcrumConfiguration {
            try ConfigLoader.load(path: Self.directory.appendingPathComponent(name).path)
        }
        let split = try load("weighted-split.yaml")
        #expect(
            split.routes[0].target
                == .split([
                    WeightedCluster(cluster: "checkout-v1", weight: 90),
                    WeightedCluster(cluster: "checkout-v2", weight: 10),
                ])
        )
        #expect(split.routes[0].splitKey == .cookie("sid"))
        let hash = try load("hash-bounded.yaml")
        #expect(hash.clusters[0].algorithm == .hash(method: .ring, bound: 1.25))
        #expect(hash.clusters[0].hashKey == .header("X-User"))
        let routing = try load("routing.yaml")
        #expect(routing.routes.contains { $0.match.host != nil })
        #expect(routing.routes.contains { $0.match.path != nil })
        #expect(try load("round-robin.yaml").clusters[0].algorithm == .roundRobin)
    }
}
