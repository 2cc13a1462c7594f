/// Peak EWMA, as Finagle and Linkerd balance: each backend's cost is its
/// peak-EWMA latency × (in flight + 1) / effective weight, and the cheaper of
/// two random candidates wins (power of two choices).
///
/// Two things keep a recovered backend from being starved, the feedback loop
/// of Traefik's issue #12306: the EWMA decays toward zero while a backend
/// gets no samples (see ``BackendLoad/latencyEstimate(at:decay:)``), and a
/// small share of picks (`explorationPercent`, 1% by default) goes to a
/// uniformly random candidate, which refreshes its estimate.
///
/// - Complexity: O(1) per pick.
struct LeastResponseTimePlan: PickPlan {
    let decay: Duration
    let explorationPercent: Double

    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        let candidates = pool.candidates
        if candidates.count == 1 { return .backend(candidates[0]) }
        if explorationPercent > 0 && context.random.unit() * 100 < explorationPercent {
            return .backend(pool.randomUntried(&context))
        }
        let (a, b) = pool.twoRandomUntried(&context)
        guard let b else { return .backend(a) }
        return .backend(cost(a, pool, context.now) <= cost(b, pool, context.now) ? a : b)
    }

    private func cost(_ i: Int, _ pool: PoolSnapshot, _ now: Instant) -> Double {
        let backend = pool.backends[i]
        // A backend with no sample yet costs nothing, so it is tried soon.
        let latency = Double(backend.load.latencyEstimate(at: now, decay: decay)?.nanoseconds ?? 0) + 1
        return latency * Double(backend.load.inFlight + 1) / pool.effectiveWeight(i)
    }
}
