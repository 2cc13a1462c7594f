/// How a cluster balances and judges its backends. Every default is
/// documented here, in one place, and mirrors the product it comes from.
public struct ClusterSettings: Sendable {
    /// The balancing algorithm. Default: round robin.
    public var algorithm: BalancingAlgorithm = .roundRobin
    /// Below this share of available primaries (percent), picks go to every
    /// primary an operator has not taken out, rather than overloading the
    /// few healthy ones. 0 turns panic routing off. Default 50, Envoy's.
    public var panicThresholdPercent: Double = 50
    /// Consecutive successes that bring a down backend up. Default 2, HAProxy's.
    public var rise = HealthStateMachine.defaultRise
    /// Consecutive failures that take an up backend down. Default 3, HAProxy's.
    public var fall = HealthStateMachine.defaultFall
    /// A backend's health before any check has run. Default up.
    public var initialHealth: InitialHealth = .up
    /// Rise, fall and initial state for backends whose checks differ from
    /// the cluster's, by backend id.
    public var backendHealth: [String: HealthThresholds] = [:]
    /// Passive ejection on consecutive gateway failures (Envoy's).
    public var outlierDetection = OutlierDetectionSettings.defaults
    /// Weight ramp for backends that come (back) up. Default off.
    public var slowStart = SlowStartSettings.defaults
    /// Whether requests pinned to a draining backend by stickiness (a cookie,
    /// or a hash key) may still go to it. Default false: draining means no
    /// new requests at all.
    public var allowStickyToDraining = false
    /// Under sustained failure, retries add at most this percentage of the
    /// requests (see ``RetryBudget``). Default 20, Finagle's.
    public var retryBudgetPercent = RetryBudget.defaultPercent
    /// Retries a second allowed whatever the traffic. Default 10, Finagle's.
    public var retryMinPerSecond = RetryBudget.defaultMinPerSecond

    public static var defaults: ClusterSettings { ClusterSettings() }

    /// The thresholds that apply to the backend with this id: its own, or
    /// the cluster's.
    public func healthThresholds(for id: String) -> HealthThresholds {
        backendHealth[id] ?? HealthThresholds(rise: rise, fall: fall, initial: initialHealth)
    }

    public init(algorithm: BalancingAlgorithm = .roundRobin) {
        self.algorithm = algorithm
    }

    func validate() throws(CoreError) {
        guard (0...100).contains(panicThresholdPercent) else {
            throw CoreError(
                code: .invalidSetting,
                message: "panic threshold \(panicThresholdPercent)% is out of range; use 0 (off) to 100"
            )
        }
        try outlierDetection.validate()
        try slowStart.validate()
    }
}
