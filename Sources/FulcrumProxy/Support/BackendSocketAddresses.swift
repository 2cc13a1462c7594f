import FulcrumCore
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Each backend's socket addresses, looked up once when a listener starts,
/// as HAProxy does by default: a name that does not resolve then fails each
/// connect to that backend (and so its passive health) rather than the
/// listener, and no connection waits on a resolver.
///
/// A name keeps every address it resolves to, in the resolver's order: a
/// backend named `localhost` that listens on 127.0.0.1 only must still be
/// reached when `::1` sorts first (see ``all(_:)``).
struct BackendSocketAddresses: Sendable {
    private let addresses: [[SocketAddress]]

    init(_ cluster: Cluster, logger: Logger? = nil) {
        addresses = cluster.backends.map { backend in
            if let literal = try? SocketAddress(ipAddress: backend.address.host, port: backend.address.port) {
                return [literal]
            }
            let resolved = Self.resolve(backend.address.host, port: backend.address.port)
            if case .failure(let error) = resolved {
                logger?.warning("backend address does not resolve", metadata: ["backend": "\(backend.id)", "error": "\(error)"])
            }
            return (try? resolved.get()) ?? []
        }
    }

    /// The first address of backend `index`, or nil when its name did not
    /// resolve.
    subscript(index: Int) -> SocketAddress? { addresses[index].first }

    /// Every address of backend `index`, to try in turn while a connect is
    /// refused or finds no route.
    func all(_ index: Int) -> [SocketAddress] { addresses[index] }

    struct ResolveError: Error, CustomStringConvertible {
        let description: String
    }

    /// getaddrinfo's answers for a stream socket, without repeats.
    private static func resolve(_ host: String, port: Int) -> Result<[SocketAddress], ResolveError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0, let list else {
            return .failure(ResolveError(description: "\(host): \(String(cString: gai_strerror(code)))"))
        }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = list
        while let entry = next {
            next = entry.pointee.ai_next
            guard let raw = entry.pointee.ai_addr else { continue }
            let address: SocketAddress
            switch entry.pointee.ai_family {
            case AF_INET: address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
            case AF_INET6: address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
            default: continue
            }
            if !found.contains(address) { found.append(address) }
        }
        return found.isEmpty ? .failure(ResolveError(description: "\(host): no IPv4 or IPv6 address")) : .success(found)
    }
}
