import FulcrumCore

/// Active health checks (run by FulcrumProxy's `ActiveHealthChecker`).
/// Defaults follow HAProxy: a check every 2 s, rise 2, fall 3; jitter of 10%
/// spreads checks of many backends so they do not fire in bursts.
public struct HealthCheckConfig: Sendable, Hashable {
    public enum CheckType: String, Sendable, Hashable, CaseIterable {
        /// An HTTP request; a status in ``HealthCheckConfig/expectStatus``
        /// (and the body, when ``HealthCheckConfig/expectBody`` is set) passes.
        case http
        /// A TCP connect passes; with ``HealthCheckConfig/send`` and
        /// ``HealthCheckConfig/expect``, a reply containing the expected text
        /// (HAProxy's `tcp-check send`/`expect string`).
        case tcp
        /// An HTTP check whose body is `application/health+json`: `fail`
        /// fails, `warn` passes at ``HealthCheckConfig/warnWeightPercent``
        /// of the weight, and a failing required dependency fails.
        case application
        /// The backend's agent on ``HealthCheckConfig/port`` replies with
        /// `up`, `down`, `drain`, `maint`, `ready` or a weight such as
        /// `75%`, and the balancer applies it (HAProxy's `agent-check`).
        case agent
        /// ICMP echo, from a datagram ICMP socket where the kernel's
        /// `net.ipv4.ping_group_range` allows it, else a raw socket as root.
        case ping
    }

    /// Default http.
    public var type: CheckType
    /// For http and application checks. Default GET.
    public var method: String
    /// For http and application checks. Default `/health`.
    public var path: String
    /// The Host header of http and application checks. Default: the
    /// backend's address.
    public var host: String?
    /// The statuses that pass. Default 200-399.
    public var expectStatus: HTTPStatusSet
    /// Text the body must contain (http and application). Default none.
    public var expectBody: String?
    /// A regular expression the body must match (http and application).
    /// Default none.
    public var expectBodyRegex: String?
    /// Dependencies of an application check whose failure fails the check,
    /// matched against the names in `checks` (`db` matches `db` and
    /// `db:connection`). Default none: only the overall status counts.
    public var required: [String]
    /// The share of its weight a backend keeps while its application check
    /// says `warn`. Default 50.
    public var warnWeightPercent: Double
    /// Bytes a tcp check sends after connecting, or an agent check's
    /// `agent-send`; write `"PING\r\n"` in double quotes for YAML's escapes.
    public var send: String?
    /// Text a tcp check's reply must contain.
    public var expect: String?
    /// The port to check instead of the backend's: required for agent
    /// checks, optional for the others. Ignored by ping.
    public var port: Int?
    /// Between checks of a backend that is up and steady. Default 2 s, HAProxy's.
    public var interval: Duration
    /// Between checks while a backend is changing state (some checks in a row
    /// have disagreed with its state), HAProxy's `fastinter`. Default: the interval.
    public var fastInterval: Duration?
    /// Between checks of a backend that is down, HAProxy's `downinter`.
    /// Default: the interval.
    public var downInterval: Duration?
    /// For one check. Default 2 s.
    public var timeout: Duration
    /// Each delay is drawn from ±jitter% around its interval. Default 10.
    public var jitterPercent: Double
    /// Passed checks in a row that bring a backend up. Default 2, HAProxy's.
    public var rise: Int
    /// Failed checks in a row that take a backend down. Default 3, HAProxy's.
    public var fall: Int
    /// The state before the first check. Default `first_check`: down until
    /// the first check, whose pass brings the backend up at once.
    public var initial: InitialHealth

    /// The methods `method` accepts.
    public static let methods = ["GET", "HEAD", "POST", "OPTIONS"]

    public static var defaults: Self { .init() }

    public init(
        type: CheckType = .http,
        method: String = "GET",
        path: String = "/health",
        host: String? = nil,
        expectStatus: HTTPStatusSet = .defaults,
        expectBody: String? = nil,
        expectBodyRegex: String? = nil,
        required: [String] = [],
        warnWeightPercent: Double = 50,
        send: String? = nil,
        expect: String? = nil,
        port: Int? = nil,
        interval: Duration = .seconds(2),
        fastInterval: Duration? = nil,
        downInterval: Duration? = nil,
        timeout: Duration = .seconds(2),
        jitterPercent: Double = 10,
        rise: Int = HealthStateMachine.defaultRise,
        fall: Int = HealthStateMachine.defaultFall,
        initial: InitialHealth = .firstCheck
    ) {
        self.type = type
        self.method = method
        self.path = path
        self.host = host
        self.expectStatus = expectStatus
        self.expectBody = expectBody
        self.expectBodyRegex = expectBodyRegex
        self.required = required
        self.warnWeightPercent = warnWeightPercent
        self.send = send
        self.expect = expect
        self.port = port
        self.interval = interval
        self.fastInterval = fastInterval
        self.downInterval = downInterval
        self.timeout = timeout
        self.jitterPercent = jitterPercent
        self.rise = rise
        self.fall = fall
        self.initial = initial
    }

    /// The rise/fall counts and initial state for FulcrumCore.
    public var thresholds: HealthThresholds { HealthThresholds(rise: rise, fall: fall, initial: initial) }

    /// One line for the startup log, such as
    /// `http GET /health every 2s (±10%), timeout 2s, rise 2, fall 3, initial first_check`.
    public var summary: String {
        var what: String
        switch type {
        case .http, .application:
            what = "\(type.rawValue) \(method) \(path)"
            if expectStatus != .defaults { what += " expect \(expectStatus)" }
            if !required.isEmpty { what += " requires \(required.joined(separator: ","))" }
        case .tcp: what = send == nil ? "tcp connect" : "tcp send/expect"
        case .agent: what = "agent"
        case .ping: what = "ping"
        }
        if let port, type != .ping { what += " on port \(port)" }
        var timing = "every \(DurationText.format(interval)) (±\(ConfigReader.format(jitterPercent))%)"
        if let fastInterval { timing += ", \(DurationText.format(fastInterval)) while changing" }
        if let downInterval { timing += ", \(DurationText.format(downInterval)) while down" }
        return "\(what) \(timing), timeout \(DurationText.format(timeout)), rise \(rise), fall \(fall), "
            + "initial \(initial.rawValue)"
    }
}
