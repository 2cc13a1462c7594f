/// `hash(key) mod N`: the baseline that shows why consistent hashing exists.
///
/// Balance is excellent, but changing N moves about N/(N+1) of all keys
/// instead of 1/(N+1). Weights are honoured by giving a node of weight w
/// w consecutive residues.
///
/// - Complexity: Lookup is one hash and one division; O(1).
public struct ModuloHash: ConsistentHash {
    /// The nodes in the order given; residue ranges follow this order.
    public let nodes: [HashNode]
    /// The hash applied to keys.
    public let hashFunction: HashFunction
    private let residueOwners: [Int]

    public init(nodes: [HashNode], hashFunction: HashFunction = .xxh64) throws(ConsistentHashError) {
        try ConsistentHashError.validate(nodes)
        try ConsistentHashError.checkPointCount(
            nodes,
            pointsPerWeight: 1,
            structure: "the residue table",
            remedy: "lower the weights"
        )
        self.nodes = nodes
        self.hashFunction = hashFunction
        residueOwners = nodes.indices.flatMap { Array(repeating: $0, count: nodes[$0].weight) }
    }

    public func node(at index: Int) -> HashNode { nodes[index] }

    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        guard !residueOwners.isEmpty else { return nil }
        return residueOwners[residue(forKey: key)]
    }

    /// 32-bit functions are shifted back down first: their values sit in the
    /// high half of ``HashFunction/hash64(_:)``, whose low zeros would
    /// otherwise decide the residue for a power-of-two N.
    private func residue(forKey key: UnsafeRawBufferPointer) -> Int {
        let hash = hashFunction.hash64(key) >> UInt64(64 - hashFunction.bitWidth)
        return Int(hash % UInt64(residueOwners.count))
    }

    /// Offers the key's residue, then the following residues in turn.
    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        guard !residueOwners.isEmpty else { return }
        var residue = residue(forKey: key)
        for _ in residueOwners.indices {
            guard try body(residueOwners[residue]) else { return }
            residue = residue + 1 == residueOwners.count ? 0 : residue + 1
        }
    }
}
