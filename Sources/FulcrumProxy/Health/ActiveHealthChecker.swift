import CoreMetrics
import FulcrumConfig
import FulcrumCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Active health checks for one cluster: each checked backend is probed on
/// its own schedule and every verdict feeds the cluster's rise/fall state
/// machine (plus, for application and agent checks, a weight share and an
/// operator state). State changes are logged with their reasons, such as
/// `cluster=api backend=b2 DOWN (http check: status 500, 3/3)`.
///
/// Scheduling follows HAProxy so that checks of many backends never fire in
/// bursts: the first checks are spread evenly over one interval by position
/// (HAProxy's start spread), and every later delay is drawn within ±jitter
/// of its interval. A backend that is down is checked every `down_interval`
/// (HAProxy's `downinter`), and one whose state is changing every
/// `fast_interval` (`fastinter`). Checks run as scheduled tasks on the
/// event loops (ping on NIO's thread pool); nothing is locked across I/O.
///
/// Metrics: `fulcrum_health_checks_total{cluster, backend, result}` counts
/// every check (`pass`, `fail`); the state changes checks cause are counted
/// with every other one in `fulcrum_cluster_events_total` (``ProxyMetrics``),
/// so an alert can fire on a flapping backend without parsing logs.
public final class ActiveHealthChecker: Sendable {
    /// Each backend's next scheduled check, and whether checking stopped.
    private let state = Mutex<(tasks: [Int: Scheduled<Void>], stopped: Bool)>(([:], false))
    private let cluster: Cluster
    /// What each checked backend gets, by backend index.
    private let plans: [Int: Plan]
    private let logger: Logger
    /// Told of every state change after it is logged (tests wait on it).
    private let observer: (@Sendable (ClusterEvent) -> Void)?
    private let metrics: any MetricsFactory

    private struct Plan: Sendable {
        var settings: HealthCheckConfig
        var probe: any HealthProbe
        var target: CheckTarget
    }

    /// Why a checker could not be built.
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks every backend of `cluster` the same way.
    /// - Throws: ``SetupError`` when the check cannot run on this machine
    ///   (ping without an ICMP socket).
    public convenience init(
        cluster: Cluster,
        settings: HealthCheckConfig,
        logger: Logger,
        metrics: any MetricsFactory = MetricsSystem.factory,
        observer: (@Sendable (ClusterEvent) -> Void)? = nil
    ) throws(SetupError) {
        var checks: [String: HealthCheckConfig] = [:]
        for backend in cluster.backends { checks[backend.id] = settings }
        try self.init(cluster: cluster, checks: checks, logger: logger, metrics: metrics, observer: observer)
    }

    /// Checks the backends named in `checks` (by backend id), each with its
    /// own settings; backends not named are not checked.
    /// - Throws: ``SetupError`` when a check cannot run on this machine
    ///   (ping without an ICMP socket), before any check starts.
    ///
    /// `observer` is told of every state change after it is logged, for
    /// callers that act on changes (tests wait on it instead of polling).
    /// `metrics` is the global factory unless a test passes its own.
    public init(
        cluster: Cluster,
        checks: [String: HealthCheckConfig],
        logger: Logger,
        metrics: any MetricsFactory = MetricsSystem.factory,
        observer: (@Sendable (ClusterEvent) -> Void)? = nil
    ) throws(SetupError) {
        var plans: [Int: Plan] = [:]
        var ping: PingHealthProbe.SocketKind?
        for (index, backend) in cluster.backends.enumerated() {
            guard let settings = checks[backend.id] else { continue }
            let probe: any HealthProbe
            switch settings.type {
            case .http, .application: probe = HTTPHealthProbe(settings: settings)
            case .tcp, .agent: probe = TCPHealthProbe(settings: settings)
            case .ping:
                if ping == nil {
                    do {
                        ping = try PingHealthProbe.socketKind()
                    } catch {
                        throw SetupError(description: "cluster '\(cluster.name)': \(error)")
                    }
                    logger.info("cluster=\(cluster.name) ping checks use a \(ping!.rawValue) ICMP socket")
                }
                probe = PingHealthProbe(via: ping!, timeout: settings.timeout)
            }
            let target = CheckTarget(
                host: backend.address.host,
                port: settings.port ?? backend.address.port,
                hostHeader: backend.address.description
            )
            plans[index] = Plan(settings: settings, probe: probe, target: target)
        }
        self.cluster = cluster
        self.plans = plans
        self.logger = logger
        self.metrics = metrics
        self.observer = observer
    }

    /// Starts checking. The first checks are spread evenly over one
    /// interval, by the backends' positions.
    public func start(group: any EventLoopGroup) {
        let indices = plans.keys.sorted()
        for (position, index) in indices.enumerated() {
            let offset = Self.startOffset(
                position: position,
                of: indices.count,
                interval: plans[index]!.settings.interval
            )
            schedule(index, on: group.next(), after: .nanoseconds(offset.nanoseconds))
        }
    }

    /// When the check at `position` of `count` first runs: evenly spread
    /// over one interval, as HAProxy spreads its servers' first checks.
    package static func startOffset(position: Int, of count: Int, interval: Duration) -> Duration {
        .nanoseconds(Int64(Double(interval.nanoseconds) * Double(position) / Double(max(count, 1))))
    }

    /// Stops scheduling checks; checks in flight finish and are ignored.
    public func stop() {
        let tasks = state.withLock { state in
            state.stopped = true
            return state.tasks.values
        }
        for task in tasks { task.cancel() }
    }

    /// The kind of ICMP socket ping checks would use here, or why none can
    /// be opened; for `fulcrum serve`'s startup line and tests.
    public static func pingSocketKind() -> Result<String, SetupError> {
        do {
            return .success(try PingHealthProbe.socketKind().rawValue)
        } catch {
            return .failure(SetupError(description: error.description))
        }
    }

    private func schedule(_ index: Int, on loop: any EventLoop, after delay: TimeAmount) {
        let task = loop.scheduleTask(in: delay) { [self] in
            check(index, on: loop).whenComplete { [self] result in
                let verdict: CheckVerdict
                switch result {
                case .success(let found): verdict = found
                case .failure(let error): verdict = .fail("\(error)")
                }
                guard !state.withLock({ $0.stopped }) else { return }
                record(verdict, backend: index)
                schedule(index, on: loop, after: nextDelay(index))
            }
        }
        let stopped = state.withLock { state in
            if !state.stopped { state.tasks[index] = task }
            return state.stopped
        }
        if stopped { task.cancel() }
    }

    /// Feeds a verdict to the cluster, counts it, then logs and counts what
    /// changed.
    private func record(_ verdict: CheckVerdict, backend index: Int) {
        let backend = cluster.backends[index].id
        let passed = if case .success = verdict.result { true } else { false }
        Counter(
            label: "fulcrum_health_checks_total",
            dimensions: [("cluster", cluster.name), ("backend", backend), ("result", passed ? "pass" : "fail")],
            factory: metrics
        ).increment()
        var events = cluster.recordCheck(verdict.result, weightPercent: verdict.weightPercent, backend: index)
        if let admin = verdict.admin {
            events += cluster.setAgentAdminState(admin, backend: index)
        }
        guard !events.isEmpty else { return }
        for event in events {
            if event.kind == .down { logger.warning("\(event)") } else { logger.info("\(event)") }
            observer?(event)
        }
    }

    /// The delay before a backend's next check: the interval for its state,
    /// within ±jitter.
    private func nextDelay(_ index: Int) -> TimeAmount {
        let settings = plans[index]!.settings
        let health = cluster.health(of: index)
        let base: Duration
        if health.progress > 0 {
            base = settings.fastInterval ?? settings.interval
        } else if health.status == .down {
            base = settings.downInterval ?? settings.interval
        } else {
            base = settings.interval
        }
        var random = FastRandom()
        return .nanoseconds(Self.jittered(base, percent: settings.jitterPercent, unit: random.unit()).nanoseconds)
    }

    /// `base` moved by up to ±`percent`%, where `unit` (uniform in [0, 1))
    /// picks the point: 0 is the shortest, 0.5 the base itself.
    package static func jittered(_ base: Duration, percent: Double, unit: Double) -> Duration {
        .nanoseconds(Int64(Double(base.nanoseconds) * (1 + percent / 100 * (2 * unit - 1))))
    }

    /// One check, bounded by the timeout.
    private func check(_ index: Int, on loop: any EventLoop) -> EventLoopFuture<CheckVerdict> {
        let plan = plans[index]!
        let promise = loop.makePromise(of: CheckVerdict.self)
        let kind = plan.probe.kind
        let timeout = plan.settings.timeout
        let deadline = loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
            promise.fail(CheckFailure("\(kind) check: timeout after \(DurationText.format(timeout))"))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        plan.probe.run(plan.target, on: loop, promise: promise)
        return promise.futureResult
    }
}

