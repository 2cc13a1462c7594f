import FulcrumCore
import Logging
import NIOCore

/// Each backend's socket address, looked up once when a listener starts, as
/// HAProxy does by default: a name that does not resolve then fails each
/// connect to that backend (and so its passive health) rather than the
/// listener, and no connection waits on a resolver.
struct BackendSocketAddresses: Sendable {
    private let addresses: [SocketAddress?]

    init(_ cluster: Cluster, logger: Logger? = nil) {
        addresses = cluster.backends.map { backend in
            if let literal = try? SocketAddress(ipAddress: backend.address.host, port: backend.address.port) {
                return literal
            }
            do {
                return try SocketAddress.makeAddressResolvingHost(backend.address.host, port: backend.address.port)
            } catch {
                logger?.warning("backend address does not resolve", metadata: ["backend": "\(backend.id)", "error": "\(error)"])
                return nil
            }
        }
    }

    /// The address of backend `index`, or nil when its name did not resolve.
    subscript(index: Int) -> SocketAddress? { addresses[index] }
}
