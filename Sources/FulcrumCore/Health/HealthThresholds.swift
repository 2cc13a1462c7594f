/// The rise/fall counts and initial state of one backend's checks.
///
/// A cluster has one set; a backend may carry its own (a canary checked
/// more strictly, a slow-starting JVM given more room), so the cluster keeps
/// these per backend rather than assuming one policy for all.
public struct HealthThresholds: Sendable, Hashable {
    /// Passed checks in a row that bring a down backend up, 1–1000.
    public var rise: Int
    /// Failed checks in a row that take an up backend down, 1–1000.
    public var fall: Int
    /// The state before the first check.
    public var initial: InitialHealth

    public init(
        rise: Int = HealthStateMachine.defaultRise,
        fall: Int = HealthStateMachine.defaultFall,
        initial: InitialHealth = .up
    ) {
        self.rise = rise
        self.fall = fall
        self.initial = initial
    }
}
