import Synchronization

/// A server the balancer can send requests or connections to.
///
/// The configuration (id, address, weight, backup flag, metadata) is
/// immutable. What changes on every request, the counters in ``load``, is
/// held in atomics here rather than in the pool snapshot, so that pickers on
/// every event loop can read and update it without a lock and without a new
/// snapshot per request.
public final class Backend: Sendable, CustomStringConvertible {
    /// The largest weight accepted; 0 means "only sticky traffic".
    public static let maxWeight = 256

    /// Stable identity: the configured name, or `host:port` when none is given.
    public let id: String
    /// Where to connect.
    public let address: BackendAddress
    /// Configured weight, 0–256. 0 takes only requests pinned to it by
    /// stickiness (a cookie or a hash key).
    public let weight: Int
    /// Used only when no primary can take traffic.
    public let isBackup: Bool
    /// The most requests or connections in flight at once, or `nil` for no
    /// limit. The `first` algorithm fills backends up to this.
    public let maxInFlight: Int?
    /// Free-form labels such as `zone`.
    public let metadata: [String: String]
    /// Live counters.
    public let load: BackendLoad

    /// - Throws: ``CoreError`` for a weight outside 0–256 or an empty id.
    public init(
        id: String? = nil,
        address: BackendAddress,
        weight: Int = 1,
        isBackup: Bool = false,
        maxInFlight: Int? = nil,
        metadata: [String: String] = [:]
    ) throws(CoreError) {
        let id = id ?? address.description
        guard !id.isEmpty else {
            throw CoreError(code: .invalidBackend, message: "a backend needs a name or an address")
        }
        guard (0...Self.maxWeight).contains(weight) else {
            throw CoreError(
                code: .invalidBackend,
                message: "backend '\(id)' has weight \(weight); weights are whole numbers from 0 to \(Self.maxWeight) "
                    + "(0 takes only sticky traffic)"
            )
        }
        if let maxInFlight, maxInFlight < 1 {
            throw CoreError(
                code: .invalidBackend,
                message: "backend '\(id)' has a limit of \(maxInFlight) in flight; it must be 1 or more"
            )
        }
        self.id = id
        self.address = address
        self.weight = weight
        self.isBackup = isBackup
        self.maxInFlight = maxInFlight
        self.metadata = metadata
        self.load = BackendLoad()
    }

    public var description: String { id }
}

/// A backend's host and port.
public struct BackendAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 hosts in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
