import FulcrumCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

extension ClientAddress {
    /// A peer's IP address, for `ip-hash` and client-keyed hashing; `nil`
    /// for Unix-domain peers.
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4): self.init(v4.address.sin_addr)
        case .v6(let v6): self.init(v6.address.sin6_addr)
        default: return nil
        }
    }

    /// An IPv4 address as the socket API holds it (network byte order).
    init(_ address: in_addr) {
        self.init(ipv4: UInt32(bigEndian: address.s_addr))
    }

    /// An IPv6 address as the socket API holds it.
    init(_ address: in6_addr) {
        let (high, low) = withUnsafeBytes(of: address) { bytes in
            (
                bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            )
        }
        self.init(ipv6High: high, low: low)
    }
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
