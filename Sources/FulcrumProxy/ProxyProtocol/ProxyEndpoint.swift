import FulcrumCore

/// One end of a proxied connection as a PROXY protocol header carries it.
public struct ProxyEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: ClientAddress
    public var port: UInt16

    public init(address: ClientAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `1.2.3.4:56` or `[::1]:56`, for logs.
    public var description: String {
        address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
