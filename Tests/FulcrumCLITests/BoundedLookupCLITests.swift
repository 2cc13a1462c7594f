import Foundation
import Testing

/// `ring lookup --bound C`: each key adds one unit of load that stays, and no
/// node may go above ⌈C × total × w / Σw⌉.
@Suite("ring lookup --bound")
struct BoundedLookupCLITests {
    static let keys = Fulcrum.keys(10_000)
    static let keyInput = Fulcrum.input(keys)

    struct Setup: Sendable, CustomTestStringConvertible {
        var algorithm: String
        var nodes: [String]
        var extra: [String] = []
        var testDescription: String { ([algorithm] + extra + nodes).joined(separator: " ") }

        var names: [String] { nodes.map { String($0.prefix { $0 != "=" }) } }
        var weights: [String: Int] {
            Dictionary(uniqueKeysWithValues: nodes.map { spec in
                let name = String(spec.prefix { $0 != "=" })
                guard let equals = spec.firstIndex(of: "=") else { return (name, 1) }
                let weight = spec[spec.index(after: equals)...].prefix { $0 != "#" }
                return (name, Int(weight)!)
            })
        }
    }

    static let five = ["a", "b", "c", "d", "e"]
    static let setups: [Setup] = [
        // One point per node: unbounded, node d gets over half the keys.
        Setup(algorithm: "ring", nodes: five, extra: ["--vnodes", "1"]),
        Setup(algorithm: "ring", nodes: five),
        Setup(algorithm: "ketama", nodes: five),
        Setup(algorithm: "nginx", nodes: five),
        Setup(algorithm: "maglev", nodes: five),
        Setup(algorithm: "haproxy", nodes: ["a=1#1", "b=1#2", "c=1#3", "d=1#4", "e=1#5"]),
    ]

    @Test("--bound 1.25 with 5 nodes: no node above ⌈1.25 × 10000 / 5⌉ = 2500", arguments: setups)
    func boundHolds(setup: Setup) throws {
        let result = try Fulcrum.run(
            Fulcrum.lookupArguments(setup.algorithm, setup.nodes, setup.extra + ["--bound", "1.25"]),
            stdin: Self.keyInput
        )
        #expect(result.succeeded, "\(result.summary)")
        let lines = result.stdoutLines
        #expect(lines.count == 10_000)
        let counts = tally(lines)
        #expect(Set(counts.keys).isSubset(of: Set(setup.names)), "\(counts)")
        for (node, count) in counts {
            #expect(count <= 2_500, "\(node) has \(count) keys")
        }
        // And at every moment, not only at the end: after m keys, ⌈1.25 × m / 5⌉.
        var loads: [String: Int] = [:]
        var firstViolation: String?
        for (index, node) in lines.enumerated() {
            loads[node, default: 0] += 1
            let m = index + 1
            let capacity = max(1, (125 * m + 499) / 500)
            if loads[node]! > capacity && firstViolation == nil {
                firstViolation = "after \(m) keys \(node) holds \(loads[node]!) > \(capacity)"
            }
        }
        #expect(firstViolation == nil, "\(firstViolation ?? "")")
    }

    @Test("the bound actually redistributes: ring --vnodes 1 exceeds 2500 without it")
    func boundChangesSkewedRing() throws {
        let setup = Self.setups[0]
        let free = try Fulcrum.run(Fulcrum.lookupArguments(setup.algorithm, setup.nodes, setup.extra), stdin: Self.keyInput)
        let bounded = try Fulcrum.run(
            Fulcrum.lookupArguments(setup.algorithm, setup.nodes, setup.extra + ["--bound", "1.25"]),
            stdin: Self.keyInput
        )
        #expect(free.succeeded && bounded.succeeded)
        let freeCounts = tally(free.stdoutLines)
        #expect((freeCounts.values.max() ?? 0) > 2_500, "the setup is not skewed enough to test the bound: \(freeCounts)")
        // Keys whose node had room stay where they were: the bounded result agrees with the free one for most keys.
        let same = zip(free.stdoutLines, bounded.stdoutLines).filter { $0 == $1 }.count
        #expect(same >= 6_000, "only \(same) keys kept their unbounded node")
        #expect(same < 10_000)
    }

    @Test("--bound 1.0 balances perfectly: 2000 keys each", arguments: [setups[0], setups[2], setups[4], setups[5]])
    func perfectBalance(setup: Setup) throws {
        let result = try Fulcrum.run(
            Fulcrum.lookupArguments(setup.algorithm, setup.nodes, setup.extra + ["--bound", "1.0"]),
            stdin: Self.keyInput
        )
        #expect(result.succeeded, "\(result.summary)")
        #expect(tally(result.stdoutLines) == Dictionary(uniqueKeysWithValues: setup.names.map { ($0, 2_000) }))
    }

    @Test("weighted: node i stays within ⌈1.25 × 10000 × wᵢ / Σw⌉")
    func weightedBound() throws {
        let setup = Setup(algorithm: "ring", nodes: ["a=3", "b", "c", "d=2", "e"], extra: ["--vnodes", "1"])
        let result = try Fulcrum.run(
            Fulcrum.lookupArguments(setup.algorithm, setup.nodes, setup.extra + ["--bound", "1.25"]),
            stdin: Self.keyInput
        )
        #expect(result.succeeded, "\(result.summary)")
        let counts = tally(result.stdoutLines)
        let total = setup.weights.values.reduce(0, +)
        for (node, weight) in setup.weights {
            let capacity = (125 * 10_000 * weight + 100 * total - 1) / (100 * total)
            #expect(counts[node, default: 0] <= capacity, "\(node) (weight \(weight)) has \(counts[node, default: 0]) > \(capacity)")
        }
        #expect(counts.values.reduce(0, +) == 10_000)
    }

    @Test("bounded lookups are deterministic across processes")
    func boundedDeterministic() throws {
        let arguments = Fulcrum.lookupArguments("maglev", Self.five, ["--bound", "1.1"])
        let first = try Fulcrum.run(arguments, stdin: Self.keyInput)
        let second = try Fulcrum.run(arguments, stdin: Self.keyInput)
        #expect(first.succeeded)
        #expect(first.stdoutLines.count == 10_000)
        #expect(first.stdout == second.stdout)
    }
}
