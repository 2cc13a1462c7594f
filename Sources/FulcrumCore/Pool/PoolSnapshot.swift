/// An immutable view of a cluster's backends and their states, read by every
/// pick. Health, admin and reload code publish a new snapshot; nothing ever
/// changes one that a picker may be reading.
public final class PoolSnapshot: Sendable {
    /// Increases with every snapshot a cluster publishes.
    public let generation: UInt64
    /// All backends, in configuration order; picks return indices into this.
    public let backends: [Backend]
    /// Each backend's state, parallel to ``backends``.
    public let states: [BackendState]
    /// The share of each backend's weight its checks grant, 0–1, parallel to
    /// ``backends``: below 1 for an application check that warns or an
    /// agent that asked for less. Slow start multiplies on top.
    public let healthWeights: [Double]
    /// Which tier serves new traffic, or why none can.
    public let mode: RoutingMode
    /// The backends new, unpinned traffic may go to, in configuration order.
    public let candidates: [Int]
    /// The share of weighted primaries that are available, 0–1.
    public let healthyFraction: Double
    /// Whether a request pinned to a draining backend (by cookie or hash key)
    /// may still go there.
    public let allowStickyToDraining: Bool

    @usableFromInline let isCandidate: [Bool]
    @usableFromInline let weightFactors: [Double]
    let plan: any PickPlan

    init(
        generation: UInt64,
        backends: [Backend],
        states: [BackendState],
        healthWeights: [Double],
        mode: RoutingMode,
        candidates: [Int],
        healthyFraction: Double,
        allowStickyToDraining: Bool,
        plan: (PoolSnapshot.Layout) throws(CoreError) -> any PickPlan
    ) throws(CoreError) {
        self.generation = generation
        self.backends = backends
        self.states = states
        self.healthWeights = healthWeights
        self.mode = mode
        self.candidates = candidates
        self.healthyFraction = healthyFraction
        self.allowStickyToDraining = allowStickyToDraining
        var isCandidate = [Bool](repeating: false, count: backends.count)
        for i in candidates { isCandidate[i] = true }
        self.isCandidate = isCandidate
        weightFactors = zip(states, healthWeights).map { $0.weightFactor * $1 }
        self.plan = try plan(Layout(backends: backends, candidates: candidates, mode: mode, weightFactors: weightFactors))
    }

    /// What a plan is built from: everything but the plan itself.
    struct Layout {
        let backends: [Backend]
        let candidates: [Int]
        let mode: RoutingMode
        let weightFactors: [Double]

        /// The members a keyed structure is built over: every weighted backend
        /// of the tier that serves, whatever its health, so that a backend
        /// going down moves only its own keys.
        var tierMembers: [Int] {
            let backups = mode == .backups
            return backends.indices.filter { backends[$0].isBackup == backups && backends[$0].weight > 0 }
        }
    }

    /// Picks a backend for one request or connection.
    ///
    /// A pinned backend (a sticky cookie) is honoured while it can take
    /// traffic, or while it drains if the cluster allows that; otherwise the
    /// algorithm picks among ``candidates``, avoiding backends this request
    /// already tried unless no other remains.
    ///
    /// - Complexity: The algorithm's; see ``BalancingAlgorithm``.
    public func pick(_ context: inout PickContext) -> PickResult {
        if let pinned = context.pinned, pinned >= 0, pinned < backends.count, !context.tried.contains(pinned),
            acceptsPinned(pinned)
        {
            return .backend(pinned)
        }
        if case .unavailable(let reason) = mode { return .unavailable(reason) }
        return plan.pick(in: self, context: &context)
    }

    /// Whether a request pinned to backend `i` by stickiness may go there.
    @inlinable
    func acceptsPinned(_ i: Int) -> Bool {
        if isCandidate[i] { return true }
        switch states[i] {
        case .draining: return allowStickyToDraining
        case .up, .slowStart: return mode != .backups || backends[i].isBackup
        default: return false
        }
    }

    /// Whether new traffic may go to backend `i` as a keyed (sticky) choice:
    /// a candidate, or draining when sticky traffic may follow it.
    @inlinable
    func acceptsKeyed(_ i: Int) -> Bool {
        isCandidate[i] || (allowStickyToDraining && states[i] == .draining)
    }

    /// Slow start by thinning: a backend at factor f < 1 accepts a pick with
    /// probability f, so its share ramps with f whatever the algorithm.
    @inlinable
    func admits(_ i: Int, _ context: inout PickContext) -> Bool {
        let factor = weightFactors[i]
        return factor >= 1 || context.random.unit() < factor
    }

    /// Backend `i`'s weight after slow start.
    @inlinable
    func effectiveWeight(_ i: Int) -> Double {
        Double(backends[i].weight) * weightFactors[i]
    }
}

/// Which tier of a cluster serves new traffic.
public enum RoutingMode: Sendable, Hashable, CustomStringConvertible {
    /// The available primaries.
    case normal
    /// No primary is available: the available backups.
    case backups
    /// Too few primaries are healthy (below the panic threshold): every
    /// primary that an operator has not taken out, healthy or not, so that
    /// the few healthy ones are not overwhelmed (Envoy's panic mode).
    case panic
    /// Nothing can serve.
    case unavailable(Unavailability)

    public var description: String {
        switch self {
        case .normal: "normal"
        case .backups: "backups"
        case .panic: "PANIC"
        case .unavailable(let reason): "unavailable (\(reason))"
        }
    }
}
