import FulcrumCore

/// An address and port where clients connect.
public struct ListenerConfig: Sendable, Hashable {
    /// The protocol a listener speaks.
    public enum ListenerProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// HTTP/1.1 reverse proxying with routes. The default.
        case http
        /// TCP connections relayed to a cluster (the listener's `default_cluster`).
        case tcp
        /// UDP datagrams relayed to a cluster.
        case udp

        public var description: String { rawValue }

        /// UDP ports do not clash with TCP ones; http and tcp share TCP's.
        var transport: String { self == .udp ? "udp" : "tcp" }
    }

    /// For logs and metrics. Default `<address>:<port>`.
    public var name: String
    /// The local address to bind: an IPv4 or IPv6 address (without brackets)
    /// or a host name. Default `0.0.0.0`, every IPv4 address.
    public var address: String
    /// 1–65535. Required.
    public var port: Int
    /// Default http.
    public var `protocol`: ListenerProtocol
    /// The cluster for requests no route matches; `nil` answers them 404.
    public var defaultCluster: String?
    /// The load balancers in front that may send a PROXY protocol header
    /// (`proxy_protocol: accept` with `trusted: [CIDR, …]`), or `nil` (the
    /// default) for none. When set, every connection must come from one of
    /// these networks and start with a header; others are closed, because a
    /// listener that also took connections without a header would let any
    /// client claim any address.
    public var proxyProtocolTrusted: [IPNetwork]?
    /// For `http`: one access-log line per request, in this format, or
    /// `nil` (the default) for none.
    public var accessLog: AccessLogStyle?
    /// How long a `tcp` connection or `udp` flow may pass no bytes before it
    /// is closed; `nil` takes the protocol's default (``defaultIdleTimeout(for:)``).
    public var idleTimeout: Duration?
    /// For `udp`: the most client flows at once. A datagram that would open
    /// one more is dropped (and logged, at most once a second). Default 10,000.
    public var maxSessions: Int
    /// For `tcp`: the most relayed connections at once (HAProxy's
    /// `maxconn`); more wait in the listen queue until one ends. `nil` (the
    /// default) takes what the open-files limit allows: two descriptors per
    /// connection, less a reserve.
    public var maxConnections: Int?

    /// The access log's line formats.
    public enum AccessLogStyle: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// nginx's `combined` line, then cluster, backend, upstream time and retries.
        case combined
        /// One JSON object per line, for log shippers.
        case json

        public var description: String { rawValue }
    }

    /// The defaults, with port 8080 standing in for the required port.
    public static var defaults: Self { .init(port: 8080) }

    /// The default of `max_sessions`: at ~1 KiB of state per flow, a bound
    /// that a flood of spoofed sources cannot turn into memory trouble.
    public static let defaultMaxSessions = 10_000
    /// The range `max_sessions` accepts.
    public static let maxSessionsRange = 1...1_000_000
    /// The range `max_connections` accepts.
    public static let maxConnectionsRange = 1...10_000_000

    /// The idle timeout of a protocol when `idle_timeout` is not given:
    /// 1 h for tcp (Envoy's tcp_proxy default; L4 clients such as database
    /// pools keep quiet connections open on purpose), 60 s for udp (Envoy's
    /// udp_proxy default; a flow has no close, so idleness is its only end).
    /// HTTP listeners use the global `timeouts.client_idle` instead.
    public static func defaultIdleTimeout(for protocol: ListenerProtocol) -> Duration {
        `protocol` == .udp ? .seconds(60) : .seconds(3600)
    }

    /// The idle timeout in effect.
    public var effectiveIdleTimeout: Duration { idleTimeout ?? Self.defaultIdleTimeout(for: `protocol`) }

    public init(
        name: String? = nil,
        address: String = "0.0.0.0",
        port: Int,
        protocol: ListenerProtocol = .http,
        defaultCluster: String? = nil,
        proxyProtocolTrusted: [IPNetwork]? = nil,
        idleTimeout: Duration? = nil,
        maxSessions: Int = ListenerConfig.defaultMaxSessions
    ) {
        self.proxyProtocolTrusted = proxyProtocolTrusted
        self.idleTimeout = idleTimeout
        self.maxSessions = maxSessions
        self.address = address
        self.port = port
        self.protocol = `protocol`
        self.defaultCluster = defaultCluster
        self.name = name ?? Self.defaultName(address: address, port: port)
    }

    /// `address:port`, with IPv6 addresses in brackets.
    static func defaultName(address: String, port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// Whether the address binds every local address.
    var isWildcard: Bool { address == "0.0.0.0" || address == "::" }
}
