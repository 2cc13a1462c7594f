/// A change in a cluster that operators should see: logged with its reason
/// and counted in metrics by the caller (the core does no I/O).
public struct ClusterEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case up = "UP"
        case down = "DOWN"
        /// The share of its weight a backend's checks grant changed.
        case weight = "WEIGHT"
        case ejected = "EJECTED"
        case returned = "RETURNED"
        case draining = "DRAINING"
        case maintenance = "MAINT"
        case enabled = "ENABLED"
        case slowStartEnded = "SLOW START ENDED"
        case panicStarted = "PANIC"
        case panicEnded = "PANIC ENDED"
        case backupsActive = "BACKUPS ACTIVE"
        case primariesBack = "PRIMARIES BACK"
        case unavailable = "UNAVAILABLE"
    }

    public var cluster: String
    /// The backend's id, or nil for a cluster-wide event.
    public var backend: String?
    public var kind: Kind
    public var reason: String

    /// `cluster=api backend=b2 DOWN (http check: status 500, 3/3)`
    public var description: String {
        "cluster=\(cluster)" + (backend.map { " backend=\($0)" } ?? "") + " \(kind.rawValue) (\(reason))"
    }
}
