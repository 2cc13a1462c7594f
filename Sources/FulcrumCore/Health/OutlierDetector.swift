/// Settings for passive outlier ejection (``OutlierDetector``). The names and
/// defaults are Envoy's (`outlier_detection` in a cluster), so that users who
/// know Envoy know what to expect.
public struct OutlierDetectionSettings: Sendable, Hashable {
    /// Gateway failures in a row that eject a backend; 0 turns ejection off.
    /// Envoy's `consecutive_gateway_failure`, default 5.
    public var consecutiveGatewayFailures: Int
    /// How long the first ejection lasts; the k-th lasts k times as long, up to
    /// ``maxEjectionTime``. Envoy's `base_ejection_time`, default 30 s.
    public var baseEjectionTime: Duration
    /// The longest an ejection lasts. As in Envoy, when this is shorter than
    /// ``baseEjectionTime`` the base wins, so an ejection lasts at least the
    /// base. Envoy's `max_ejection_time`, default 300 s.
    public var maxEjectionTime: Duration
    /// The largest share of the cluster, in percent, that may be ejected at
    /// once, 0–100. One backend may always be ejected when none is, however
    /// small the percentage (Envoy's behaviour with `always_eject_one_host`),
    /// so that a small cluster still sheds a broken backend. Envoy's
    /// `max_ejection_percent`; the default is 50 rather than Envoy's 10,
    /// because under 20 backends 10% lets only one be ejected at a time.
    public var maxEjectionPercent: Int

    public static var defaults: Self { .init() }

    public init(
        consecutiveGatewayFailures: Int = 5,
        baseEjectionTime: Duration = .seconds(30),
        maxEjectionTime: Duration = .seconds(300),
        maxEjectionPercent: Int = 50
    ) {
        self.consecutiveGatewayFailures = consecutiveGatewayFailures
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
    }

    /// Whether consecutive gateway failures eject at all.
    public var isEnabled: Bool { consecutiveGatewayFailures > 0 }

    /// - Throws: ``CoreError`` with code `.invalidSetting`, naming the first
    ///   field out of range, its value and what is accepted.
    public func validate() throws(CoreError) {
        if consecutiveGatewayFailures < 0 {
            throw Self.invalid(
                "consecutiveGatewayFailures is \(consecutiveGatewayFailures); "
                    + "it must be a whole number, 0 or more (0 turns ejection off)"
            )
        }
        if baseEjectionTime <= .zero {
            throw Self.invalid("baseEjectionTime is \(baseEjectionTime); it must be longer than zero")
        }
        if maxEjectionTime <= .zero {
            throw Self.invalid("maxEjectionTime is \(maxEjectionTime); it must be longer than zero")
        }
        if !(0...100).contains(maxEjectionPercent) {
            throw Self.invalid(
                "maxEjectionPercent is \(maxEjectionPercent); it must be a whole number from 0 to 100"
            )
        }
    }

    private static func invalid(_ message: String) -> CoreError {
        CoreError(code: .invalidSetting, message: "outlier detection " + message)
    }
}

/// What a finished request or connection says about its backend, as far as
/// outlier ejection cares.
public enum PassiveOutcome: Sendable, Hashable {
    case success
    /// A gateway failure: connect error, reset before response, 502/503/504
    /// from the backend, timeout. `reason` is shown to operators.
    case gatewayFailure(reason: String)
}

/// One backend taken out of service by the ``OutlierDetector``.
public struct Ejection: Sendable, Hashable {
    /// The backend's index in the cluster.
    public var backend: Int
    /// When the ejection ends (the backend returns at the first
    /// ``OutlierDetector/expire(at:)`` at or after this instant).
    public var until: Instant
    /// The multiplier k of this ejection, which lasts base × k up to the
    /// maximum: the number of times this backend has been ejected, including
    /// this one, less what good behaviour has since earned back (see
    /// ``OutlierDetector``).
    public var count: Int
    /// Why, for operators: "5 consecutive gateway failures, last: HTTP 503".
    public var reason: String

    public init(backend: Int, until: Instant, count: Int, reason: String) {
        self.backend = backend
        self.until = until
        self.count = count
        self.reason = reason
    }
}

/// Envoy's consecutive-gateway-failure outlier ejection, for one cluster.
///
/// Active checks find a backend that is down; this finds one that is up but
/// failing real traffic. After ``OutlierDetectionSettings/consecutiveGatewayFailures``
/// gateway failures in a row (a success in between resets the count) the
/// backend is ejected for `baseEjectionTime × k`, capped at `maxEjectionTime`,
/// where k counts its ejections: 30 s, 60 s, 90 s … 300 s with the defaults,
/// so a backend that keeps failing is tried less and less often.
///
/// Details that follow Envoy (`source/common/upstream/outlier_detection_impl.cc`):
/// - Reaching the threshold resets the count even when the ejection is
///   refused by ``OutlierDetectionSettings/maxEjectionPercent``, so a refused
///   backend needs a fresh run of failures, not one more, to be ejected later.
/// - The multiplier k stops growing once `base × k` reaches the cap (Envoy's
///   `eject_time_backoff`): more growth would not lengthen any ejection, only
///   delay the decay below.
/// - k decays. Once a backend has been back in service, with no new ejection,
///   for `baseEjectionTime × k` (its current k), k drops by one, and the next
///   period, of `baseEjectionTime × (k − 1)`, starts then. So a backend that
///   failed once long ago is not punished like a repeat offender. The decay is
///   evaluated in ``expire(at:)``, which catches up on every period that has
///   passed since the last call; a new ejection restarts it.
///
/// An ejection stays in force (outcomes ignored, counted in ``ejectedCount``)
/// until ``expire(at:)`` ends it, even after its `until`: the caller learns
/// of every return to service from that call's result and publishes it.
///
/// The detector is a pure value: the caller passes the time, feeds outcomes
/// and applies the returned ejections and returns to its pool snapshot.
/// Settings are expected to be validated (``OutlierDetectionSettings/validate()``);
/// out-of-range values are clamped here rather than trapping.
public struct OutlierDetector: Sendable {
    /// Per-backend state.
    private struct Monitor: Sendable {
        /// Gateway failures in a row since the last success or threshold.
        var consecutiveFailures = 0
        /// The multiplier k.
        var multiplier = 0
        /// Every ejection ever, for operators and metrics.
        var total = 0
        /// Set while an ejection is in force.
        var ejectedUntil: Instant?
        /// When the current decay period began: the return to service or the
        /// last decrement. `nil` while ejected or when k is 0.
        var decayFrom: Instant?
    }

    public let settings: OutlierDetectionSettings
    /// ``OutlierDetectionSettings/maxEjectionPercent`` clamped to 0–100. The
    /// check stays in integers, `(ejected + 1) × 100 <= percent × backendCount`,
    /// so that 50% of 4 is exactly 2 with no rounding to argue about.
    private let maxPercent: Int
    private let threshold: Int
    private let baseNanoseconds: Int64
    private let capNanoseconds: Int64
    /// The largest useful k: the first at which base × k reaches the cap.
    private let maxMultiplier: Int
    private var monitors: [Monitor]

    /// Ejections in force (not yet ended by ``expire(at:)``).
    public private(set) var ejectedCount = 0
    /// Ejections refused because ``OutlierDetectionSettings/maxEjectionPercent``
    /// was reached: Envoy's `ejections_overflow`, worth a metric because it
    /// means more of the cluster is failing than may be taken out.
    public private(set) var refusedEjections = 0

    /// - Parameters:
    ///   - settings: validated settings.
    ///   - backendCount: the cluster's size; backends are named by index.
    public init(settings: OutlierDetectionSettings, backendCount: Int) {
        precondition(backendCount >= 0, "a cluster cannot have \(backendCount) backends")
        self.settings = settings
        self.threshold = max(0, settings.consecutiveGatewayFailures)
        self.maxPercent = min(100, max(0, settings.maxEjectionPercent))
        let base = max(1, settings.baseEjectionTime.nanoseconds)
        let cap = max(base, settings.maxEjectionTime.nanoseconds)
        self.baseNanoseconds = base
        self.capNanoseconds = cap
        self.maxMultiplier = Int(cap / base + (cap % base == 0 ? 0 : 1))
        self.monitors = Array(repeating: Monitor(), count: backendCount)
    }

    /// The number of backends in the cluster.
    public var backendCount: Int { monitors.count }

    /// Records the outcome of one request or connection to backend `index`.
    ///
    /// - Returns: the ejection this outcome causes, or `nil`. Outcomes for a
    ///   backend whose ejection is in force are ignored: they come from
    ///   requests sent before it was ejected.
    /// - Precondition: `index` is in `0..<backendCount`.
    /// - Complexity: O(1), plus the reason string on an ejection.
    public mutating func record(_ outcome: PassiveOutcome, backend index: Int, at now: Instant) -> Ejection? {
        precondition(monitors.indices.contains(index), "backend \(index) is not in a cluster of \(monitors.count)")
        guard monitors[index].ejectedUntil == nil else { return nil }
        switch outcome {
        case .success:
            monitors[index].consecutiveFailures = 0
            return nil
        case .gatewayFailure(let reason):
            guard threshold > 0 else { return nil }
            monitors[index].consecutiveFailures += 1
            guard monitors[index].consecutiveFailures >= threshold else { return nil }
            monitors[index].consecutiveFailures = 0
            guard mayEject() else {
                refusedEjections += 1
                return nil
            }
            return eject(index, at: now, reason: "\(threshold) consecutive gateway "
                + (threshold == 1 ? "failure" : "failures") + ", last: \(reason)")
        }
    }

    /// Whether one more ejection stays within the maximum percentage, or is
    /// the one ejection always allowed.
    private func mayEject() -> Bool {
        ejectedCount == 0 || (ejectedCount + 1) * 100 <= maxPercent * monitors.count
    }

    private mutating func eject(_ index: Int, at now: Instant, reason: String) -> Ejection {
        var monitor = monitors[index]
        monitor.multiplier = min(monitor.multiplier + 1, maxMultiplier)
        monitor.total += 1
        let until = Self.saturatingAdd(now, min(ejectionNanoseconds(monitor.multiplier), capNanoseconds))
        monitor.ejectedUntil = until
        monitor.decayFrom = nil
        monitors[index] = monitor
        ejectedCount += 1
        return Ejection(backend: index, until: until, count: monitor.multiplier, reason: reason)
    }

    /// Ends the ejections whose `until` is at or before `now`, and decays the
    /// multipliers of backends in service (see the type's documentation).
    /// Call it periodically, as Envoy's interval timer does, and when the
    /// earliest ``ejectedUntil(_:)`` comes.
    ///
    /// - Returns: the backends returned to service, in ascending order.
    /// - Complexity: O(n) for n backends, plus the decay periods that passed.
    public mutating func expire(at now: Instant) -> [Int] {
        var returned: [Int] = []
        for index in monitors.indices {
            var monitor = monitors[index]
            if let until = monitor.ejectedUntil {
                guard now >= until else { continue }
                monitor.ejectedUntil = nil
                monitor.decayFrom = monitor.multiplier > 0 ? now : nil
                ejectedCount -= 1
                returned.append(index)
            }
            while monitor.multiplier > 0, let from = monitor.decayFrom {
                let end = Self.saturatingAdd(from, ejectionNanoseconds(monitor.multiplier))
                guard now >= end else { break }
                monitor.multiplier -= 1
                monitor.decayFrom = monitor.multiplier > 0 ? end : nil
            }
            monitors[index] = monitor
        }
        return returned
    }

    /// Ends backend `index`'s ejection early, as Envoy does by default when an
    /// active health check passes (`successful_active_health_check_uneject_host`).
    /// The multiplier is kept, so a backend that fails again is ejected for
    /// longer.
    ///
    /// - Returns: whether an ejection was in force.
    public mutating func uneject(_ index: Int, at now: Instant) -> Bool {
        guard monitors[index].ejectedUntil != nil else { return false }
        monitors[index].ejectedUntil = nil
        monitors[index].consecutiveFailures = 0
        monitors[index].decayFrom = monitors[index].multiplier > 0 ? now : nil
        ejectedCount -= 1
        return true
    }

    /// Whether backend `index` is ejected at `now`: an ejection is in force
    /// and its time has not come. Between `until` and the ``expire(at:)``
    /// that ends it, this is already `false`.
    /// - Complexity: O(1).
    public func isEjected(_ index: Int, at now: Instant) -> Bool {
        guard let until = monitors[index].ejectedUntil else { return false }
        return now < until
    }

    /// When backend `index`'s ejection ends, or `nil` when none is in force.
    /// - Complexity: O(1).
    public func ejectedUntil(_ index: Int) -> Instant? {
        monitors[index].ejectedUntil
    }

    /// Backend `index`'s multiplier k: the times it has been ejected, less
    /// what decay has earned back, and no more than the first k whose
    /// ejection reaches the maximum time.
    /// - Complexity: O(1).
    public func ejectionCount(_ index: Int) -> Int {
        monitors[index].multiplier
    }

    /// Every ejection of backend `index` since this detector was made; unlike
    /// ``ejectionCount(_:)`` it never decays and is not capped.
    /// - Complexity: O(1).
    public func totalEjections(_ index: Int) -> Int {
        monitors[index].total
    }

    /// base × k in nanoseconds, saturating.
    private func ejectionNanoseconds(_ multiplier: Int) -> Int64 {
        let (product, overflow) = baseNanoseconds.multipliedReportingOverflow(by: Int64(multiplier))
        return overflow ? .max : product
    }

    /// `Instant + Duration` wraps on overflow; a far-future ejection must not
    /// wrap to the past and end at once.
    private static func saturatingAdd(_ instant: Instant, _ nanoseconds: Int64) -> Instant {
        let (sum, overflow) = instant.nanoseconds.addingReportingOverflow(UInt64(max(0, nanoseconds)))
        return Instant(nanoseconds: overflow ? .max : sum)
    }
}
