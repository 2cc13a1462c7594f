/// libketama's continuum, byte-compatible with libketama and with Python's
/// uhashring in ketama mode.
///
/// Node i of weight wᵢ gets ⌊40·N·wᵢ / Σw⌋ MD5 digests of `"\(name)-\(k)"`,
/// and each digest gives four points: its four little-endian 32-bit words. A
/// key goes to the first point at or after the first little-endian word of
/// `md5(key)`, wrapping (libketama's rule; uhashring takes the first point
/// strictly after, which differs only when a key hashes exactly onto a point).
///
/// Compatibility is tested against uhashring 2.5 (cross-checked with the
/// libketama C code) in `Tests/Vectors/ketama.json`.
///
/// Because every node's point count depends on the total weight, changing
/// one node of a weighted set moves keys between the other nodes too; use
/// ``HashRing`` when that matters.
///
/// - Complexity: Lookup is one MD5 of the key and O(1) expected on the
///   points. Building is O(P log P) for P = 160·N points.
public struct KetamaRing: ConsistentHash {
    /// How the number of digests per node is rounded.
    public enum PointCountRule: Sendable {
        /// uhashring's exact integer ⌊40·N·w / Σw⌋.
        case exact
        /// libketama's `floorf((float)w / (float)W * 40.0 * N)`, which can come
        /// out one lower when w/W is not exact in single precision.
        case libketamaFloat
    }

    /// The nodes, sorted by name; lookups index into this.
    public let nodes: [HashNode]
    @usableFromInline let ring: PointIndex

    public init(nodes: [HashNode], pointCountRule: PointCountRule = .exact) throws(ConsistentHashError) {
        try ConsistentHashError.validate(nodes)
        self.nodes = nodes.sorted { $0.name < $1.name }
        let totalWeight = nodes.reduce(0) { $0 + $1.weight }
        var points: [UInt64] = []
        for (owner, node) in self.nodes.enumerated() {
            let digests: Int
            switch pointCountRule {
            case .exact:
                digests = 40 * nodes.count * node.weight / totalWeight
            case .libketamaFloat:
                digests = Int((Double(Float(node.weight) / Float(totalWeight)) * 40.0 * Double(nodes.count)).rounded(.down))
            }
            for k in 0..<digests {
                let words = PointKey.withBytes(name: node.name, separator: UInt8(ascii: "-"), number: k) {
                    MD5.hash($0).words
                }
                for word in [words.0, words.1, words.2, words.3] {
                    points.append(PointIndex.pack(position32: word, owner: owner))
                }
            }
        }
        ring = PointIndex(unsorted: points)
    }

    /// How many points the continuum holds.
    public var pointCount: Int { ring.count }

    public func node(at index: Int) -> HashNode { nodes[index] }

    @inlinable
    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        guard !ring.isEmpty else { return nil }
        return PointIndex.owner(ring.points[ring.firstIndex(atOrAfter: Self.keyPosition(key))])
    }

    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        guard !ring.isEmpty else { return }
        try ring.forEachOwner(from: ring.firstIndex(atOrAfter: Self.keyPosition(key)), body)
    }

    @inlinable
    static func keyPosition(_ key: UnsafeRawBufferPointer) -> UInt64 {
        UInt64(MD5.hash(key).words.0) << 32
    }
}
