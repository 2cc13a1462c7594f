import Synchronization

/// Envoy's retry budget: retries in flight may be at most `percent`% of the
/// requests in flight, but at least `minConcurrency` are always allowed.
///
/// A fixed retry count multiplies load exactly when a cluster is failing
/// (each failed request becomes three), which turns a brownout into an
/// outage. A budget tied to current traffic caps that amplification at
/// `1 + percent/100`, while the minimum keeps retries possible when traffic
/// is light. This is Envoy's `retry_budget` (`budget_percent` default 20%,
/// `min_retry_concurrency` default 3), as in `ResourceManagerImpl::RetryBudgetImpl`.
///
/// One budget is shared by every event loop of a cluster, so it is a class
/// around an atomic counter: the reservation is a compare-exchange loop, and
/// two threads cannot both take the last slot.
public final class RetryBudget: Sendable {
    public static let defaultPercent = 20.0
    public static let defaultMinConcurrency = 3

    /// Retries in flight allowed per 100 requests in flight, 0–100.
    public let percent: Double
    /// Retries in flight allowed however few requests there are, 0 or more.
    public let minConcurrency: Int

    private let retries = Atomic<Int>(0)

    /// - Throws: ``CoreError`` with code `.invalidSetting` when `percent` is
    ///   outside 0–100 or `minConcurrency` is negative.
    public init(
        percent: Double = defaultPercent,
        minConcurrency: Int = defaultMinConcurrency
    ) throws(CoreError) {
        guard (0...100).contains(percent) else {
            throw CoreError(
                code: .invalidSetting,
                message: "retry budget percent is \(percent); it must be a number from 0 to 100"
            )
        }
        guard minConcurrency >= 0 else {
            throw CoreError(
                code: .invalidSetting,
                message: "retry budget minConcurrency is \(minConcurrency); it must be a whole number, 0 or more"
            )
        }
        self.percent = percent
        self.minConcurrency = minConcurrency
    }

    /// The most retries allowed in flight with `activeRequests` requests in
    /// flight (retries included, as Envoy counts them):
    /// `max(minConcurrency, ⌊percent × activeRequests / 100⌋)`.
    ///
    /// The product comes before the division so that whole percentages give
    /// exact results: Envoy's `percent / 100 × active` makes 29% of 100 come
    /// to 28.999… and allows 28.
    /// - Complexity: O(1).
    public func limit(activeRequests: Int) -> Int {
        let share = percent * Double(max(0, activeRequests)) / 100
        // Double(Int.max) is 2⁶³, which Int cannot hold.
        let budget = share >= Double(Int.max) ? Int.max : Int(share)
        return max(minConcurrency, budget)
    }

    /// Reserves a retry if the budget allows one now. On `true` the caller
    /// must call ``release()`` when the retry ends, however it ends.
    /// - Complexity: O(1); the loop repeats only while other threads change
    ///   the count between our read and our write.
    public func tryAcquire(activeRequests: Int) -> Bool {
        let limit = limit(activeRequests: activeRequests)
        var current = retries.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = retries.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Ends a retry reserved by ``tryAcquire(activeRequests:)``.
    ///
    /// A release without a reservation is a bug in the caller; it trips an
    /// assertion in debug builds, and in release builds the count stays at
    /// zero rather than going negative and granting extra retries forever.
    /// - Complexity: O(1).
    public func release() {
        var current = retries.load(ordering: .relaxed)
        while current > 0 {
            let (exchanged, original) = retries.compareExchange(
                expected: current,
                desired: current - 1,
                ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
        assertionFailure("RetryBudget.release() without a matching tryAcquire")
    }

    /// Retries in flight now.
    public var activeRetries: Int { retries.load(ordering: .relaxed) }
}
