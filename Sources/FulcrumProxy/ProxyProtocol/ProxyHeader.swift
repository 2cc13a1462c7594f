import FulcrumCore

/// A PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2):
/// what a load balancer in front tells the next hop about the client, since
/// an L4 relay's own connection hides the client's address.
///
/// `addresses` is `nil` when the header carries none that we use: v1
/// `UNKNOWN`, v2 `LOCAL` (a health check from the proxy itself), v2
/// `AF_UNSPEC` and v2 `AF_UNIX`. The spec tells receivers to use the
/// connection's own endpoints then.
public struct ProxyHeader: Sendable, Hashable {
    public enum Version: Sendable, Hashable, CustomStringConvertible {
        /// The text line `PROXY TCP4 …\r\n`.
        case v1
        /// The binary form with the 12-byte signature.
        case v2

        public var description: String { self == .v1 ? "v1" : "v2" }
    }

    /// v2's command nibble; v1 headers are always `proxy`.
    public enum Command: Sendable, Hashable {
        /// The proxy opened the connection itself (health checks): use the
        /// connection's endpoints.
        case local
        /// The connection was relayed for the client the header names.
        case proxy
    }

    /// v2's protocol nibble; v1 can only say TCP.
    public enum Transport: Sendable, Hashable {
        case stream
        case datagram
    }

    /// The carried endpoints of a relayed connection.
    public struct Addresses: Sendable, Hashable {
        public var transport: Transport
        public var source: ProxyEndpoint
        public var destination: ProxyEndpoint

        public init(transport: Transport = .stream, source: ProxyEndpoint, destination: ProxyEndpoint) {
            self.transport = transport
            self.source = source
            self.destination = destination
        }
    }

    public var version: Version
    public var command: Command
    public var addresses: Addresses?

    public init(version: Version, command: Command = .proxy, addresses: Addresses?) {
        self.version = version
        self.command = command
        self.addresses = addresses
    }

    /// The source the receiver should believe: the carried client for a
    /// relayed connection, `nil` when the connection's own peer applies.
    public var client: ProxyEndpoint? {
        command == .proxy ? addresses?.source : nil
    }
}
