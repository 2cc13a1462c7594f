/// A backend's health as active checks see it, counted the way HAProxy
/// counts it (see ``HealthStateMachine``).
public enum HealthStatus: String, Sendable, Hashable {
    case up
    case down
}

/// The result of one active check.
public enum CheckResult: Sendable, Hashable {
    /// The check passed. `detail` is optional colour for logs, such as
    /// "HTTP 200"; a success needs no explanation, so it is never part of a
    /// transition's reason.
    case success(detail: String? = nil)
    /// The check failed. `reason` is short and shown to operators, such as
    /// "HTTP 500", "connect refused" or "timeout after 2s".
    case failure(reason: String)
}

/// A change of ``HealthStatus``, with the reason an operator sees.
public struct HealthTransition: Sendable, Hashable {
    public var from: HealthStatus
    public var to: HealthStatus
    /// Why, such as "http check: status 500, 3/3" or "2/2": the last
    /// failure and the count for a fall, the count alone for a rise.
    public var reason: String

    public init(from: HealthStatus, to: HealthStatus, reason: String) {
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// Rise/fall counting for active health checks, as HAProxy does it.
///
/// A backend that is up goes down after `fall` failed checks in a row, and a
/// backend that is down comes up after `rise` passed checks in a row. A single
/// result that agrees with the current status resets the count, so one flaky
/// check neither takes a backend out nor puts a broken one back. The defaults,
/// rise 2 and fall 3, are HAProxy's (`default-server rise 2 fall 3`), so a
/// configuration moved from HAProxy behaves the same; the tests check the
/// exact counts for several (rise, fall) pairs.
///
/// The machine is pure: it holds no clock and performs no checks. The checker
/// feeds it results and carries out the returned transition (publishing a new
/// pool snapshot, logging the reason).
public struct HealthStateMachine: Sendable {
    /// HAProxy's default number of passed checks that bring a backend up.
    public static let defaultRise = 2
    /// HAProxy's default number of failed checks that take a backend down.
    public static let defaultFall = 3
    /// The accepted range for `rise` and `fall`. Above 1000 a backend would
    /// take hours to change state at common check intervals, which is more
    /// likely a typo than an intent.
    public static let thresholdRange = 1...1000

    /// Passed checks in a row that bring a backend up.
    public let rise: Int
    /// Failed checks in a row that take a backend down.
    public let fall: Int

    public private(set) var status: HealthStatus
    /// The reason for the current status: the last transition's reason, or
    /// "initial state".
    public private(set) var reason: String
    /// Results in a row that disagree with ``status``: failures while up,
    /// successes while down. It runs from 0 up to (not including) the
    /// threshold, so it is what HAProxy shows as "UP 1/3" on a backend that
    /// is failing but not yet down.
    public private(set) var progress: Int = 0
    /// The last failure's reason, kept for the reason of a down transition.
    private var lastFailure: String = ""
    /// Down before the first check under ``InitialHealth/firstCheck``: the
    /// first result decides at once.
    private var awaitingFirstCheck: Bool

    /// - Parameters:
    ///   - rise: passed checks in a row that bring a down backend up, 1–1000.
    ///   - fall: failed checks in a row that take an up backend down, 1–1000.
    ///   - initial: the state before any check. HAProxy starts backends up,
    ///     so that a restart does not empty the pool while checks warm up;
    ///     ``InitialHealth/firstCheck`` lets the first check decide.
    /// - Throws: ``CoreError`` with code `.invalidSetting` when `rise` or
    ///   `fall` is outside 1–1000.
    public init(
        rise: Int = defaultRise,
        fall: Int = defaultFall,
        initial: InitialHealth = .up
    ) throws(CoreError) {
        for (name, value) in [("rise", rise), ("fall", fall)] where !Self.thresholdRange.contains(value) {
            throw CoreError(
                code: .invalidSetting,
                message: "health check \(name) is \(value); it must be a whole number from "
                    + "\(Self.thresholdRange.lowerBound) to \(Self.thresholdRange.upperBound)"
            )
        }
        self.rise = rise
        self.fall = fall
        self.status = initial == .up ? .up : .down
        self.awaitingFirstCheck = initial == .firstCheck
        self.reason = "initial state"
    }

    /// Feeds one check result.
    ///
    /// - Returns: the transition when this result changes ``status``, else `nil`.
    /// - Complexity: O(1), plus the reason string on a transition.
    public mutating func record(_ result: CheckResult) -> HealthTransition? {
        if awaitingFirstCheck {
            awaitingFirstCheck = false
            if case .success = result { return transition(to: .up, reason: "first check passed") }
        }
        switch (status, result) {
        case (.up, .success), (.down, .failure):
            // Agrees with the status: any streak toward a change is broken.
            progress = 0
            return nil
        case (.up, .failure(let failure)):
            progress += 1
            lastFailure = failure
            guard progress >= fall else { return nil }
            return transition(to: .down, reason: "\(lastFailure), \(fall)/\(fall)")
        case (.down, .success):
            progress += 1
            guard progress >= rise else { return nil }
            return transition(to: .up, reason: "\(rise)/\(rise)")
        }
    }

    private mutating func transition(to new: HealthStatus, reason: String) -> HealthTransition {
        let change = HealthTransition(from: status, to: new, reason: reason)
        status = new
        self.reason = reason
        progress = 0
        return change
    }
}
