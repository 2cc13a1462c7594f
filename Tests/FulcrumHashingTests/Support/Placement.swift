import FulcrumHashing

/// Test helpers that place keys `key-0` … on structures and compare results.
enum Placement {
    /// The node name for each key `key-0` … `key-(count−1)`.
    static func names(_ structure: some ConsistentHash, keys count: Int) -> [String] {
        let assignment = KeyPlacement.assign(structure, keys: count)
        return assignment.map { structure.node(at: Int($0)).name }
    }

    /// Keys whose node differs between two placements.
    static func moved(_ a: [String], _ b: [String]) -> Int {
        zip(a, b).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
    }

    /// Keys per node name.
    static func counts(_ names: [String]) -> [String: Int] {
        names.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// The distribution of `count` keys.
    static func distribution(_ structure: some ConsistentHash, keys count: Int) -> KeyDistribution {
        let counts = counts(names(structure, keys: count))
        let nodes = structure.nodes
        return KeyDistribution(nodes: nodes, keyCounts: nodes.map { counts[$0.name] ?? 0 })
    }

    static func nodes(_ count: Int, prefix: String = "node-") -> [HashNode] {
        (1...count).map { HashNode("\(prefix)\($0)", id: $0) }
    }
}
