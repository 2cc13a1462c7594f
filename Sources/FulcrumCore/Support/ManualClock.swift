import Synchronization

/// A clock that moves only when told to, for deterministic tests and the
/// simulator.
public final class ManualClock: MonotonicClock {
    private let current: Atomic<UInt64>

    public init(_ start: Instant = Instant(nanoseconds: 1_000_000_000)) {
        current = Atomic(start.nanoseconds)
    }

    public var now: Instant { Instant(nanoseconds: current.load(ordering: .acquiring)) }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a monotonic clock does not go back")
        current.add(UInt64(duration.nanoseconds), ordering: .releasing)
    }

    /// Sets the clock to `instant`, which must not be earlier than now.
    public func set(_ instant: Instant) {
        precondition(instant >= now, "a monotonic clock does not go back")
        current.store(instant.nanoseconds, ordering: .releasing)
    }
}
