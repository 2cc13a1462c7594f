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
    private let weights: [Double]
    private let longestPrefix: Int

    public init(nodes: [HashNode], hashFunction: HashFunction = .xxh64) throws(ConsistentHashError) {
        try ConsistentHashError.validate(nodes)
        self.nodes = nodes.sorted { $0.name < $1.name }
        self.hashFunction = hashFunction
        weighted = Set(nodes.map(\.weight)).count > 1
        weights = self.nodes.map { Double($0.weight) }
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
    ///
    /// Scores are compared as raw hashes (equal weights) or as log scores,
    /// with the name deciding only exact ties, so the loop creates no values
    /// that need reference counting.
    private func best(forKey key: UnsafeRawBufferPointer, below limit: Int?) -> Int? {
        guard !nodes.isEmpty else { return nil }
        return withUnsafeTemporaryAllocation(byteCount: longestPrefix + key.count, alignment: 1) { buffer in
            let limitScore = limit.map { score(node: $0, key: key, buffer: buffer) }
            var winner = -1
            var winnerScore = 0.0
            var winnerRaw: UInt64 = 0
            for i in nodes.indices {
                let (raw, value) = score(node: i, key: key, buffer: buffer)
                if let limit, let limitScore, !ranks(raw, value, i, below: limitScore.raw, limitScore.value, limit) {
                    continue
                }
                if winner < 0 || ranks(winnerRaw, winnerScore, winner, below: raw, value, i) {
                    winner = i
                    winnerScore = value
                    winnerRaw = raw
                }
            }
            return winner < 0 ? nil : winner
        }
    }

    /// Whether node `a` ranks below node `b`: by score, then by name.
    @inline(__always)
    private func ranks(_ rawA: UInt64, _ valueA: Double, _ a: Int, below rawB: UInt64, _ valueB: Double, _ b: Int) -> Bool {
        if weighted {
            if valueA != valueB { return valueA < valueB }
        } else if rawA != rawB {
            return rawA < rawB
        }
        return nodes[a].name < nodes[b].name
    }

    private func score(
        node i: Int,
        key: UnsafeRawBufferPointer,
        buffer: UnsafeMutableRawBufferPointer
    ) -> (raw: UInt64, value: Double) {
        let length = prefixes[i].withUnsafeBytes { prefix in
            buffer.baseAddress!.copyMemory(from: prefix.baseAddress!, byteCount: prefix.count)
            if !key.isEmpty {
                (buffer.baseAddress! + prefix.count).copyMemory(from: key.baseAddress!, byteCount: key.count)
            }
            return prefix.count + key.count
        }
        let raw = hashFunction.hash64(UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length))
        guard weighted else { return (raw, 0) }
        // A uniform draw in (0, 1): the top 53 bits, offset by half a step so
        // it is never 0 or 1, whatever the hash's width.
        let unit = (Double(raw >> 11) + 0.5) / 9_007_199_254_740_992.0
        return (raw, -weights[i] / PortableMath.log(unit))
    }
}
