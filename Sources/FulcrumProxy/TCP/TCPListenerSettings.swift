import FulcrumConfig
import FulcrumCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// What an L4 listener does beyond relaying: PROXY protocol on either side,
/// how `hash` keys a connection, and when a quiet connection is closed.
public struct TCPListenerSettings: Sendable {
    /// Sources allowed to send a PROXY protocol header, or `nil` to accept
    /// none. When set, connections from elsewhere are closed and trusted
    /// ones must start with a header: the spec forbids guessing whether one
    /// is present, since falling back to the raw connection would let
    /// anyone spoof an address.
    public var proxyProtocolTrusted: [IPNetwork]?
    /// The time a trusted source gets to send its header. Default 5 s (the
    /// spec asks for at least 3 s, to cover a TCP retransmit).
    public var proxyHeaderTimeout = TimeAmount.seconds(5)
    /// The header written to each backend connection before the payload, or
    /// `nil` (the default) for none.
    public var sendProxyProtocol: ProxyHeader.Version?
    /// With `hash`: hash the client's port with its address, so one client's
    /// connections spread instead of sharing a backend. Default false.
    public var hashIncludesClientPort = false
    /// A connection that passes no byte either way for this long is closed.
    /// Default 1 h (``ListenerConfig/defaultIdleTimeout(for:)``).
    public var idleTimeout = TimeAmount.hours(1)
    /// The most connections relayed at once; more wait in the listen queue.
    /// `nil` (the default) takes what the open-files limit allows when the
    /// listener starts (``TCPListenerSettings/descriptorBound()``).
    public var maxConnections: Int?

    /// The connections the open-files limit leaves room for: two
    /// descriptors each, less 100 for everything else.
    public static func descriptorBound() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 10_000 }
        let usable = Int(clamping: Swift.min(limit.rlim_cur, 1 << 22))
        return Swift.max(1, (usable - 100) / 2)
    }

    public init() {}

    /// The settings a configured listener and its cluster imply.
    public init(listener: ListenerConfig, cluster: ClusterConfig?) {
        self.init()
        proxyProtocolTrusted = listener.proxyProtocolTrusted
        idleTimeout = .nanoseconds(listener.effectiveIdleTimeout.nanoseconds)
        maxConnections = listener.maxConnections
        hashIncludesClientPort = cluster?.hashIncludesClientPort ?? false
        switch cluster?.proxyProtocol ?? .off {
        case .off: sendProxyProtocol = nil
        case .v1: sendProxyProtocol = .v1
        case .v2: sendProxyProtocol = .v2
        }
    }
}
