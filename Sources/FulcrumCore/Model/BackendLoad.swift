import Synchronization

/// A backend's live counters, updated from every event loop without locks.
///
/// - `inFlight`: requests (L7) or connections (L4) started and not finished.
/// - Peak EWMA latency (Finagle, Linkerd): on each observation the average
///   decays toward the new sample with time constant τ, except that a sample
///   above the average replaces it at once ("peak" sensitivity), so a backend
///   that slows down is avoided immediately and recovers gradually.
public final class BackendLoad: Sendable {
    private let inFlightCount = Atomic<Int>(0)
    private let picked = Atomic<Int>(0)
    /// Peak EWMA in nanoseconds as Double bits; 0 before the first sample.
    private let ewmaBits = Atomic<UInt64>(0)
    /// When the EWMA was last updated, in nanoseconds. Read and written apart
    /// from the EWMA: a race costs at most one sample's decay, which an
    /// estimate can afford, and keeps the pick path free of locks.
    private let updatedAt = Atomic<UInt64>(0)
    /// Set while the outlier detector counts failures in a row for this
    /// backend, so that a success (the common case) knows without taking
    /// the cluster's lock that there is no streak to reset.
    private let failureStreak = Atomic<Bool>(false)
    private let bytesInCount = Atomic<Int>(0)
    private let bytesOutCount = Atomic<Int>(0)
    private let closedConnections = Atomic<Int>(0)
    private let connectionNanoseconds = Atomic<Int>(0)

    init() {}

    /// Whether a failure streak may be open (see ``Cluster/recordOutcome(_:backend:)``).
    var hasFailureStreak: Bool { failureStreak.load(ordering: .relaxed) }

    func setFailureStreak(_ open: Bool) {
        failureStreak.store(open, ordering: .relaxed)
    }

    /// Client bytes relayed to this backend by L4 listeners.
    public var bytesIn: Int { bytesInCount.load(ordering: .relaxed) }
    /// Backend bytes relayed back to clients by L4 listeners.
    public var bytesOut: Int { bytesOutCount.load(ordering: .relaxed) }
    /// L4 connections (and UDP flows) to this backend that have ended.
    public var connectionsClosed: Int { closedConnections.load(ordering: .relaxed) }
    /// The summed lifetime of those connections; with ``connectionsClosed``
    /// it gives the mean duration without keeping a histogram per backend.
    public var connectionTime: Duration { .nanoseconds(connectionNanoseconds.load(ordering: .relaxed)) }

    /// Counts one ended L4 connection or flow: an exporter reads totals
    /// here instead of parsing the per-connection log line.
    public func recordConnection(bytesIn: Int, bytesOut: Int, duration: Duration) {
        bytesInCount.add(bytesIn, ordering: .relaxed)
        bytesOutCount.add(bytesOut, ordering: .relaxed)
        closedConnections.add(1, ordering: .relaxed)
        connectionNanoseconds.add(Int(clamping: duration.nanoseconds), ordering: .relaxed)
    }

    /// Requests or connections in flight now.
    public var inFlight: Int { inFlightCount.load(ordering: .relaxed) }

    /// How many times this backend was picked.
    public var pickCount: Int { picked.load(ordering: .relaxed) }

    /// Marks the start of a request or connection sent to this backend.
    public func start() {
        inFlightCount.add(1, ordering: .relaxed)
        picked.add(1, ordering: .relaxed)
    }

    /// Marks its end, with its latency when one was measured.
    public func finish(latency sample: Duration? = nil, at now: Instant, decay tau: Duration = .seconds(10)) {
        inFlightCount.subtract(1, ordering: .relaxed)
        if let sample { observe(sample, at: now, decay: tau) }
    }

    /// Folds a latency sample into the peak EWMA.
    public func observe(_ sample: Duration, at now: Instant, decay tau: Duration = .seconds(10)) {
        let value = Double(max(sample.nanoseconds, 1))
        let last = Instant(nanoseconds: updatedAt.exchange(now.nanoseconds, ordering: .relaxed))
        let weight = Self.decayWeight(elapsed: now.since(last), tau: tau)
        var current = ewmaBits.load(ordering: .relaxed)
        while true {
            let old = Double(bitPattern: current)
            let new = old == 0 || value > old ? value : old * weight + value * (1 - weight)
            let (exchanged, original) = ewmaBits.compareExchange(
                expected: current,
                desired: new.bitPattern,
                ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
    }

    /// The peak EWMA as seen at `now`: it decays toward zero while no sample
    /// arrives, so a backend that was slow and got no traffic becomes worth
    /// trying again (the exploration that Traefik's issue #12306 lacked).
    /// `nil` before the first sample.
    public func latencyEstimate(at now: Instant, decay tau: Duration = .seconds(10)) -> Duration? {
        let value = Double(bitPattern: ewmaBits.load(ordering: .relaxed))
        guard value > 0 else { return nil }
        let updated = Instant(nanoseconds: updatedAt.load(ordering: .relaxed))
        return .nanoseconds(Int64(value * Self.decayWeight(elapsed: now.since(updated), tau: tau)))
    }

    /// e^(−elapsed/τ), computed without libm: (1 − x/n)^n for n = 2¹⁰,
    /// which is within 0.05% for the range that matters (elapsed < 5τ).
    static func decayWeight(elapsed: Duration, tau: Duration) -> Double {
        let x = elapsed.seconds / max(tau.seconds, 1e-9)
        if x >= 20 { return 0 }
        var base = max(0, 1 - x / 1024)
        for _ in 0..<10 { base *= base }
        return base
    }
}
