import FulcrumCore
import NIOCore

/// One kind of active check. A probe starts one check and completes
/// `promise` with its verdict, or fails it with a ``CheckFailure`` whose text
/// is the reason operators see; the checker owns the timeout and fails the
/// promise when it fires, and the probe releases what it holds (closes its
/// connection) when the promise completes either way.
protocol HealthProbe: Sendable {
    /// `http`, `tcp`, …: the first word of every reason.
    var kind: String { get }

    func run(_ target: CheckTarget, on loop: any EventLoop, promise: EventLoopPromise<CheckVerdict>)
}

/// Where one backend's checks go.
struct CheckTarget: Sendable {
    var host: String
    /// The backend's port, or the check's own `port`.
    var port: Int
    /// The backend's `host:port`, the Host header unless the check sets one.
    var hostHeader: String
}

/// Why a check failed, shown to operators.
struct CheckFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
