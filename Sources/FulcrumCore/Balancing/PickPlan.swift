import Synchronization

/// An algorithm's per-snapshot state: a schedule, a hash structure, or just
/// the shared rotation counter. Built when a snapshot is published, off the
/// pick path; read concurrently by every pick.
protocol PickPlan: Sendable {
    /// Picks among `pool.candidates`. Called only when the pool has some.
    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult
}

/// A counter shared by every snapshot of one cluster, so that rotation
/// continues across health changes instead of restarting at the first
/// backend.
final class Rotation: Sendable {
    private let counter = Atomic<UInt64>(0)

    init() {}

    /// The next value; wraps after 2⁶⁴ picks.
    @inline(__always)
    func next() -> Int {
        Int(truncatingIfNeeded: counter.add(1, ordering: .relaxed).oldValue & 0x7FFF_FFFF_FFFF_FFFF)
    }
}

extension PickContext {
    /// The next rotation value: the event loop's own counter when the pick
    /// comes through a ``SnapshotReader`` (as Envoy keeps one per worker,
    /// so loops never contend on it), else the cluster's shared one.
    @inline(__always)
    mutating func nextRotation(_ shared: Rotation) -> Int {
        guard let value = localRotation else { return shared.next() }
        localRotation = value &+ 1 & Int.max
        return value
    }
}

extension PoolSnapshot {
    /// The first candidate, from position `start` on, that this request has
    /// not tried and that slow start admits; failing that the first untried
    /// one; failing that (everything tried) the candidate at `start`.
    ///
    /// - Complexity: O(1) when the candidate at `start` is untried and fully
    ///   up, O(n) at worst.
    @inline(__always)
    func firstAcceptable(from start: Int, _ context: inout PickContext) -> Int {
        let candidates = self.candidates
        let n = candidates.count
        var fallback = -1
        var j = start
        for _ in 0..<n {
            let i = candidates[j]
            if !context.tried.contains(i) {
                if admits(i, &context) { return i }
                if fallback < 0 { fallback = i }
            }
            j = j + 1 == n ? 0 : j + 1
        }
        return fallback >= 0 ? fallback : candidates[start]
    }

    /// A uniformly random candidate this request has not tried, or any
    /// candidate if all were tried.
    @inline(__always)
    func randomUntried(_ context: inout PickContext) -> Int {
        let n = candidates.count
        for _ in 0..<4 {
            let i = candidates[context.random.below(n)]
            if !context.tried.contains(i) { return i }
        }
        return firstAcceptable(from: context.random.below(n), &context)
    }
}
