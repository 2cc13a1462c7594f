/// The fewer in flight (relative to weight) of two random candidates:
/// Envoy's `LEAST_REQUEST` with `choice_count` 2. With two or fewer
/// candidates it compares them all.
///
/// - Complexity: O(1) per pick.
struct PowerOfTwoPlan: PickPlan {
    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        let (a, b) = pool.twoRandomUntried(&context)
        guard let b else { return .backend(a) }
        return .backend(score(a, pool) <= score(b, pool) ? a : b)
    }

    private func score(_ i: Int, _ pool: PoolSnapshot) -> Double {
        Double(pool.backends[i].load.inFlight + 1) / pool.effectiveWeight(i)
    }
}

extension PoolSnapshot {
    /// Two distinct untried candidates chosen at random (both, in order, when
    /// there are only two), or one when only one is left.
    func twoRandomUntried(_ context: inout PickContext) -> (Int, Int?) {
        let n = candidates.count
        if n <= 2 {
            var untried = candidates.filter { !context.tried.contains($0) }
            if untried.isEmpty { untried = candidates }
            return (untried[0], untried.count > 1 ? untried[1] : nil)
        }
        for _ in 0..<4 {
            let x = context.random.below(n)
            var y = context.random.below(n - 1)
            if y >= x { y += 1 }
            let a = candidates[x]
            let b = candidates[y]
            let aTried = context.tried.contains(a)
            let bTried = context.tried.contains(b)
            if !aTried && !bTried { return (a, b) }
            if !aTried { return (a, nil) }
            if !bTried { return (b, nil) }
        }
        return (randomUntried(&context), nil)
    }
}
