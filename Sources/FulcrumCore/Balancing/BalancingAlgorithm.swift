import FulcrumHashing

/// The balancing algorithms, with their parameters, by the names users write.
public enum BalancingAlgorithm: Sendable, Hashable, CustomStringConvertible {
    /// Strict rotation over the backends that can take traffic.
    case roundRobin
    /// nginx's smooth weighted round robin: weights {5,1,1} give `a a b a c a a`.
    case weightedRoundRobin
    /// Fewest in flight relative to weight (HAProxy's `leastconn`); ties rotate.
    case leastConnections
    /// Peak EWMA latency × (in flight + 1) / weight, by power of two choices
    /// (Finagle, Linkerd), with a decay time and an exploration floor.
    case leastResponseTime(decay: Duration, explorationPercent: Double)
    /// Uniform random.
    case random
    /// Fewer in flight of two random choices (Envoy's `LEAST_REQUEST`).
    case powerOfTwo
    /// A consistent ring over the client address; `prefix24` hashes IPv4 /24
    /// networks as nginx's `ip_hash` does.
    case ipHash(prefix24: Bool)
    /// Consistent hashing on a request key with one of FulcrumHashing's
    /// methods, optionally with bounded loads (factor c ≥ 1).
    case hash(method: HashAlgorithm, bound: Double?)
    /// The first backend in configuration order with spare capacity (HAProxy's `first`).
    case first

    /// Peak EWMA's defaults: τ = 10 s, 1% exploration.
    public static let leastResponseTimeDefault = BalancingAlgorithm.leastResponseTime(
        decay: .seconds(10),
        explorationPercent: 1
    )

    /// The names users write, for error messages.
    public static let acceptedNames =
        "round-robin, weighted-round-robin, least-connections, least-response-time, random, power-of-two, ip-hash, hash, first"

    /// The algorithm for a name, with default parameters; `nil` if unknown.
    /// `hash` defaults to the `ring` method.
    public init?(name: String) {
        switch name {
        case "round-robin": self = .roundRobin
        case "weighted-round-robin": self = .weightedRoundRobin
        case "least-connections": self = .leastConnections
        case "least-response-time": self = Self.leastResponseTimeDefault
        case "random": self = .random
        case "power-of-two": self = .powerOfTwo
        case "ip-hash": self = .ipHash(prefix24: false)
        case "hash": self = .hash(method: .ring, bound: nil)
        case "first": self = .first
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .roundRobin: "round-robin"
        case .weightedRoundRobin: "weighted-round-robin"
        case .leastConnections: "least-connections"
        case .leastResponseTime: "least-response-time"
        case .random: "random"
        case .powerOfTwo: "power-of-two"
        case .ipHash: "ip-hash"
        case .hash: "hash"
        case .first: "first"
        }
    }

    public var description: String {
        switch self {
        case .hash(let method, let bound): "hash (\(method)\(bound.map { ", bound \($0)" } ?? ""))"
        case .ipHash(let prefix24): prefix24 ? "ip-hash (/24)" : "ip-hash"
        default: name
        }
    }

    /// Whether the algorithm places requests by a key, so that a pinned or
    /// hashed request may still reach a draining backend when allowed.
    public var isSticky: Bool {
        switch self {
        case .ipHash, .hash: true
        default: false
        }
    }

    func validate() throws(CoreError) {
        switch self {
        case .leastResponseTime(let decay, let exploration):
            guard decay > .zero else {
                throw CoreError(code: .invalidAlgorithm, message: "least-response-time decay must be above 0s, got \(decay)")
            }
            guard (0...50).contains(exploration) else {
                throw CoreError(
                    code: .invalidAlgorithm,
                    message: "least-response-time exploration must be 0 to 50 percent, got \(exploration)"
                )
            }
        case .hash(_, let bound?):
            guard bound.isFinite, bound >= 1, bound <= 100 else {
                throw CoreError(code: .invalidAlgorithm, message: "hash bound must be from 1.0 to 100, such as 1.25; got \(bound)")
            }
        default:
            break
        }
    }
}
