/// Strict rotation over the candidates.
///
/// A ramping backend (slow start) that declines its turn gives the turn up
/// rather than passing it to its neighbour, so its share is f / (Σ others +
/// f), the same as a weight of f would give.
///
/// - Complexity: O(1) per pick: one atomic increment and a modulo.
struct RoundRobinPlan: PickPlan {
    let rotation: Rotation

    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        let n = pool.candidates.count
        for _ in 0..<(2 * n) {
            let i = pool.candidates[context.nextRotation(rotation) % n]
            if !context.tried.contains(i) && pool.admits(i, &context) { return .backend(i) }
        }
        return .backend(pool.firstAcceptable(from: context.nextRotation(rotation) % n, &context))
    }
}
