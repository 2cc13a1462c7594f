/// Finagle's retry budget: each request deposits `percent`/100 of a token,
/// each retry withdraws a whole one, and a reserve of `minPerSecond` tokens
/// a second is granted whatever the traffic.
///
/// A fixed retry count multiplies load exactly when a cluster is failing
/// (each failed request becomes three), which turns a brownout into an
/// outage. Under a sustained failure this budget caps the extra load at
/// `percent`% plus the reserve. Unlike a cap on retries *in flight* (Envoy's
/// `retry_budget`), it lets a burst through: when one backend of three dies,
/// every request it was serving fails in the same millisecond, and the
/// tokens saved up by healthy traffic retry them all, which is what keeps
/// the clients from seeing the failure. Savings are capped at `capacity`
/// tokens, so a long healthy spell cannot buy an unbounded storm.
///
/// One budget per event loop and cluster: a value type with no locks or
/// atomics, touched only by its loop. Loops carry equal shares of traffic,
/// so per-loop budgets add up to the cluster's.
///
/// Finagle's `RetryBudget` (defaults 20%, 10 a second) keeps deposits for a
/// 10 s window; the capacity stands in for that window here.
public struct RetryBudget: Sendable {
    public static let defaultPercent = 20.0
    public static let defaultMinPerSecond = 10.0
    public static let defaultCapacity = 100.0

    /// Tokens each request deposits, as a percentage of one retry, 0–100.
    public let percent: Double
    /// Tokens granted each second whatever the traffic.
    public let minPerSecond: Double
    /// The most tokens kept.
    public let capacity: Double
    /// Tokens available now.
    public private(set) var balance: Double
    private var refilledAt: Instant

    /// Starts with one second's reserve.
    ///
    /// - Throws: ``CoreError`` with code `.invalidSetting` when `percent` is
    ///   outside 0–100, or `minPerSecond` or `capacity` is negative.
    public init(
        percent: Double = defaultPercent,
        minPerSecond: Double = defaultMinPerSecond,
        capacity: Double = defaultCapacity,
        now: Instant
    ) throws(CoreError) {
        guard (0...100).contains(percent) else {
            throw CoreError(
                code: .invalidSetting,
                message: "retry budget percent is \(percent); it must be a number from 0 to 100"
            )
        }
        guard minPerSecond >= 0, capacity >= 0 else {
            throw CoreError(
                code: .invalidSetting,
                message: "retry budget reserve \(minPerSecond)/s and capacity \(capacity) must be 0 or more"
            )
        }
        self.percent = percent
        self.minPerSecond = minPerSecond
        self.capacity = capacity
        balance = min(capacity, minPerSecond)
        refilledAt = now
    }

    /// Records a request (not a retry).
    /// - Complexity: O(1).
    public mutating func deposit() {
        balance = min(capacity, balance + percent / 100)
    }

    /// Takes one token for a retry, if there is one.
    /// - Complexity: O(1).
    public mutating func tryWithdraw(now: Instant) -> Bool {
        if now > refilledAt {
            let seconds = Double(now.nanoseconds - refilledAt.nanoseconds) / 1e9
            balance = min(capacity, balance + seconds * minPerSecond)
            refilledAt = now
        }
        // Deposits are fractions that do not add up exactly in binary
        // (five times 0.2 is just under 1); allow for the rounding.
        guard balance >= 1 - 1e-9 else { return false }
        balance = max(0, balance - 1)
        return true
    }
}
