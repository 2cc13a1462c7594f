import FulcrumHashing
import Testing

@Suite("Consistent hashing with bounded loads")
struct BoundedLoadsTests {
    /// Assigns keys one at a time and checks the bound after every step.
    private func checkBound(_ base: some ConsistentHash, factor: Double, keys: Int) throws {
        let bounded = try BoundedLoads(base, factor: factor)
        let nodes = base.nodes
        let indices = nodes.map { base.index(ofNode: $0.name)! }
        let totalWeight = nodes.reduce(0) { $0 + $1.weight }
        var loads = [Int](repeating: 0, count: (indices.max() ?? 0) + 1)
        var total = 0
        var violations = 0
        for k in 0..<keys {
            let index = "key-\(k)".withUTF8Bytes { key in
                bounded.index(forKey: key, load: { loads[$0] }, totalLoad: total)!
            }
            loads[index] += 1
            total += 1
            // ⌈c · average⌉, weighted: c · total · w / Σw, rounded up.
            for (node, i) in zip(nodes, indices) {
                let limit = (factor * Double(total) * Double(node.weight) / Double(totalWeight)).rounded(.up)
                if Double(loads[i]) > limit + 1e-9 { violations += 1 }
            }
        }
        #expect(violations == 0, "\(type(of: base)) c=\(factor): \(violations) bound violations")
    }

    @Test("No node ever exceeds ⌈c·average⌉", arguments: [HashAlgorithm.ring, .ketama, .nginx, .maglev, .haproxy], [1.0, 1.25])
    func boundHolds(_ algorithm: HashAlgorithm, _ factor: Double) throws {
        try checkBound(try algorithm.make(nodes: Placement.nodes(8)), factor: factor, keys: 4_000)
    }

    @Test("The bound holds with weights")
    func weightedBound() throws {
        let nodes = [HashNode("a", weight: 1), HashNode("b", weight: 2), HashNode("c", weight: 5)]
        try checkBound(try HashRing(nodes: nodes), factor: 1.25, keys: 4_000)
    }

    @Test("A skewed key set is spread instead of piling onto one node")
    func hotKey() throws {
        let ring = try HashRing(nodes: Placement.nodes(4))
        let bounded = try BoundedLoads(ring, factor: 1.25)
        var loads = [Int](repeating: 0, count: 4)
        for k in 0..<1_000 {
            let index = "hot".withUTF8Bytes { key in
                bounded.index(forKey: key, load: { loads[$0] }, totalLoad: k)!
            }
            loads[index] += 1
        }
        #expect(loads.max()! <= Int((1.25 * 1_000 / 4).rounded(.up)))
        #expect(loads.allSatisfy { $0 > 0 })
    }

    @Test("With room everywhere, bounded loads picks what the base picks")
    func noChangeWhenUnloaded() throws {
        let ring = try HashRing(nodes: Placement.nodes(10))
        let bounded = try BoundedLoads(ring, factor: 1.25)
        for k in 0..<1_000 {
            let key = "key-\(k)"
            let plain = ring.index(for: key)
            let withBound = key.withUTF8Bytes { bounded.index(forKey: $0, load: { _ in 0 }, totalLoad: 0) }
            #expect(plain == withBound)
        }
    }

    @Test("Factors below 1 are rejected", arguments: [0.5, 0.99, -1, .nan, .infinity])
    func badFactor(_ factor: Double) throws {
        #expect(throws: ConsistentHashError.self) { try BoundedLoads(try HashRing(nodes: Placement.nodes(2)), factor: factor) }
    }
}
