/// HAProxy's `hash-type consistent`, byte-compatible with its defaults:
/// `hash-key id` and the sdbm key hash with the avalanche modifier.
///
/// A server with id `i` and weight w gets 16·w points at
/// `fullHash(i·4096 + j)` for j in 0..<16·w. A key hashes to
/// `fullHash(sdbm(key))` and goes to the *nearest* point, before or after it
/// (a tie goes to the point before), not to the next point clockwise as in
/// ketama or nginx.
///
/// Placement depends on the server ids, not on the names, so every node needs
/// an ``HashNode/id``; on the command line write `NAME=WEIGHT#ID`.
///
/// Compatibility is tested against a real HAProxy 3.5 in
/// `Tests/Vectors/haproxy_chash.json`. The source is `src/lb_chash.c`.
///
/// - Complexity: Lookup is O(key length) for the hash and O(1) expected on the
///   points. Building is O(P log P) for P = 16·Σw points.
public struct HAProxyConsistentHash: ConsistentHash {
    /// HAProxy scales weights by 16 (`BE_WEIGHT_SCALE`).
    static let pointsPerWeight = 16
    /// Server keys are spaced by `SRV_EWGHT_RANGE` = 256 × 16.
    static let serverKeySpacing: UInt32 = 4096

    /// The nodes, sorted by id; lookups index into this.
    public let nodes: [HashNode]
    @usableFromInline let ring: PointIndex

    public init(nodes: [HashNode]) throws(ConsistentHashError) {
        try ConsistentHashError.validate(nodes)
        try ConsistentHashError.checkPointCount(
            nodes,
            pointsPerWeight: Self.pointsPerWeight,
            structure: "the haproxy tree",
            remedy: "lower the weights (haproxy itself allows at most 256)"
        )
        var ids = Set<Int>()
        for node in nodes {
            guard let id = node.id, id >= 1 else {
                throw ConsistentHashError(
                    code: .missingNodeID,
                    message: "node '\(node.name)' has no positive id; haproxy placement is by server id, "
                        + "written NAME=WEIGHT#ID (for example s1=1#1)"
                )
            }
            guard ids.insert(id).inserted else {
                throw ConsistentHashError(
                    code: .duplicateNode,
                    message: "id \(id) is given to more than one node; server ids must be unique"
                )
            }
        }
        self.nodes = nodes.sorted { $0.id! < $1.id! }
        var points: [UInt64] = []
        for (owner, node) in self.nodes.enumerated() {
            let serverKey = UInt32(truncatingIfNeeded: node.id!) &* Self.serverKeySpacing
            for j in 0..<(Self.pointsPerWeight * node.weight) {
                let position = Self.fullHash(serverKey &+ UInt32(truncatingIfNeeded: j))
                points.append(PointIndex.pack(position32: position, owner: owner))
            }
        }
        ring = PointIndex(unsorted: points)
    }

    /// How many points the tree holds.
    public var pointCount: Int { ring.count }

    public func node(at index: Int) -> HashNode { nodes[index] }

    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        guard !ring.isEmpty else { return nil }
        return PointIndex.owner(ring.points[nearestPoint(to: Self.keyHash(key))])
    }

    /// Starts at the nearest point, then walks clockwise, as HAProxy's
    /// `chash_get_server_hash` does when a server is unusable.
    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        guard !ring.isEmpty else { return }
        try ring.forEachOwner(from: nearestPoint(to: Self.keyHash(key)), body)
    }

    private func nearestPoint(to hash: UInt32) -> Int {
        let next = ring.firstIndex(atOrAfter: UInt64(hash) << 32)
        let previous = next == 0 ? ring.count - 1 : next - 1
        let nextPosition = UInt32(truncatingIfNeeded: ring.points[next] >> 32)
        let previousPosition = UInt32(truncatingIfNeeded: ring.points[previous] >> 32)
        return hash &- previousPosition <= nextPosition &- hash ? previous : next
    }

    /// sdbm over the key's bytes, then the avalanche modifier.
    static func keyHash(_ key: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt32 = 0
        for byte in key {
            h = UInt32(byte) &+ (h << 6) &+ (h << 16) &- h
        }
        return fullHash(h)
    }

    /// HAProxy's `full_hash`: Bob Jenkins' 6-shift integer hash, then a
    /// multiplication that spreads the result over the whole 32-bit range.
    static func fullHash(_ value: UInt32) -> UInt32 {
        var a = value
        a = (a &+ 0x7ed5_5d16) &+ (a << 12)
        a = (a ^ 0xc761_c23c) ^ (a >> 19)
        a = (a &+ 0x1656_67b1) &+ (a << 5)
        a = (a &+ 0xd3a2_646c) ^ (a << 9)
        a = (a &+ 0xfd70_46c5) &+ (a << 3)
        a = (a ^ 0xb55a_4f09) ^ (a >> 16)
        return a &* 3_221_225_473
    }
}
