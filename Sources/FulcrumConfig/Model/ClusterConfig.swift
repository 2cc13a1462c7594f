import FulcrumCore
import FulcrumHashing

/// A named group of backends and how to balance and judge them.
public struct ClusterConfig: Sendable, Hashable {
    /// The key under `clusters`.
    public var name: String
    /// Default round robin. `hash` carries `hash_method` (default ring) and
    /// the optional `hash_bound`.
    public var algorithm: BalancingAlgorithm
    /// What `hash` hashes; required with it, and only allowed with it.
    public var hashKey: RequestKey?
    /// `hash_key: ip_port`: with `hashKey` `.clientIP`, the client's port is
    /// hashed too, so one client's connections (or UDP flows) spread over
    /// the backends instead of all landing on one. It is a flag rather than
    /// a ``RequestKey`` case because it means something only per connection.
    public var hashIncludesClientPort: Bool
    /// The PROXY protocol header sent at the start of every backend
    /// connection, so the backend sees the client's address. Default off.
    public var proxyProtocol: ProxyProtocolSend
    /// At least one, with unique names and at least one weight above 0.
    public var backends: [BackendConfig]
    /// Upstream timeouts.
    public var timeouts: UpstreamTimeouts
    /// Retries of a failed request on another backend. Default 2.
    public var retries: Int
    /// Retries may add at most this percentage of load. Default 20, Envoy's.
    public var retryBudgetPercent: Double
    /// Below this share of available primaries (percent), spread over all of
    /// them. 0 is off. Default 50, Envoy's.
    public var panicThresholdPercent: Double
    /// Weight ramp for backends that come (back) up. Default off (window 0s).
    public var slowStart: SlowStartSettings
    /// Passive ejection on consecutive gateway failures. Default: Envoy's,
    /// with max_ejection_percent 50.
    public var outlierDetection: OutlierDetectionSettings
    /// Active health checks, or `nil` (the default) for none. A backend's
    /// own `health_check` overrides it key by key.
    public var healthCheck: HealthCheckConfig?

    /// The check that applies to `backend`: its own, else the cluster's,
    /// else none.
    public func healthCheck(for backend: BackendConfig) -> HealthCheckConfig? {
        backend.healthCheck ?? healthCheck
    }

    /// What a cluster writes before the payload of each backend connection.
    public enum ProxyProtocolSend: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Nothing: the backend sees the balancer's address.
        case off
        /// The text header (`PROXY TCP4 …\r\n`), for backends that only read v1.
        case v1
        /// The binary header, which every current receiver reads and which
        /// also carries UDP flows.
        case v2

        public var description: String { rawValue }
    }

    /// The hash method when `algorithm: hash` gives none.
    public static let defaultHashMethod = HashAlgorithm.ring
    /// The methods `hash_method` accepts.
    public static let hashMethods: [HashAlgorithm] = [.ring, .ketama, .nginx, .maglev, .rendezvous, .jump]
    /// The range `retries` accepts.
    public static let retriesRange = 0...100

    /// Every default, with no backends and the name `example`.
    public static var defaults: Self { .init(name: "example") }

    public init(
        name: String,
        algorithm: BalancingAlgorithm = .roundRobin,
        hashKey: RequestKey? = nil,
        hashIncludesClientPort: Bool = false,
        proxyProtocol: ProxyProtocolSend = .off,
        backends: [BackendConfig] = [],
        timeouts: UpstreamTimeouts = .defaults,
        retries: Int = 2,
        retryBudgetPercent: Double = RetryBudget.defaultPercent,
        panicThresholdPercent: Double = ClusterSettings.defaults.panicThresholdPercent,
        slowStart: SlowStartSettings = .defaults,
        outlierDetection: OutlierDetectionSettings = .defaults,
        healthCheck: HealthCheckConfig? = nil
    ) {
        self.name = name
        self.algorithm = algorithm
        self.hashKey = hashKey
        self.hashIncludesClientPort = hashIncludesClientPort
        self.proxyProtocol = proxyProtocol
        self.backends = backends
        self.timeouts = timeouts
        self.retries = retries
        self.retryBudgetPercent = retryBudgetPercent
        self.panicThresholdPercent = panicThresholdPercent
        self.slowStart = slowStart
        self.outlierDetection = outlierDetection
        self.healthCheck = healthCheck
    }
}

/// One backend of a cluster.
public struct BackendConfig: Sendable, Hashable {
    /// Unique in the cluster. Default: the address as written, `host:port`.
    public var name: String
    public var address: BackendAddress
    /// 0–256, default 1. 0 takes only requests pinned to it by stickiness.
    public var weight: Int
    /// Used only when no primary can take traffic. Default false.
    public var backup: Bool
    /// The most requests in flight at once, or `nil` (the default) for no limit.
    public var maxInFlight: Int?
    /// This backend's own health check, with the cluster's `health_check`
    /// (or the defaults) under the keys it sets; `nil` (the default) uses
    /// the cluster's as it is.
    public var healthCheck: HealthCheckConfig?

    public init(
        name: String? = nil,
        address: BackendAddress,
        weight: Int = 1,
        backup: Bool = false,
        maxInFlight: Int? = nil,
        healthCheck: HealthCheckConfig? = nil
    ) {
        self.name = name ?? address.description
        self.address = address
        self.weight = weight
        self.backup = backup
        self.maxInFlight = maxInFlight
        self.healthCheck = healthCheck
    }
}

/// Timeouts toward a cluster's backends.
public struct UpstreamTimeouts: Sendable, Hashable {
    /// To establish a connection. Default 2 s.
    public var connect: Duration
    /// From sending the request to the first byte of the response. Default 30 s.
    public var firstByte: Duration
    /// How long a pooled backend connection may sit idle. Default 60 s.
    public var idle: Duration
    /// How long one attempt may wait for its first response byte before the
    /// request moves to another backend (when it may be retried), as
    /// Envoy's `per_try_timeout`. Default none: an attempt waits `first_byte`,
    /// then the client gets 504.
    public var perTry: Duration?

    public static var defaults: Self { .init() }

    public init(
        connect: Duration = .seconds(2),
        firstByte: Duration = .seconds(30),
        idle: Duration = .seconds(60),
        perTry: Duration? = nil
    ) {
        self.connect = connect
        self.firstByte = firstByte
        self.idle = idle
        self.perTry = perTry
    }
}
