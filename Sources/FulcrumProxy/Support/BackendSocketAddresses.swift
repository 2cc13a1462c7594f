import FulcrumCore
import NIOCore
import NIOPosix

/// Each backend's socket address, parsed once per listener when its host is
/// an IP literal.
///
/// `ClientBootstrap.connect(host:port:)` resolves with getaddrinfo and runs
/// a Happy Eyeballs race for every connection, even for `127.0.0.1`; an
/// HTTP listener dials a backend for every new pooled connection. Host names
/// still go through the resolver. (The TCP relay resolves its backends once,
/// at start: ``TCPProxyServer``.)
struct BackendSocketAddresses: Sendable {
    private let addresses: [SocketAddress?]

    init(_ cluster: Cluster) {
        addresses = cluster.backends.map { try? SocketAddress(ipAddress: $0.address.host, port: $0.address.port) }
    }

    /// The parsed address of backend `index`, or `nil` for a host name.
    subscript(index: Int) -> SocketAddress? { addresses[index] }

    /// Connects `bootstrap` to backend `index` of `cluster`.
    func connect(_ bootstrap: ClientBootstrap, backend index: Int, of cluster: Cluster) -> EventLoopFuture<any Channel> {
        if let address = addresses[index] { return bootstrap.connect(to: address) }
        let backend = cluster.backends[index]
        return bootstrap.connect(host: backend.address.host, port: backend.address.port)
    }
}
