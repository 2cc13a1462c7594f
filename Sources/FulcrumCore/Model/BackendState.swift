/// What an operator has said about a backend, apart from its health.
public enum AdminState: String, Sendable, Hashable {
    /// Takes traffic when healthy.
    case enabled
    /// Takes no new traffic (except requests pinned to it by stickiness, when
    /// the cluster allows that); work in flight completes.
    case draining
    /// Takes no traffic at all.
    case maintenance
}

/// A backend's routing state in one pool snapshot, as users see it.
public enum BackendState: Sendable, Hashable, CustomStringConvertible {
    /// Healthy and taking its full weight.
    case up
    /// Healthy and ramping up; `factor` in (0, 1) scales its weight.
    case slowStart(factor: Double)
    /// Failing active checks.
    case down
    /// Ejected by passive outlier detection until the given instant.
    case ejected(until: Instant)
    /// Draining at an operator's request.
    case draining
    /// Out of service at an operator's request.
    case maintenance

    /// Whether the backend can take new, unpinned traffic in normal operation.
    public var isAvailable: Bool {
        switch self {
        case .up, .slowStart: true
        case .down, .ejected, .draining, .maintenance: false
        }
    }

    /// Whether panic routing may use it: everything but operator decisions.
    public var isPanicUsable: Bool {
        switch self {
        case .up, .slowStart, .down, .ejected: true
        case .draining, .maintenance: false
        }
    }

    /// The factor that scales its weight now.
    public var weightFactor: Double {
        if case .slowStart(let factor) = self { return factor }
        return 1
    }

    public var description: String {
        switch self {
        case .up: "UP"
        case .slowStart(let factor): "UP (slow start \(Int((factor * 100).rounded()))%)"
        case .down: "DOWN"
        case .ejected: "EJECTED"
        case .draining: "DRAINING"
        case .maintenance: "MAINT"
        }
    }
}
