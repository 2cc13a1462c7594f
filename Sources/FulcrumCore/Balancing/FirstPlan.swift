/// The first candidate in configuration order with spare capacity, as
/// HAProxy's `first`: it packs traffic onto few backends so that the others
/// can be scaled down. A backend without an in-flight limit always has room.
///
/// - Complexity: O(n) per pick at worst.
struct FirstPlan: PickPlan {
    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        // Untried first; a retry that has tried them all may go back to one.
        for skipTried in [true, false] {
            for i in pool.candidates where !(skipTried && context.tried.contains(i)) {
                let backend = pool.backends[i]
                if let limit = backend.maxInFlight, backend.load.inFlight >= limit { continue }
                return .backend(i)
            }
        }
        return .unavailable(.atCapacity)
    }
}
