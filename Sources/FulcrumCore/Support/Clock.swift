#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on a monotonic timeline, in nanoseconds.
///
/// The core takes its time from a ``MonotonicClock`` so that tests can drive
/// it with a ``ManualClock`` and never sleep. Plain nanoseconds keep the
/// arithmetic on the pick path to integer adds and compares.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// This instant moved by a (possibly negative) duration, clamped at zero.
    public func advanced(by duration: Duration) -> Instant {
        let delta = duration.nanoseconds
        if delta >= 0 { return Instant(nanoseconds: nanoseconds &+ UInt64(delta)) }
        let back = UInt64(-delta)
        return Instant(nanoseconds: back > nanoseconds ? 0 : nanoseconds - back)
    }

    /// The time from `earlier` to this instant; zero if `earlier` is later.
    public func since(_ earlier: Instant) -> Duration {
        nanoseconds > earlier.nanoseconds ? .nanoseconds(Int64(nanoseconds - earlier.nanoseconds)) : .zero
    }

    public static func + (instant: Instant, duration: Duration) -> Instant { instant.advanced(by: duration) }

    public var description: String { "\(nanoseconds)ns" }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating at Int64's range.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// The duration in seconds, as a Double.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}

/// Where the core reads the time.
public protocol MonotonicClock: Sendable {
    var now: Instant { get }
}

/// The system's monotonic clock (`CLOCK_MONOTONIC`).
public struct SystemClock: MonotonicClock {
    public init() {}

    public var now: Instant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Instant(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }
}
