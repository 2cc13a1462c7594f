import Synchronization

/// A named set of backends with one balancing algorithm, and the health
/// state that decides which of them take traffic.
///
/// Picks read an immutable ``PoolSnapshot``. Health checks, passive outcomes,
/// operators and the periodic ``tick()`` change the state; each change
/// computes a new snapshot and publishes it. The lock is held only to read or
/// swap state: plans (schedules, hash structures) are built outside it, so a
/// slow rebuild never stalls picks.
///
/// Every state change returns ``ClusterEvent``s with a reason, for the caller
/// to log and count; the core itself does no I/O.
public final class Cluster: Sendable {
    public let name: String
    /// All backends, in configuration order.
    public let backends: [Backend]
    public let settings: ClusterSettings
    /// The retry budget every event loop starts from, checked at init.
    private let retryBudgetTemplate: RetryBudget

    private let clock: any MonotonicClock
    private let balancer: Balancer
    private let state: Mutex<State>
    private let indexByID: [String: Int]
    /// The published snapshot's generation, readable without the lock so
    /// that ``SnapshotReader`` can tell cheaply whether to re-read.
    let publishedGeneration = Atomic<UInt64>(0)
    /// Called with every change's events, after the lock is released.
    private let observers = Mutex<[@Sendable (ClusterEvent) -> Void]>([])

    private struct State {
        var health: [HealthStateMachine]
        /// The share of its weight each backend's checks grant, 0–1: an
        /// application check that warns, or an agent's `75%`.
        var healthWeight: [Double]
        var admin: [AdminState]
        /// What each backend's own agent asks for; the stricter of this and
        /// the operator's state applies.
        var agentAdmin: [AdminState]
        var outliers: OutlierDetector
        /// When each backend last became available, for slow start; nil
        /// while unavailable or when it has been available since creation.
        var availableSince: [Instant?]
        /// The states and mode of the last computed layout, to detect changes.
        var states: [BackendState]
        var weights: [Double]
        var mode: RoutingMode
        var generation: UInt64 = 0
        var published: PoolSnapshot?
    }

    /// - Throws: ``CoreError`` for duplicate backend ids, bad settings, or an
    ///   algorithm that cannot serve these backends (jump with unequal weights).
    public init(
        name: String,
        backends: [Backend],
        settings: ClusterSettings = .defaults,
        clock: any MonotonicClock = SystemClock()
    ) throws(CoreError) {
        try settings.validate()
        var indexByID: [String: Int] = [:]
        for (i, backend) in backends.enumerated() {
            guard indexByID.updateValue(i, forKey: backend.id) == nil else {
                throw CoreError(
                    code: .invalidCluster,
                    message: "cluster '\(name)' lists backend '\(backend.id)' twice; backend names must be unique"
                )
            }
        }
        var health: [HealthStateMachine] = []
        for backend in backends {
            let thresholds = settings.healthThresholds(for: backend.id)
            health.append(
                try HealthStateMachine(rise: thresholds.rise, fall: thresholds.fall, initial: thresholds.initial)
            )
        }
        self.name = name
        self.backends = backends
        self.settings = settings
        self.clock = clock
        self.indexByID = indexByID
        retryBudgetTemplate = try RetryBudget(
            percent: settings.retryBudgetPercent,
            minPerSecond: settings.retryMinPerSecond,
            now: clock.now
        )
        balancer = try Balancer(algorithm: settings.algorithm, backends: backends)
        var initial = State(
            health: health,
            healthWeight: Array(repeating: 1, count: backends.count),
            admin: Array(repeating: .enabled, count: backends.count),
            agentAdmin: Array(repeating: .enabled, count: backends.count),
            outliers: OutlierDetector(settings: settings.outlierDetection, backendCount: backends.count),
            availableSince: Array(repeating: nil, count: backends.count),
            states: [],
            weights: [],
            mode: .normal
        )
        let layout = Self.layout(initial, backends: backends, settings: settings, now: clock.now)
        initial.states = layout.states
        initial.weights = layout.weights
        initial.mode = layout.mode
        initial.generation = 1
        let snapshot = try Self.snapshot(layout, generation: 1, backends: backends, settings: settings, balancer: balancer)
        initial.published = snapshot
        state = Mutex(initial)
        publishedGeneration.store(1, ordering: .releasing)
    }

    /// The current snapshot. Picks on the hot path take it once per request.
    public var snapshot: PoolSnapshot { state.withLock { $0.published! } }

    /// Picks a backend from the current snapshot.
    public func pick(_ context: inout PickContext) -> PickResult {
        snapshot.pick(&context)
    }

    /// The index of the backend with this id.
    public func index(of id: String) -> Int? { indexByID[id] }

    /// Feeds an active health check's result for backend `index`. A passing
    /// check also ends a passive ejection (Envoy's default), so a backend
    /// that was ejected while dead takes traffic as soon as checks see it
    /// healthy again.
    ///
    /// - Parameter weightPercent: the share of its weight the check grants,
    ///   0–100, when the check says so (an application check that warns, an
    ///   agent's `75%`); `nil` leaves the share as it is. 0 takes the backend
    ///   out of new traffic without marking it down.
    @discardableResult
    public func recordCheck(_ result: CheckResult, weightPercent: Double? = nil, backend index: Int) -> [ClusterEvent] {
        update { state, now, events in
            if let weightPercent {
                let share = min(max(weightPercent, 0), 100) / 100
                if share != state.healthWeight[index] {
                    state.healthWeight[index] = share
                    var reason = "\(Int((share * 100).rounded()))% of its weight"
                    if case .success(let detail?) = result { reason += ", \(detail)" }
                    events.append(ClusterEvent(cluster: name, backend: backends[index].id, kind: .weight, reason: reason))
                }
            }
            if case .success = result, state.health[index].status == .up || state.health[index].progress + 1 >= settings.rise,
                state.outliers.uneject(index, at: now)
            {
                events.append(
                    ClusterEvent(
                        cluster: name,
                        backend: backends[index].id,
                        kind: .returned,
                        reason: "active health check passed"
                    )
                )
            }
            if let transition = state.health[index].record(result) {
                events.append(
                    ClusterEvent(
                        cluster: name,
                        backend: backends[index].id,
                        kind: transition.to == .up ? .up : .down,
                        reason: transition.reason
                    )
                )
            }
        }
    }

    /// Backend `index`'s health as active checks see it, and how many
    /// results in a row disagree with it: checkers shorten their interval
    /// while a change is in progress or the backend is down.
    public func health(of index: Int) -> (status: HealthStatus, progress: Int) {
        state.withLock { ($0.health[index].status, $0.health[index].progress) }
    }

    /// Feeds a request's or connection's outcome for backend `index`:
    /// consecutive gateway failures eject it (outlier detection).
    @discardableResult
    public func recordOutcome(_ outcome: PassiveOutcome, backend index: Int) -> [ClusterEvent] {
        if case .success = outcome {
            // Nearly every outcome is a success on a backend with no failure
            // streak: nothing changes, so no lock and no layout. A streak
            // opened concurrently on another loop may miss this reset, which
            // only makes "consecutive" count across loops a little loosely.
            guard settings.outlierDetection.isEnabled, backends[index].load.hasFailureStreak else { return [] }
        }
        return update { state, now, events in
            if case .success = outcome {
                backends[index].load.setFailureStreak(false)
            } else {
                backends[index].load.setFailureStreak(true)
            }
            if let ejection = state.outliers.record(outcome, backend: index, at: now) {
                events.append(
                    ClusterEvent(
                        cluster: name,
                        backend: backends[index].id,
                        kind: .ejected,
                        reason: "\(ejection.reason); ejection \(ejection.count), for \(ejection.until.since(now))"
                    )
                )
            }
        }
    }

    /// Sets an operator's state for backend `index`: drain, maintenance, or
    /// back in service.
    @discardableResult
    public func setAdminState(_ admin: AdminState, backend index: Int) -> [ClusterEvent] {
        update { state, _, events in
            guard state.admin[index] != admin else { return }
            state.admin[index] = admin
            events.append(ClusterEvent(cluster: name, backend: backends[index].id, kind: admin.eventKind, reason: "operator"))
        }
    }

    /// Sets what backend `index`'s own agent asks for (HAProxy's agent-check
    /// `drain`, `maint`, `ready`). It is kept apart from the operator's state
    /// and the stricter of the two applies, so an agent saying `ready` never
    /// ends a drain an operator started, and an operator's `enabled` does not
    /// override an agent that asked for maintenance.
    @discardableResult
    public func setAgentAdminState(_ admin: AdminState, backend index: Int) -> [ClusterEvent] {
        update { state, _, events in
            guard state.agentAdmin[index] != admin else { return }
            let before = Self.effectiveAdmin(state, index)
            state.agentAdmin[index] = admin
            let after = Self.effectiveAdmin(state, index)
            guard after != before else { return }
            events.append(ClusterEvent(cluster: name, backend: backends[index].id, kind: after.eventKind, reason: "agent check"))
        }
    }

    /// The stricter of the operator's and the agent's states.
    private static func effectiveAdmin(_ state: State, _ i: Int) -> AdminState {
        state.admin[i].strictness >= state.agentAdmin[i].strictness ? state.admin[i] : state.agentAdmin[i]
    }

    /// Advances time-driven state: ends ejections that are due and moves
    /// slow-start ramps on. Call it periodically (the proxy does, every
    /// second); picks between ticks use the factors of the last one.
    @discardableResult
    public func tick() -> [ClusterEvent] {
        update { state, now, events in
            for index in state.outliers.expire(at: now) {
                events.append(
                    ClusterEvent(
                        cluster: name,
                        backend: backends[index].id,
                        kind: .returned,
                        reason: "ejection time over"
                    )
                )
            }
        }
    }

    /// Applies a change under the lock, computes the new layout and events,
    /// and publishes a new snapshot if anything a pick reads has changed.
    /// A retry budget for one event loop: each loop keeps its own, so that
    /// no request touches shared state for it (see ``RetryBudget``).
    public func makeRetryBudget() -> RetryBudget {
        retryBudgetTemplate
    }

    /// Calls `observer` with every event this cluster reports from now on
    /// (state changes, ejections, panic), whichever path caused it: health
    /// checks, passive outcomes, ticks or an operator. Metrics count them
    /// here, so no caller can forget to. Observers run on the thread that
    /// made the change, outside the cluster's lock; keep them short.
    public func addEventObserver(_ observer: @escaping @Sendable (ClusterEvent) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    private func update(_ change: (inout State, Instant, inout [ClusterEvent]) -> Void) -> [ClusterEvent] {
        let events = applyUpdate(change)
        if !events.isEmpty {
            for observer in observers.withLock({ $0 }) {
                for event in events { observer(event) }
            }
        }
        return events
    }

    private func applyUpdate(_ change: (inout State, Instant, inout [ClusterEvent]) -> Void) -> [ClusterEvent] {
        let now = clock.now
        var events: [ClusterEvent] = []
        let pending: (Layout, UInt64)? = state.withLock { state in
            change(&state, now, &events)
            let previousStates = state.states
            let previousMode = state.mode
            // Backends that just became available start their slow start.
            for i in backends.indices {
                let wasAvailable = previousStates[i].isAvailable
                let isAvailable = Self.baseState(state, i, now).isAvailable
                if isAvailable && !wasAvailable && settings.slowStart.isEnabled {
                    state.availableSince[i] = now
                } else if !isAvailable {
                    state.availableSince[i] = nil
                }
            }
            let layout = Self.layout(state, backends: backends, settings: settings, now: now)
            for i in backends.indices {
                if case .slowStart = previousStates[i], layout.states[i] == .up {
                    state.availableSince[i] = nil
                    events.append(
                        ClusterEvent(cluster: name, backend: backends[i].id, kind: .slowStartEnded, reason: "full weight")
                    )
                }
            }
            if layout.mode != previousMode {
                events.append(modeEvent(from: previousMode, to: layout.mode, healthy: layout.healthyFraction))
            }
            guard layout.states != previousStates || layout.weights != state.weights || layout.mode != previousMode
            else { return nil }
            state.states = layout.states
            state.weights = layout.weights
            state.mode = layout.mode
            state.generation += 1
            return (layout, state.generation)
        }
        guard let (layout, generation) = pending else { return events }
        // Build outside the lock; publish only if no newer change did.
        guard
            let snapshot = try? Self.snapshot(
                layout,
                generation: generation,
                backends: backends,
                settings: settings,
                balancer: balancer
            )
        else { return events }
        state.withLock { state in
            if (state.published?.generation ?? 0) < generation {
                state.published = snapshot
                publishedGeneration.store(generation, ordering: .releasing)
            }
        }
        return events
    }

    private func modeEvent(from old: RoutingMode, to new: RoutingMode, healthy: Double) -> ClusterEvent {
        let percent = Int((healthy * 100).rounded())
        switch (old, new) {
        case (_, .panic):
            return ClusterEvent(
                cluster: name,
                backend: nil,
                kind: .panicStarted,
                reason: "\(percent)% of primaries available, below the \(Int(settings.panicThresholdPercent))% threshold; "
                    + "routing to all"
            )
        case (.panic, _):
            return ClusterEvent(cluster: name, backend: nil, kind: .panicEnded, reason: "\(percent)% of primaries available")
        case (_, .backups):
            return ClusterEvent(cluster: name, backend: nil, kind: .backupsActive, reason: "no primary is available")
        case (_, .unavailable(let reason)):
            return ClusterEvent(cluster: name, backend: nil, kind: .unavailable, reason: reason.rawValue)
        default:
            return ClusterEvent(cluster: name, backend: nil, kind: .primariesBack, reason: "\(percent)% of primaries available")
        }
    }

    private struct Layout {
        var states: [BackendState]
        /// The share of each backend's weight its checks grant, 0–1.
        var weights: [Double]
        var mode: RoutingMode
        var candidates: [Int]
        var healthyFraction: Double
    }

    /// A backend's state before slow start is considered.
    private static func baseState(_ state: State, _ i: Int, _ now: Instant) -> BackendState {
        switch effectiveAdmin(state, i) {
        case .maintenance: return .maintenance
        case .draining: return .draining
        case .enabled: break
        }
        if state.health[i].status == .down { return .down }
        if state.outliers.isEjected(i, at: now), let until = state.outliers.ejectedUntil(i) {
            return .ejected(until: until)
        }
        return .up
    }

    /// Decides every backend's state, the routing mode and the candidates.
    private static func layout(_ state: State, backends: [Backend], settings: ClusterSettings, now: Instant) -> Layout {
        let states = backends.indices.map { i -> BackendState in
            let base = baseState(state, i, now)
            guard base == .up, let since = state.availableSince[i] else { return base }
            let factor = settings.slowStart.factor(elapsed: now.since(since))
            return factor < 1 ? .slowStart(factor: factor) : .up
        }
        let weights = state.healthWeight
        let primaries = backends.indices.filter { !backends[$0].isBackup && backends[$0].weight > 0 }
        let available = primaries.filter { states[$0].isAvailable && weights[$0] > 0 }
        let fraction = primaries.isEmpty ? 0 : Double(available.count) / Double(primaries.count)
        let panicUsable = primaries.filter { states[$0].isPanicUsable }
        let panicking = settings.panicThresholdPercent > 0 && fraction * 100 < settings.panicThresholdPercent

        if !available.isEmpty {
            if panicking {
                return Layout(states: states, weights: weights, mode: .panic, candidates: panicUsable, healthyFraction: fraction)
            }
            return Layout(states: states, weights: weights, mode: .normal, candidates: available, healthyFraction: fraction)
        }
        let backups = backends.indices.filter {
            backends[$0].isBackup && backends[$0].weight > 0 && states[$0].isAvailable && weights[$0] > 0
        }
        if !backups.isEmpty {
            return Layout(states: states, weights: weights, mode: .backups, candidates: backups, healthyFraction: fraction)
        }
        if panicking && !panicUsable.isEmpty {
            return Layout(states: states, weights: weights, mode: .panic, candidates: panicUsable, healthyFraction: fraction)
        }
        let reason: Unavailability = backends.isEmpty ? .noBackends : .noneAvailable
        return Layout(states: states, weights: weights, mode: .unavailable(reason), candidates: [], healthyFraction: fraction)
    }

    private static func snapshot(
        _ layout: Layout,
        generation: UInt64,
        backends: [Backend],
        settings: ClusterSettings,
        balancer: Balancer
    ) throws(CoreError) -> PoolSnapshot {
        try PoolSnapshot(
            generation: generation,
            backends: backends,
            states: layout.states,
            healthWeights: layout.weights,
            mode: layout.mode,
            candidates: layout.candidates,
            healthyFraction: layout.healthyFraction,
            allowStickyToDraining: settings.allowStickyToDraining,
            plan: { layout throws(CoreError) in
                if case .unavailable = layout.mode { return RandomPlan() }
                return try balancer.makePlan(layout)
            }
        )
    }
}

extension AdminState {
    /// Maintenance is stricter than draining, which is stricter than enabled.
    fileprivate var strictness: Int {
        switch self {
        case .enabled: 0
        case .draining: 1
        case .maintenance: 2
        }
    }

    fileprivate var eventKind: ClusterEvent.Kind {
        switch self {
        case .enabled: .enabled
        case .draining: .draining
        case .maintenance: .maintenance
        }
    }
}
