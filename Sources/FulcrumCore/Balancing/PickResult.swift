/// The outcome of a pick.
public enum PickResult: Sendable, Hashable {
    /// Send to the backend at this index in the snapshot's `backends`.
    case backend(Int)
    /// No backend can take this request, and why.
    case unavailable(Unavailability)

    /// The picked backend's index, if any.
    public var index: Int? {
        if case .backend(let index) = self { return index }
        return nil
    }
}

/// Why a pick found no backend. Shown to operators and mapped to a 503.
public enum Unavailability: String, Sendable, Hashable, CustomStringConvertible {
    /// The cluster has no backends configured.
    case noBackends = "no backends configured"
    /// Every backend is down, ejected, draining or in maintenance, and panic
    /// routing is off or has nothing to use.
    case noneAvailable = "no backend is available"
    /// Every available backend is at its in-flight limit (`first`).
    case atCapacity = "every backend is at its limit"

    public var description: String { rawValue }
}
