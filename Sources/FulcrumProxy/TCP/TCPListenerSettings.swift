import FulcrumConfig
import FulcrumCore
import NIOCore

/// What an L4 listener does beyond relaying: PROXY protocol on either side,
/// how `hash` keys a connection, and when a quiet connection is closed.
public struct TCPListenerSettings: Sendable {
    /// Sources allowed to send a PROXY protocol header, or `nil` to accept
    /// none. When set, connections from elsewhere are closed and trusted
    /// ones must start with a header (see ``ProxyProtocolDecoder``).
    public var proxyProtocolTrusted: [IPNetwork]?
    /// The time a trusted source gets to send its header. Default 5 s.
    public var proxyHeaderTimeout = ProxyProtocolDecoder.defaultHeaderTimeout
    /// The header written to each backend connection before the payload, or
    /// `nil` (the default) for none.
    public var sendProxyProtocol: ProxyHeader.Version?
    /// With `hash`: hash the client's port with its address, so one client's
    /// connections spread instead of sharing a backend. Default false.
    public var hashIncludesClientPort = false
    /// A connection that passes no byte either way for this long is closed.
    /// Default 1 h (``ListenerConfig/defaultIdleTimeout(for:)``).
    public var idleTimeout = TimeAmount.hours(1)

    public init() {}

    /// The settings a configured listener and its cluster imply.
    public init(listener: ListenerConfig, cluster: ClusterConfig?) {
        self.init()
        proxyProtocolTrusted = listener.proxyProtocolTrusted
        idleTimeout = .nanoseconds(listener.effectiveIdleTimeout.nanoseconds)
        hashIncludesClientPort = cluster?.hashIncludesClientPort ?? false
        switch cluster?.proxyProtocol ?? .off {
        case .off: sendProxyProtocol = nil
        case .v1: sendProxyProtocol = .v1
        case .v2: sendProxyProtocol = .v2
        }
    }
}
