import Foundation
import Testing

/// The fields of `ring simulate --json`.
struct SimulationJSON: Decodable {
    struct Node: Decodable {
        var name: String
        var weight: Int
        var keys: Int
        var share: Double
        var idealShare: Double
    }
    struct Summary: Decodable {
        var nodes: [Node]
        var peakToMean: Double
        var stddev: Double
    }
    var nodes: [Node]
    var peakToMean: Double
    var stddev: Double
    var movedFraction: Double?
    var minimumMovedFraction: Double?
    var before: Summary?

    func node(_ name: String) -> Node? { nodes.first { $0.name == name } }
}

@Suite("ring simulate")
struct RingSimulateCLITests {
    /// Runs `ring simulate … --json`, checks the raw object's fields and decodes it.
    static func simulate(
        _ arguments: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (SimulationJSON, [String: Any]) {
        let result = try Fulcrum.run(["ring", "simulate"] + arguments + ["--json"])
        try #require(result.succeeded, "\(result.summary)", sourceLocation: sourceLocation)
        #expect(result.stderr.isEmpty, sourceLocation: sourceLocation)
        let raw = try #require(
            try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
            "not a JSON object: \(result.stdoutText.prefix(300))",
            sourceLocation: sourceLocation
        )
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return (try decoder.decode(SimulationJSON.self, from: result.stdout), raw)
    }

    static func number(_ value: Any?) -> Double? {
        (value as? NSNumber)?.doubleValue
    }

    /// Checks one layout's internal consistency.
    static func checkSummary(
        nodes: [SimulationJSON.Node],
        peakToMean: Double,
        stddev: Double,
        keys: Int,
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(nodes.map(\.keys).reduce(0, +) == keys, "\(label): key counts do not sum to \(keys)", sourceLocation: sourceLocation)
        let totalWeight = nodes.map(\.weight).reduce(0, +)
        var ratios: [Double] = []
        for node in nodes {
            #expect(abs(node.share - Double(node.keys) / Double(keys)) < 1e-12, "\(label): \(node.name) share", sourceLocation: sourceLocation)
            #expect(
                abs(node.idealShare - Double(node.weight) / Double(totalWeight)) < 1e-12,
                "\(label): \(node.name) ideal_share",
                sourceLocation: sourceLocation
            )
            ratios.append(node.share / node.idealShare)
        }
        #expect(abs(peakToMean - (ratios.max() ?? 0)) < 1e-9, "\(label): peak_to_mean \(peakToMean)", sourceLocation: sourceLocation)
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        let deviation = (ratios.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(ratios.count)).squareRoot()
        #expect(abs(stddev - deviation) < 1e-9, "\(label): stddev \(stddev), expected \(deviation)", sourceLocation: sourceLocation)
    }

    @Test("--json has the documented fields; no change means null moved fractions and no before")
    func jsonFields() throws {
        let (report, raw) = try Self.simulate(["--algorithm", "ring", "--nodes", "10", "--keys", "100000"])
        for key in ["nodes", "peak_to_mean", "stddev", "moved_fraction", "minimum_moved_fraction"] {
            #expect(raw[key] != nil, "missing field \(key)")
        }
        #expect(raw["moved_fraction"] is NSNull)
        #expect(raw["minimum_moved_fraction"] is NSNull)
        #expect(raw["before"] == nil)
        let rawNodes = try #require(raw["nodes"] as? [[String: Any]])
        #expect(rawNodes.count == 10)
        for node in rawNodes {
            #expect(Set(node.keys).isSuperset(of: ["name", "weight", "keys", "share", "ideal_share"]), "\(node.keys)")
        }
        #expect(report.nodes.count == 10)
        #expect(Set(report.nodes.map(\.name)) == Set((1...10).map { "node-\($0)" }))
        #expect(report.nodes.allSatisfy { $0.weight == 1 && $0.idealShare == 0.1 })
        #expect(report.peakToMean >= 1 && report.peakToMean < 1.2)
        #expect(report.stddev >= 0)
        Self.checkSummary(nodes: report.nodes, peakToMean: report.peakToMean, stddev: report.stddev, keys: 100_000, "ring")
    }

    @Test("--nodes 10: 10 nodes whose keys sum to --keys, for every algorithm", arguments: allAlgorithms)
    func keysSum(algorithm: String) throws {
        // 100,000 keys for ring is in jsonFields; fewer here keeps the debug-build suite fast.
        let (report, _) = try Self.simulate(["--algorithm", algorithm, "--nodes", "10", "--keys", "20000"])
        #expect(report.nodes.count == 10)
        #expect(report.nodes.allSatisfy { $0.keys > 0 }, "a node got no keys")
        Self.checkSummary(nodes: report.nodes, peakToMean: report.peakToMean, stddev: report.stddev, keys: 20_000, algorithm)
    }

    @Test("ring --remove node-3 moves exactly the removed node's keys")
    func ringRemove() throws {
        let (report, raw) = try Self.simulate(["--algorithm", "ring", "--nodes", "10", "--keys", "50000", "--remove", "node-3"])
        let before = try #require(report.before, "no \"before\" with --remove")
        #expect(raw["before"] is [String: Any])
        #expect(before.nodes.count == 10)
        #expect(report.nodes.count == 9)
        #expect(report.node("node-3") == nil)
        let moved = try #require(report.movedFraction)
        let minimum = try #require(report.minimumMovedFraction)
        let removedShare = try #require(before.nodes.first { $0.name == "node-3" }).share
        #expect(minimum == removedShare)
        #expect(minimum > 0.05 && minimum < 0.15)
        #expect(abs(moved - minimum) < 1e-12, "moved \(moved), minimum \(minimum)")
        Self.checkSummary(nodes: report.nodes, peakToMean: report.peakToMean, stddev: report.stddev, keys: 50_000, "after")
        Self.checkSummary(nodes: before.nodes, peakToMean: before.peakToMean, stddev: before.stddev, keys: 50_000, "before")
        // Every surviving node kept its keys and gained some.
        for node in report.nodes {
            let old = try #require(before.nodes.first { $0.name == node.name })
            #expect(node.keys >= old.keys, "\(node.name) lost keys")
        }
    }

    @Test("ring --add node-11 moves within 2% (relative) of the minimum")
    func ringAdd() throws {
        let (report, _) = try Self.simulate(["--algorithm", "ring", "--nodes", "10", "--keys", "50000", "--add", "node-11"])
        let before = try #require(report.before)
        #expect(before.nodes.count == 10)
        #expect(report.nodes.count == 11)
        let moved = try #require(report.movedFraction)
        let minimum = try #require(report.minimumMovedFraction)
        #expect(minimum == report.node("node-11")?.share)
        #expect(minimum > 0.05 && minimum < 0.15)
        #expect(abs(moved - minimum) / minimum <= 0.02, "moved \(moved), minimum \(minimum)")
        for node in report.nodes where node.name != "node-11" {
            let old = try #require(before.nodes.first { $0.name == node.name })
            #expect(node.keys <= old.keys, "\(node.name) gained keys from another old node")
        }
    }

    @Test("modulo --add moves far more than the minimum (> 5×)")
    func moduloAdd() throws {
        let (report, _) = try Self.simulate(["--algorithm", "modulo", "--nodes", "10", "--keys", "50000", "--add", "node-11"])
        let moved = try #require(report.movedFraction)
        let minimum = try #require(report.minimumMovedFraction)
        #expect(minimum > 0.05)
        #expect(moved > 5 * minimum, "moved \(moved), minimum \(minimum)")
    }

    @Test("the table contains peak-to-mean, every node and, with a change, the moved line")
    func table() throws {
        let plain = try Fulcrum.run(["ring", "simulate", "--algorithm", "ring", "--nodes", "10", "--keys", "20000"])
        #expect(plain.succeeded, "\(plain.summary)")
        #expect(plain.stdoutText.contains("peak-to-mean"))
        for i in 1...10 { #expect(plain.stdoutText.contains("node-\(i) ")) }
        #expect(!plain.stdoutText.hasPrefix("{"))
        let changed = try Fulcrum.run(["ring", "simulate", "--algorithm", "ring", "--nodes", "10", "--keys", "20000", "--add", "node-11"])
        #expect(changed.succeeded, "\(changed.summary)")
        #expect(changed.stdoutText.contains("peak-to-mean"))
        #expect(changed.stdoutText.contains("before:"))
        #expect(changed.stdoutText.contains("adding node-11 moved"))
    }

    @Test("node names with quotes, backslashes and control characters give valid JSON")
    func jsonEscaping() throws {
        let names = ["we\"ird", "back\\slash", "tab\there", "ctl\u{1}x", "ünï"]
        let (report, _) = try Self.simulate(["--algorithm", "rendezvous", "--keys", "1000"] + Fulcrum.nodeArguments(names))
        #expect(Set(report.nodes.map(\.name)) == Set(names))
    }

    /// `simulate` places `key-0` … `key-(K−1)`; `lookup` must put each of those
    /// keys in the same place, before and after the change.
    @Test("simulate's key counts equal lookup's for the same keys, before and after --add/--remove", arguments: allAlgorithms)
    func agreesWithLookup(algorithm: String) throws {
        let keyCount = 5_000
        let keys = Fulcrum.keys(keyCount)
        let base = nodeSpecs(for: algorithm, count: 6)
        let added = algorithm == "haproxy" ? "s7=2#7" : algorithm == "jump" ? "node-7" : "10.0.0.7:11211=2"
        let addedName = String(added.prefix { $0 != "=" })
        let removedSpec = base[2]
        let removedName = String(removedSpec.prefix { $0 != "=" })

        func lookupCounts(_ nodes: [String]) throws -> ([String], [String: Int]) {
            let result = try Fulcrum.run(Fulcrum.lookupArguments(algorithm, nodes), lines: keys)
            try #require(result.succeeded, "\(result.summary)")
            return (result.stdoutLines, tally(result.stdoutLines))
        }
        func counts(_ nodes: [SimulationJSON.Node]) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: nodes.filter { $0.keys > 0 }.map { ($0.name, $0.keys) })
        }
        let common = ["--algorithm", algorithm, "--keys", String(keyCount)] + Fulcrum.nodeArguments(base)
        let (baseLines, baseCounts) = try lookupCounts(base)

        let (addReport, _) = try Self.simulate(common + ["--add", added])
        let (addLines, addCounts) = try lookupCounts(base + [added])
        #expect(counts(addReport.nodes) == addCounts, "\(algorithm): after --add")
        #expect(counts(addReport.before?.nodes ?? []) == baseCounts, "\(algorithm): before --add")
        let movedByAdd = Double(zip(baseLines, addLines).filter { $0 != $1 }.count) / Double(keyCount)
        #expect(addReport.movedFraction == movedByAdd, "\(algorithm): moved_fraction for --add")
        #expect(addReport.minimumMovedFraction == Double(addCounts[addedName, default: 0]) / Double(keyCount))

        let (removeReport, _) = try Self.simulate(common + ["--remove", removedName])
        let (removeLines, removeCounts) = try lookupCounts(base.filter { $0 != removedSpec })
        #expect(counts(removeReport.nodes) == removeCounts, "\(algorithm): after --remove")
        let movedByRemove = Double(zip(baseLines, removeLines).filter { $0 != $1 }.count) / Double(keyCount)
        #expect(removeReport.movedFraction == movedByRemove, "\(algorithm): moved_fraction for --remove")
        #expect(removeReport.minimumMovedFraction == Double(baseCounts[removedName, default: 0]) / Double(keyCount))
    }

    @Test("simulate is deterministic across processes", arguments: ["ring", "maglev", "haproxy"])
    func deterministic(algorithm: String) throws {
        let arguments = ["ring", "simulate", "--algorithm", algorithm, "--nodes", "8", "--keys", "20000", "--add", "node-9", "--json"]
        let first = try Fulcrum.run(arguments)
        let second = try Fulcrum.run(arguments)
        #expect(first.succeeded, "\(first.summary)")
        #expect(!first.stdout.isEmpty)
        #expect(first.stdout == second.stdout)
    }
}
