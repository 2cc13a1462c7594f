import FulcrumCore

/// What one active check found: the result for the rise/fall machine, and
/// what the backend asked for besides (a share of its weight, an operator
/// state), which application and agent checks can report.
package struct CheckVerdict: Sendable, Equatable {
    package var result: CheckResult
    /// 0–100, or `nil` to leave the share as it is.
    package var weightPercent: Double?
    /// An agent's `drain`, `maint` or `ready`.
    package var admin: AdminState?

    package static func pass(_ detail: String, weightPercent: Double? = nil, admin: AdminState? = nil) -> CheckVerdict {
        CheckVerdict(result: .success(detail: detail), weightPercent: weightPercent, admin: admin)
    }

    package static func fail(_ reason: String, weightPercent: Double? = nil, admin: AdminState? = nil) -> CheckVerdict {
        CheckVerdict(result: .failure(reason: reason), weightPercent: weightPercent, admin: admin)
    }
}
