import Foundation
import Testing

@Suite("ring lookup: determinism across processes and node order")
struct LookupDeterminismCLITests {
    static let keyInput = Fulcrum.input(Fulcrum.keys(20_000))
    static let orderKeyInput = Fulcrum.input(Fulcrum.keys(10_000))

    @Test("two separate processes give byte-identical output", arguments: allAlgorithms)
    func twoRunsIdentical(algorithm: String) throws {
        let arguments = Fulcrum.lookupArguments(algorithm, nodeSpecs(for: algorithm, count: 7))
        let first = try Fulcrum.run(arguments, stdin: Self.keyInput)
        let second = try Fulcrum.run(arguments, stdin: Self.keyInput)
        #expect(first.succeeded, "\(first.summary)")
        #expect(second.succeeded, "\(second.summary)")
        #expect(first.stdoutLines.count == 20_000)
        #expect(first.stdout == second.stdout)
        // The output names the nodes given, and uses all of them.
        let names = Set(nodeSpecs(for: algorithm, count: 7).map { String($0.prefix { $0 != "=" }) })
        #expect(Set(first.stdoutLines) == names)
    }

    /// Reorderings of 0..<7.
    static let permutations: [[Int]] = [
        [6, 5, 4, 3, 2, 1, 0],
        [3, 6, 0, 4, 1, 5, 2],
    ]

    @Test(
        "the order of --node flags does not change any assignment",
        arguments: ["ring", "ketama", "nginx", "maglev", "rendezvous", "haproxy"]
    )
    func nodeOrderIrrelevant(algorithm: String) throws {
        // Unweighted for the permutation that reverses, weighted for the other.
        for (weighted, permutation) in [(false, Self.permutations[0]), (true, Self.permutations[1])] {
            let nodes = nodeSpecs(for: algorithm, count: 7, weighted: weighted)
            let reference = try Fulcrum.run(Fulcrum.lookupArguments(algorithm, nodes), stdin: Self.orderKeyInput)
            #expect(reference.succeeded, "\(reference.summary)")
            #expect(reference.stdoutLines.count == 10_000)
            let shuffled = permutation.map { nodes[$0] }
            let result = try Fulcrum.run(Fulcrum.lookupArguments(algorithm, shuffled), stdin: Self.orderKeyInput)
            #expect(result.succeeded, "\(result.summary)")
            #expect(Set(result.stdoutLines).count == 7, "\(algorithm): not every node was used")
            expectSameLines(
                result.stdoutLines,
                reference.stdoutLines,
                "\(algorithm) weighted=\(weighted), nodes in order \(permutation)"
            )
        }
    }
}
