import Synchronization

/// One event loop's view of a cluster: it keeps the current snapshot and its
/// own rotation counter, so that picks on different loops share nothing that
/// changes per request.
///
/// A pick through a reader costs one relaxed read of the cluster's published
/// generation (a cache line that is written only when the pool changes)
/// instead of a lock and a reference-count round trip. Round robin and its
/// relatives rotate per reader, as Envoy rotates per worker: each loop is
/// strictly fair on its own, and together they are balanced.
///
/// A reader is not `Sendable`: keep one per event loop.
public struct SnapshotReader {
    public let cluster: Cluster
    private var snapshot: PoolSnapshot
    private var rotation: Int

    /// - Parameter seed: where this reader's rotation starts, so that loops
    ///   do not all begin with the same backend.
    public init(_ cluster: Cluster, seed: Int = 0) {
        self.cluster = cluster
        snapshot = cluster.snapshot
        rotation = seed & Int.max
    }

    /// The current snapshot, re-read only when the cluster published a new one.
    public mutating func current() -> PoolSnapshot {
        if cluster.publishedGeneration.load(ordering: .acquiring) != snapshot.generation {
            snapshot = cluster.snapshot
        }
        return snapshot
    }

    /// Picks from the current snapshot with this reader's rotation.
    public mutating func pick(_ context: inout PickContext) -> PickResult {
        if cluster.publishedGeneration.load(ordering: .acquiring) != snapshot.generation {
            snapshot = cluster.snapshot
        }
        context.localRotation = rotation
        let result = snapshot.pick(&context)
        rotation = context.localRotation ?? rotation
        context.localRotation = nil
        return result
    }
}
