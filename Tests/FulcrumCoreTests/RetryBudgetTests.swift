import FulcrumCore
import Testing

@Suite("Retry budget (Finagle)")
struct RetryBudgetTests {
    static let start = Instant(nanoseconds: 1_000_000_000)

    /// Withdraws until refused; returns how many were granted.
    static func drain(_ budget: inout RetryBudget, at now: Instant) -> Int {
        var granted = 0
        while budget.tryWithdraw(now: now) {
            granted += 1
            if granted > 100_000 { break }
        }
        return granted
    }

    @Test("the defaults are Finagle's 20% and 10 a second, with 100 tokens at most; a new budget holds one second's reserve")
    func defaults() throws {
        var budget = try RetryBudget(now: Self.start)
        #expect(budget.percent == 20 && budget.minPerSecond == 10 && budget.capacity == 100)
        let drained = Self.drain(&budget, at: Self.start)
        #expect(drained == 10)
    }

    @Test("each request deposits a fifth of a retry: 50 requests pay for 10 more retries")
    func deposits() throws {
        var budget = try RetryBudget(now: Self.start)
        _ = Self.drain(&budget, at: Self.start)
        for _ in 0..<50 { budget.deposit() }
        let drained = Self.drain(&budget, at: Self.start)
        #expect(drained == 10)
    }

    @Test("a burst after healthy traffic is paid from savings, up to the capacity")
    func burst() throws {
        var budget = try RetryBudget(now: Self.start)
        for _ in 0..<10_000 { budget.deposit() }
        #expect(budget.balance == 100)
        let drained = Self.drain(&budget, at: Self.start)
        #expect(drained == 100)
    }

    @Test("under sustained failure retries stay near 20% of requests plus the reserve")
    func sustainedFailure() throws {
        var budget = try RetryBudget(now: Self.start)
        _ = Self.drain(&budget, at: Self.start)
        // 1,000 requests a second for 10 s, every one failing and asking
        // for a retry: about 200 + 10 retries a second are granted.
        var granted = 0
        for millisecond in 1...10_000 {
            let now = Self.start.advanced(by: .milliseconds(millisecond))
            budget.deposit()
            if budget.tryWithdraw(now: now) { granted += 1 }
        }
        #expect((2_000...2_110).contains(granted), "\(granted) retries for 10,000 failed requests")
    }

    @Test("the reserve refills with time even without traffic")
    func reserve() throws {
        var budget = try RetryBudget(now: Self.start)
        _ = Self.drain(&budget, at: Self.start)
        let refused = budget.tryWithdraw(now: Self.start)
        #expect(!refused)
        #expect(Self.drain(&budget, at: Self.start.advanced(by: .milliseconds(500))) == 5)
    }

    @Test("0% with no reserve never retries")
    func none() throws {
        var budget = try RetryBudget(percent: 0, minPerSecond: 0, now: Self.start)
        for _ in 0..<1_000 { budget.deposit() }
        let granted = budget.tryWithdraw(now: Self.start.advanced(by: .seconds(60)))
        #expect(!granted)
    }

    @Test("settings out of range are refused", arguments: [(-1.0, 10.0), (101, 10), (20, -1)])
    func invalid(percent: Double, minPerSecond: Double) {
        #expect(throws: CoreError.self) { try RetryBudget(percent: percent, minPerSecond: minPerSecond, now: Self.start) }
    }
}
