/// How a set of keys spreads over the nodes of a consistent-hashing structure,
/// and how many keys a membership change moves.
///
/// This is what `fulcrum ring simulate` prints, and what the balance and
/// movement tests measure.
public struct KeyDistribution: Sendable {
    /// One node's load.
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var weight: Int
        /// Keys assigned to the node.
        public var keys: Int
        /// `keys / total keys`.
        public var share: Double
        /// `weight / total weight`: what a perfect algorithm would give.
        public var idealShare: Double
        /// `share / idealShare`: 1.0 is perfect.
        public var loadRatio: Double { idealShare > 0 ? share / idealShare : 0 }
    }

    /// The nodes, sorted by name.
    public var entries: [Entry]
    /// How many keys were placed.
    public var keyCount: Int

    /// The heaviest node's load against its ideal: max of `share / idealShare`.
    public var peakToMean: Double { entries.map(\.loadRatio).max() ?? 0 }

    /// The standard deviation of `share / idealShare` over the nodes: 0.05
    /// means a typical node is 5% off its ideal load.
    public var standardDeviation: Double {
        guard !entries.isEmpty else { return 0 }
        let ratios = entries.map(\.loadRatio)
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        let variance = ratios.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ratios.count)
        return variance.squareRoot()
    }

    /// Builds the distribution from per-node key counts, indexed like `nodes`.
    public init(nodes: [HashNode], keyCounts: [Int]) {
        precondition(nodes.count == keyCounts.count)
        let totalWeight = nodes.reduce(0) { $0 + $1.weight }
        let keyCount = keyCounts.reduce(0, +)
        self.keyCount = keyCount
        entries = zip(nodes, keyCounts).map { node, keys in
            Entry(
                name: node.name,
                weight: node.weight,
                keys: keys,
                share: keyCount > 0 ? Double(keys) / Double(keyCount) : 0,
                idealShare: totalWeight > 0 ? Double(node.weight) / Double(totalWeight) : 0
            )
        }
        .sorted { $0.name < $1.name }
    }
}

/// Places keys `key-0`, `key-1`, … on a structure, as `fulcrum ring simulate`
/// and the quality tests do.
public enum KeyPlacement {
    /// The node index for each of `count` keys `key-0` … `key-(count−1)`, or
    /// −1 where the structure is empty. Map indices through
    /// ``ConsistentHash/node(at:)`` to compare two structures key by key.
    public static func assign(_ structure: some ConsistentHash, keys count: Int) -> [Int32] {
        assign(count: count) { structure.index(forKey: $0) }
    }

    /// Assigns keys one at a time with bounded loads, each key adding one unit
    /// of load that stays (as with long-lived connections).
    public static func assign<Base>(_ bounded: BoundedLoads<Base>, keys count: Int) -> [Int32] {
        var loads: [Int] = []
        var total = 0
        return assign(count: count) { key in
            let index = bounded.index(
                forKey: key,
                load: { $0 < loads.count ? loads[$0] : 0 },
                totalLoad: total
            )
            if let index {
                if index >= loads.count { loads += Array(repeating: 0, count: index - loads.count + 1) }
                loads[index] += 1
                total += 1
            }
            return index
        }
    }

    private static func assign(count: Int, _ place: (UnsafeRawBufferPointer) -> Int?) -> [Int32] {
        var result = [Int32](repeating: -1, count: count)
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { buffer in
            let prefix = Array("key-".utf8)
            for (i, byte) in prefix.enumerated() { buffer[i] = byte }
            for k in 0..<count {
                let digits = PointKey.writeDecimal(
                    k,
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[prefix.count...])
                )
                let key = UnsafeRawBufferPointer(rebasing: buffer[..<(prefix.count + digits)])
                result[k] = Int32(place(key) ?? -1)
            }
        }
        return result
    }

    /// Key counts per index, for indices below `bound`.
    public static func counts(_ assignment: [Int32], bound: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: bound)
        for index in assignment where index >= 0 { counts[Int(index)] += 1 }
        return counts
    }
}
