/// Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
/// Network Load Balancer", NSDI 2016), with Envoy's permutation and weights.
///
/// Each node has a permutation of the M table slots:
/// `offset = xxh64(name) mod M`, `skip = xxh64(name, seed 1) mod (M−1) + 1`,
/// slot j = `(offset + j·skip) mod M`. Nodes, sorted by name, take turns
/// claiming their next free slot until the table is full; a node of weight w
/// takes a turn in proportion to w / max weight (Envoy's
/// `MaglevTable::constructMaglevTableInternal`). A key goes to
/// `table[xxh64(key) mod M]`.
///
/// M must be prime so that every skip generates a full permutation. The
/// default, 65537, is Envoy's.
///
/// - Complexity: Lookup is one hash and one table read: O(1). Building is
///   O(M log M) expected. Memory is 4 bytes per slot (256 KiB at the default).
///   A change of membership rebuilds the table; Maglev moves somewhat more
///   keys than a ring (up to about 2× the minimum) in exchange for near-perfect
///   balance and a single memory read per lookup.
public struct MaglevTable: ConsistentHash {
    /// Envoy's default table size.
    public static let defaultTableSize = 65537

    /// The nodes, sorted by name; lookups index into this.
    public let nodes: [HashNode]
    /// The number of slots, M.
    public let tableSize: Int
    @usableFromInline let table: [UInt32]

    /// - Throws: ``ConsistentHashError`` when `tableSize` is not prime, when
    ///   there are more nodes than slots, or for bad weights or duplicate names.
    public init(nodes: [HashNode], tableSize: Int = MaglevTable.defaultTableSize) throws(ConsistentHashError) {
        guard tableSize >= 2, Primes.isPrime(tableSize) else {
            throw ConsistentHashError(
                code: .tableSizeNotPrime,
                message: "maglev table size \(tableSize) is not prime; use a prime such as 65537 (the default), "
                    + "5003 or 655373, well above 100 × the node count"
            )
        }
        guard nodes.count <= tableSize else {
            throw ConsistentHashError(
                code: .invalidParameter,
                message: "maglev table size \(tableSize) is smaller than the \(nodes.count) nodes; use a prime "
                    + "well above 100 × the node count"
            )
        }
        try ConsistentHashError.validate(nodes)
        self.nodes = nodes.sorted { $0.name < $1.name }
        self.tableSize = tableSize
        table = Self.populate(self.nodes, tableSize: tableSize)
    }

    private static func populate(_ nodes: [HashNode], tableSize: Int) -> [UInt32] {
        guard !nodes.isEmpty else { return [] }
        let m = UInt64(tableSize)
        var offsets = [UInt64](repeating: 0, count: nodes.count)
        var skips = [UInt64](repeating: 0, count: nodes.count)
        for (i, node) in nodes.enumerated() {
            offsets[i] = XXHash64.hash(node.name, seed: 0) % m
            skips[i] = XXHash64.hash(node.name, seed: 1) % (m - 1) + 1
        }
        let maxWeight = nodes.map(\.weight).max()!
        // Each node's next candidate slot, (offset + next·skip) mod M, kept
        // incrementally: adding skip and subtracting M once is exact and
        // avoids a 64-bit division per probe.
        var cursor = offsets
        // Envoy's target weights, in integer units of (weight × max weight) so
        // that no rounding decides whose turn it is.
        var target = [Int](repeating: 0, count: nodes.count)
        let empty = UInt32.max
        var table = [UInt32](repeating: empty, count: tableSize)
        var filled = 0
        var iteration = 1
        while filled < tableSize {
            for i in 0..<nodes.count where filled < tableSize {
                if iteration * nodes[i].weight < target[i] { continue }
                target[i] += maxWeight
                var slot = cursor[i]
                while table[Int(slot)] != empty {
                    slot += skips[i]
                    if slot >= m { slot -= m }
                }
                table[Int(slot)] = UInt32(i)
                slot += skips[i]
                if slot >= m { slot -= m }
                cursor[i] = slot
                filled += 1
            }
            iteration += 1
        }
        return table
    }

    public func node(at index: Int) -> HashNode { nodes[index] }

    /// Slots per node, in ``nodes`` order: each node's share of the table.
    public var slotCounts: [Int] {
        var counts = [Int](repeating: 0, count: nodes.count)
        for owner in table { counts[Int(owner)] += 1 }
        return counts
    }

    @inlinable
    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        guard !table.isEmpty else { return nil }
        return Int(table[Int(XXHash64.hash(key) % UInt64(table.count))])
    }

    /// Walks the table from the key's slot. Table entries are a pseudo-random
    /// weighted mix of nodes, so successive distinct entries give a weighted
    /// failover order.
    ///
    /// - Complexity: O(1) per step; all M slots in the worst case.
    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        guard !table.isEmpty else { return }
        var slot = Int(XXHash64.hash(key) % UInt64(table.count))
        for _ in 0..<table.count {
            guard try body(Int(table[slot])) else { return }
            slot = slot + 1 == table.count ? 0 : slot + 1
        }
    }
}
