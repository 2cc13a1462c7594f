/// Rendezvous, or highest-random-weight, hashing (Thaler & Ravishankar 1998).
///
/// Each node scores `hash("\(name)-\(key)")` and the highest score wins; a tie
/// goes to the lexicographically larger name. With `murmur3_32` this matches
/// pymemcache's `RendezvousHash`, tested in
/// `Tests/Vectors/rendezvous_pymemcache.json`.
///
/// With unequal weights the score is the logarithmic method of Schindelhauer
/// & Schomaker ("Weighted Distributed Hash Tables", 2005):
/// `−w / ln(h / 2^b)`, which gives node i exactly a wᵢ / Σw share and keeps
/// movement minimal when weights change. With equal weights the raw hash is
/// compared, which orders the same way without floating-point ties.
///
/// Removing a node moves only its own keys; adding one moves only the keys it
/// now wins.
///
/// - Complexity: Lookup is O(n): one hash per node. Use it for small sets
///   (tens of nodes) or when minimal movement matters more than lookup cost.
public struct RendezvousHash: ConsistentHash {
    /// The nodes, sorted by name; lookups index into this.
    public let nodes: [HashNode]
    /// The hash applied to `"\(name)-\(key)"`.
    public let hashFunction: HashFunction
    private let weighted: Bool
    private let prefixes: [[UInt8]]
    private let longestPrefix: Int

    public init(nodes: [HashNode], hashFunction: HashFunction = .xxh64) throws(ConsistentHashError) {
        try ConsistentHashError.validate(nodes)
        self.nodes = nodes.sorted { $0.name < $1.name }
        self.hashFunction = hashFunction
        weighted = Set(nodes.map(\.weight)).count > 1
        prefixes = self.nodes.map { Array($0.name.utf8) + [UInt8(ascii: "-")] }
        longestPrefix = prefixes.map(\.count).max() ?? 0
    }

    public func node(at index: Int) -> HashNode { nodes[index] }

    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        best(forKey: key, below: nil)
    }

    /// Offers nodes in descending score order.
    ///
    /// - Complexity: O(n) per candidate, without allocation.
    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        var previous: Int?
        for _ in 0..<nodes.count {
            guard let next = best(forKey: key, below: previous), try body(next) else { return }
            previous = next
        }
    }

    /// The highest-ranked node that ranks below `limit` (all nodes when nil).
    private func best(forKey key: UnsafeRawBufferPointer, below limit: Int?) -> Int? {
        guard !nodes.isEmpty else { return nil }
        return withUnsafeTemporaryAllocation(byteCount: longestPrefix + key.count, alignment: 1) { buffer in
            let limitScore = limit.map { score(node: $0, key: key, buffer: buffer) }
            var winner: Int?
            var winnerScore = Score(value: 0, name: "")
            for i in nodes.indices {
                let s = score(node: i, key: key, buffer: buffer)
                if let limitScore, !(s < limitScore) { continue }
                if winner == nil || winnerScore < s {
                    winner = i
                    winnerScore = s
                }
            }
            return winner
        }
    }

    private struct Score: Comparable {
        var value: Double
        var raw: UInt64 = 0
        var name: String
        var weighted = false

        static func < (a: Score, b: Score) -> Bool {
            if a.weighted {
                if a.value != b.value { return a.value < b.value }
            } else if a.raw != b.raw {
                return a.raw < b.raw
            }
            return a.name < b.name
        }
    }

    private func score(node i: Int, key: UnsafeRawBufferPointer, buffer: UnsafeMutableRawBufferPointer) -> Score {
        let prefix = prefixes[i]
        let length = prefix.count + key.count
        prefix.withUnsafeBytes { buffer.copyMemory(from: $0) }
        if !key.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: buffer[prefix.count..<length]).copyMemory(from: key)
        }
        let raw = hashFunction.hash64(UnsafeRawBufferPointer(rebasing: buffer[..<length]))
        guard weighted else {
            return Score(value: 0, raw: raw, name: nodes[i].name)
        }
        // A uniform draw in (0, 1): the top 53 bits, offset by half a step so
        // it is never 0 or 1, whatever the hash's width.
        let unit = (Double(raw >> 11) + 0.5) / 9_007_199_254_740_992.0
        return Score(value: -Double(nodes[i].weight) / PortableMath.log(unit), name: nodes[i].name, weighted: true)
    }
}
