/// Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam,
/// "Consistent Hashing with Bounded Loads", SODA 2018), with the semantics of
/// HAProxy's `hash-balance-factor`.
///
/// With a factor c ≥ 1 and a current total load L, node i may take one more
/// unit only while its load stays within its capacity
/// `⌈c · (L + 1) · wᵢ / Σw⌉`: for equal weights, ⌈c × the average load after
/// this assignment⌉. A key whose preferred node is full walks on to its next
/// candidate in the base algorithm's failover order, so keys still land on
/// the same few nodes and move as little as the bound allows.
///
/// Loads are the caller's (connections or requests in flight, say); this type
/// keeps no state and never allocates, so one instance serves many threads.
///
/// - Complexity: O(1) when the preferred node has room. The walk ends at the
///   first node with room; because capacities sum to at least L + 1, one
///   always exists, and the expected walk is O(1/(c−1)²) candidates for
///   random keys (the paper's bound).
public struct BoundedLoads<Base: ConsistentHash>: Sendable {
    /// The algorithm whose preferences are bounded.
    public let base: Base
    /// The factor c, in hundredths, as HAProxy takes it (125 for 1.25).
    /// Integer arithmetic keeps capacities exact on every machine.
    public let factorPercent: Int
    /// The sum of the base's static weights.
    public let staticTotalWeight: Int

    /// - Throws: ``ConsistentHashError`` when `factor` is below 1 or not finite.
    public init(_ base: Base, factor: Double) throws(ConsistentHashError) {
        guard factor.isFinite, factor >= 1, factor <= 100 else {
            throw ConsistentHashError(
                code: .invalidParameter,
                message: "bound factor \(factor) is out of range; use a value from 1.0 to 100 such as 1.25 "
                    + "(1.0 balances perfectly and moves the most keys)"
            )
        }
        self.base = base
        factorPercent = Int((factor * 100).rounded())
        staticTotalWeight = base.nodes.reduce(0) { $0 + $1.weight }
    }

    /// The most load node `index` may carry once one more unit is assigned
    /// while the total is `totalLoad`.
    ///
    /// - Parameter weight: the node's effective weight (for example ramped by
    ///   slow start); `totalWeight` is the sum over all nodes.
    @inlinable
    public func capacity(weight: Int, totalWeight: Int, totalLoad: Int) -> Int {
        let numerator = factorPercent * (totalLoad + 1) * weight
        let denominator = 100 * totalWeight
        return max(1, (numerator + denominator - 1) / denominator)
    }

    /// The first node, in `key`'s preference order, with room for one more
    /// unit, each node weighted by its static weight.
    ///
    /// - Parameters:
    ///   - load: the current load of a node, by index.
    ///   - totalLoad: the sum of all nodes' loads.
    public func index(forKey key: UnsafeRawBufferPointer, load: (Int) -> Int, totalLoad: Int) -> Int? {
        index(forKey: key, load: load, totalLoad: totalLoad, weight: { base.node(at: $0).weight }, totalWeight: staticTotalWeight)
    }

    /// The first node, in `key`'s preference order, with room for one more
    /// unit, with effective weights supplied by the caller.
    ///
    /// - Parameters:
    ///   - load: the current load of a node, by index.
    ///   - totalLoad: the sum of all nodes' loads.
    ///   - weight: a node's effective weight (ramped by slow start, say); a
    ///     node of weight 0 is passed over.
    ///   - totalWeight: the sum of effective weights.
    public func index(
        forKey key: UnsafeRawBufferPointer,
        load: (Int) -> Int,
        totalLoad: Int,
        weight: (Int) -> Int,
        totalWeight: Int
    ) -> Int? {
        guard totalWeight > 0 else { return base.index(forKey: key) }
        var chosen: Int?
        base.forEachCandidate(forKey: key) { candidate in
            let w = weight(candidate)
            if w > 0 && load(candidate) < capacity(weight: w, totalWeight: totalWeight, totalLoad: totalLoad) {
                chosen = candidate
                return false
            }
            return true
        }
        return chosen ?? base.index(forKey: key)
    }
}
