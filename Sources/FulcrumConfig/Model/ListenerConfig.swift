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

    /// The defaults, with port 8080 standing in for the required port.
    public static var defaults: Self { .init(port: 8080) }

    public init(
        name: String? = nil,
        address: String = "0.0.0.0",
        port: Int,
        protocol: ListenerProtocol = .http,
        defaultCluster: String? = nil
    ) {
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
