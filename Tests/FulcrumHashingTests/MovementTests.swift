import FulcrumHashing
import Testing

/// How many keys move when membership changes: the point of consistent hashing.
@Suite("Key movement on membership change")
struct MovementTests {
    static let keys = 100_000

    enum Algorithm: String, CaseIterable, CustomTestStringConvertible {
        case ring, jump, rendezvous, maglev
        var testDescription: String { rawValue }

        func make(_ nodes: [HashNode]) throws -> any ConsistentHash {
            try HashAlgorithm(rawValue: rawValue)!.make(nodes: nodes)
        }

        /// How far above 1/(N+1) the moved fraction may go.
        var allowedExcess: Double { self == .maglev ? 2.0 : 1.25 }
    }

    @Test(
        "Adding a node moves about 1/(N+1) of keys",
        arguments: Algorithm.allCases, [10, 100]
    )
    func addingMovesAFairShare(_ algorithm: Algorithm, _ n: Int) throws {
        let before = Placement.names(try algorithm.make(Placement.nodes(n)), keys: Self.keys)
        let after = Placement.names(try algorithm.make(Placement.nodes(n + 1)), keys: Self.keys)
        let moved = Double(Placement.moved(before, after)) / Double(Self.keys)
        let ideal = 1.0 / Double(n + 1)
        #expect(moved >= ideal * 0.75, "\(algorithm) n=\(n): moved \(moved), ideal \(ideal)")
        #expect(moved <= ideal * algorithm.allowedExcess, "\(algorithm) n=\(n): moved \(moved), ideal \(ideal)")
        if algorithm != .maglev {
            // Every moved key went to the new node.
            let wrong = zip(before, after).filter { $0 != $1 && $1 != "node-\(n + 1)" }.count
            #expect(wrong == 0, "\(algorithm): \(wrong) keys moved between old nodes")
        }
    }

    @Test("Removing a node moves only its own keys", arguments: [Algorithm.ring, .rendezvous], [10, 100])
    func removingMovesOnlyItsKeys(_ algorithm: Algorithm, _ n: Int) throws {
        let nodes = Placement.nodes(n)
        let removed = "node-\(n / 2)"
        let before = Placement.names(try algorithm.make(nodes), keys: Self.keys)
        let after = Placement.names(try algorithm.make(nodes.filter { $0.name != removed }), keys: Self.keys)
        let onRemoved = before.filter { $0 == removed }.count
        #expect(onRemoved > 0)
        #expect(Placement.moved(before, after) == onRemoved)
    }

    @Test("Modulo, the baseline, moves most keys")
    func moduloMovesMost() throws {
        let before = Placement.names(try ModuloHash(nodes: Placement.nodes(10)), keys: Self.keys)
        let after = Placement.names(try ModuloHash(nodes: Placement.nodes(11)), keys: Self.keys)
        let moved = Double(Placement.moved(before, after)) / Double(Self.keys)
        #expect(moved > 0.8, "modulo moved \(moved)")
    }

    static let weighted: [HashNode] = zip(1...10, [1, 2, 3, 1, 2, 5, 1, 1, 4, 2]).map { HashNode("s\($0)", weight: $1) }

    @Test("In a weighted ring, removing a node moves only that node's keys", arguments: 0..<10)
    func weightedRingRemoval(_ removedIndex: Int) throws {
        let removed = Self.weighted[removedIndex].name
        let before = Placement.names(try HashRing(nodes: Self.weighted), keys: Self.keys)
        var ring = try HashRing(nodes: Self.weighted)
        try ring.remove(named: removed)
        let after = Placement.names(ring, keys: Self.keys)
        #expect(Placement.moved(before, after) == before.filter { $0 == removed }.count)
    }

    @Test("In a weighted ring, adding a node moves only the keys it takes")
    func weightedRingAddition() throws {
        let before = Placement.names(try HashRing(nodes: Self.weighted), keys: Self.keys)
        let after = Placement.names(try HashRing(nodes: Self.weighted + [HashNode("s11", weight: 3)]), keys: Self.keys)
        let onNew = after.filter { $0 == "s11" }.count
        #expect(onNew > 0)
        #expect(Placement.moved(before, after) == onNew)
    }

    @Test("ketama, by contrast, moves keys between surviving weighted nodes")
    func ketamaCollateralMovement() throws {
        let removed = "s6"
        let before = Placement.names(try KetamaRing(nodes: Self.weighted), keys: 10_000)
        let after = Placement.names(try KetamaRing(nodes: Self.weighted.filter { $0.name != removed }), keys: 10_000)
        let minimum = before.filter { $0 == removed }.count
        let moved = Placement.moved(before, after)
        #expect(moved > minimum + minimum / 10, "ketama moved \(moved), minimum \(minimum)")
    }

    @Test("Reweighting a ring node moves keys only to or from that node")
    func reweighting() throws {
        var ring = try HashRing(nodes: Self.weighted)
        let before = Placement.names(ring, keys: Self.keys)
        try ring.setWeight(5, forNode: "s3")
        let heavier = Placement.names(ring, keys: Self.keys)
        #expect(zip(before, heavier).allSatisfy { $0 == $1 || $1 == "s3" })
        #expect(heavier.filter { $0 == "s3" }.count > before.filter { $0 == "s3" }.count)
        try ring.setWeight(1, forNode: "s3")
        let lighter = Placement.names(ring, keys: Self.keys)
        #expect(zip(heavier, lighter).allSatisfy { $0 == $1 || $0 == "s3" })
        // And the result equals a ring built directly with those weights.
        var direct = Self.weighted
        direct[2].weight = 1
        #expect(lighter == Placement.names(try HashRing(nodes: direct), keys: Self.keys))
    }
}
