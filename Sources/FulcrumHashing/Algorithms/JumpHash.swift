/// Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent
/// Hash Algorithm", 2014), exact to the paper's reference code.
///
/// Buckets are numbered, not named: bucket i is the i-th node *as given*, so
/// nodes may only be added or removed at the end of the list, and with that
/// restriction exactly the minimum 1/(n+1) of keys move. String keys are
/// reduced to 64 bits with xxh64 (seed 0). Weights are not supported: every
/// node must have weight 1.
///
/// Compatibility is tested against the `jump-consistent-hash` Python package
/// in `Tests/Vectors/jump.json`.
///
/// - Complexity: Lookup is O(log n) iterations of a multiply and a
///   division-free float step, with no memory beyond the node list.
public struct JumpHash: ConsistentHash {
    /// The nodes in the order given; bucket i is `nodes[i]`.
    public let nodes: [HashNode]

    public init(nodes: [HashNode]) throws(ConsistentHashError) {
        try ConsistentHashError.validate(nodes)
        if let weighted = nodes.first(where: { $0.weight != 1 }) {
            throw ConsistentHashError(
                code: .invalidWeight,
                message: "node '\(weighted.name)' has weight \(weighted.weight); jump hash gives every bucket an "
                    + "equal share, so weights must all be 1 (use ring, maglev or rendezvous for weights)"
            )
        }
        self.nodes = nodes
    }

    /// The bucket in 0..<buckets for a 64-bit key: the paper's Figure 1.
    @inlinable
    public static func bucket(for key: UInt64, buckets: Int) -> Int {
        precondition(buckets > 0, "jump hash needs at least one bucket")
        var key = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((key >> 33) + 1)))
        }
        return Int(b)
    }

    public func node(at index: Int) -> HashNode { nodes[index] }

    @inlinable
    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        guard !nodes.isEmpty else { return nil }
        return Self.bucket(for: XXHash64.hash(key), buckets: nodes.count)
    }

    /// The first candidate is the key's bucket. Each later one is the key's
    /// bucket among the nodes not yet offered (jump over n−1, n−2, …
    /// buckets, mapped through the remaining nodes in order), each with the key
    /// rehashed by its step so that the choices are independent.
    ///
    /// - Complexity: O(k·n) for k candidates, for the bookkeeping of which
    ///   nodes remain.
    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        guard !nodes.isEmpty else { return }
        let hash = XXHash64.hash(key)
        var remaining = Array(nodes.indices)
        var step: UInt64 = 0
        while !remaining.isEmpty {
            let bucket = Self.bucket(for: step == 0 ? hash : SplitMix64.mix(hash &+ step &* 0x9E37_79B9_7F4A_7C15), buckets: remaining.count)
            guard try body(remaining.remove(at: bucket)) else { return }
            step += 1
        }
    }
}
