import FulcrumConfig
import NIOCore

/// How a UDP listener keeps its flows: when one ends and how many may live.
public struct UDPListenerSettings: Sendable {
    /// A flow that carries no datagram either way for this long ends; the
    /// client's next datagram starts a new one (and may land elsewhere).
    /// Default 60 s (``ListenerConfig/defaultIdleTimeout(for:)``).
    public var idleTimeout = TimeAmount.seconds(60)
    /// The most flows at once. Default 10,000.
    public var maxSessions = ListenerConfig.defaultMaxSessions
    /// With `hash`: hash the client's port with its address. Default false.
    public var hashIncludesClientPort = false
    /// The largest datagram relayed whole. Default 65,507, the most an IPv4
    /// UDP datagram can carry, so nothing is cut short.
    public var maxDatagramSize = 65_507
    /// Datagrams a new flow holds while its backend socket is being set up.
    public var maxPendingPerFlow = 64

    public init() {}

    /// The settings a configured listener and its cluster imply.
    public init(listener: ListenerConfig, cluster: ClusterConfig?) {
        self.init()
        idleTimeout = .nanoseconds(listener.effectiveIdleTimeout.nanoseconds)
        maxSessions = listener.maxSessions
        hashIncludesClientPort = cluster?.hashIncludesClientPort ?? false
    }
}
