import CFulcrumLinux
import FulcrumCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, as logs and startup errors show it:
/// `bind: Address already in use (errno 98)`.
struct SocketCallError: Error, CustomStringConvertible {
    let call: String
    let code: Int32

    init(_ call: String, _ code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    var description: String { "\(call): \(String(cString: strerror(code))) (errno \(code))" }
}

/// The calls the relay makes on its sockets, with the constants Glibc
/// imports as enums already converted.
enum SocketCalls {
    static let streamNonBlocking = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    static let noSignal = Int32(MSG_NOSIGNAL)

    /// The nanoseconds of CLOCK_MONOTONIC, the clock ``SystemClock`` reads.
    static func monotonicNow() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var value = value
        return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// The error a non-blocking connect ended with (0 when it succeeded).
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    /// The socket's local address (where a client's connection arrived).
    static func localEndpoint(_ fd: Int32) -> ProxyEndpoint? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 ? ProxyEndpoint(storage) : nil
    }

    /// What one `accept4` on a listening socket gave.
    enum Accepted {
        /// A connection, non-blocking, with its peer's address.
        case connection(Int32, ProxyEndpoint?)
        /// Nothing to take now (another loop took it, or it was aborted).
        case nothing
        /// Out of descriptors, memory or buffers: the connection stays
        /// queued, and the caller should stop accepting for a while rather
        /// than spin on a level-triggered listener.
        case shortage(SocketCallError)
    }

    static func accept(_ listenFD: Int32) -> Accepted {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cfulcrum_accept(listenFD, $0, &length) }
        }
        guard fd < 0 else { return .connection(fd, ProxyEndpoint(storage)) }
        let code = errno
        switch code {
        case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO: return .nothing
        default: return .shortage(SocketCallError("accept4", code))
        }
    }

    /// A non-blocking listening socket bound to `host:port` (port 0 picks
    /// a free one), with SO_REUSEADDR and TCP_NODELAY; returns it and the
    /// port it got.
    static func listen(host: String, port: Int) throws -> (Int32, Int) {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let fd = socket(address.protocol.rawValue, SocketCalls.streamNonBlocking, 0)
        guard fd >= 0 else { throw SocketCallError("socket") }
        do {
            guard SocketCalls.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1) else { throw SocketCallError("setsockopt(SO_REUSEADDR)") }
            // Accepted sockets inherit TCP_NODELAY from the listener.
            guard SocketCalls.setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) else {
                throw SocketCallError("setsockopt(TCP_NODELAY)")
            }
            guard address.withSockAddr({ bind(fd, $0, socklen_t($1)) }) == 0 else { throw SocketCallError("bind \(host):\(port)") }
            guard Glibc.listen(fd, 1024) == 0 else { throw SocketCallError("listen") }
            guard let bound = SocketCalls.localEndpoint(fd) else { throw SocketCallError("getsockname") }
            return (fd, Int(bound.port))
        } catch {
            close(fd)
            throw error
        }
    }
}

extension ProxyEndpoint {
    /// An IPv4 or IPv6 socket address; nil for other families.
    init?(_ storage: sockaddr_storage) {
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            self.init(address: ClientAddress(address.sin_addr), port: UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            let address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            self.init(address: ClientAddress(address.sin6_addr), port: UInt16(bigEndian: address.sin6_port))
        default:
            return nil
        }
    }
}
