/// Fewest in flight relative to weight, as HAProxy's `leastconn`: the score
/// is (in flight + 1) / effective weight, lowest wins. The scan starts at a
/// rotating position and keeps the first lowest score, so ties rotate instead
/// of always falling to the first backend in the list.
///
/// - Complexity: O(n) per pick: one pass over the candidates' counters.
struct LeastConnectionsPlan: PickPlan {
    let rotation: Rotation

    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        let candidates = pool.candidates
        let n = candidates.count
        var j = context.nextRotation(rotation) % n
        var best = -1
        var bestScore = Double.infinity
        for _ in 0..<n {
            let i = candidates[j]
            if !context.tried.contains(i) {
                let score = Double(pool.backends[i].load.inFlight + 1) / pool.effectiveWeight(i)
                if score < bestScore {
                    best = i
                    bestScore = score
                }
            }
            j = j + 1 == n ? 0 : j + 1
        }
        return .backend(best >= 0 ? best : candidates[j])
    }
}
