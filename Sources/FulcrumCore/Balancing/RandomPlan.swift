/// Uniform random over the candidates.
///
/// - Complexity: O(1) per pick.
struct RandomPlan: PickPlan {
    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        for _ in 0..<8 {
            let i = pool.randomUntried(&context)
            if pool.admits(i, &context) { return .backend(i) }
        }
        return .backend(pool.randomUntried(&context))
    }
}
