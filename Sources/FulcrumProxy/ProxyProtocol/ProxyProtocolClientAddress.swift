import FulcrumCore
import NIOCore

/// The client a connection speaks for once its PROXY protocol header is
/// read: the header's source for a relayed connection, or the connection's
/// own peer when the header says LOCAL or UNKNOWN.
///
/// ``ProxyProtocolDecoder`` fires it as a user inbound event before it
/// passes on any payload, so a handler that balances on the client address
/// can wait for it instead of reading `channel.remoteAddress`, which names
/// the load balancer in front. Handlers added later read the same value
/// from a ``ProxyProtocolRecord``.
public struct ProxyProtocolClientAddress: Sendable, Hashable {
    /// `nil` only when the connection's own peer is not an IP endpoint.
    public var client: ProxyEndpoint?
    /// The header as received.
    public var header: ProxyHeader

    public init(client: ProxyEndpoint?, header: ProxyHeader) {
        self.client = client
        self.header = header
    }

    /// The client's IP address, as `ip-hash`, logs and X-Forwarded-For want it.
    public var address: ClientAddress? { client?.address }
}

/// Where a connection's PROXY protocol result is kept for handlers added
/// after the decoder has removed itself.
///
/// The listener creates one per connection and hands it to the decoder and
/// to whichever handlers need the client; it is a plain reference, not a
/// pipeline lookup, so reading it costs nothing. It lives on the channel's
/// event loop and is only touched there.
public final class ProxyProtocolRecord {
    /// Set by the decoder before it fires ``ProxyProtocolClientAddress``;
    /// `nil` until then (and forever on a connection that was refused).
    public internal(set) var value: ProxyProtocolClientAddress?

    public init() {}
}

extension ProxyEndpoint {
    /// The endpoint of an IP socket address; `nil` for Unix-domain ones.
    public init?(_ address: SocketAddress) {
        guard let ip = ClientAddress(address), let port = address.port, let port16 = UInt16(exactly: port) else {
            return nil
        }
        self.init(address: ip, port: port16)
    }
}
