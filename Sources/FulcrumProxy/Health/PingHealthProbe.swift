import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `ping` check: one ICMP echo request, passing when the reply comes
/// back within the timeout.
///
/// Linux lets an unprivileged process send echo requests from a datagram
/// ICMP socket (`socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`) when its group
/// is in `net.ipv4.ping_group_range`; the kernel then fills in the
/// identifier and checksum and hands back only this socket's replies. Root
/// can always open a raw socket instead, which sees every ICMP packet, so
/// replies are matched by identifier and sequence. Which one is available is
/// decided once, at startup (``socketKind()``), so a configuration that
/// cannot work fails then rather than marking every backend down.
///
/// The socket calls block, so each check runs on NIO's thread pool, never on
/// an event loop. IPv4 only.
struct PingHealthProbe: HealthProbe {
    enum SocketKind: String, Sendable {
        case datagram
        case raw
    }

    /// The kind of socket ``socketKind()`` found usable.
    let via: SocketKind
    let timeout: Duration

    var kind: String { "ping" }

    /// Why ping checks cannot run here.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// The socket this process may use for ICMP echo: datagram when the
    /// kernel's ping group range includes our group, else raw when we are
    /// privileged.
    /// - Throws: ``Unavailable``, saying what to change.
    static func socketKind() throws(Unavailable) -> SocketKind {
        for kind in [SocketKind.datagram, .raw] {
            let fd = openSocket(kind)
            if fd >= 0 {
                close(fd)
                return kind
            }
        }
        let range = readFile("/proc/sys/net/ipv4/ping_group_range") ?? "unknown"
        throw Unavailable(
            description: "ping health checks need an ICMP socket, and this process may open neither kind: "
                + "a datagram ICMP socket needs the process's group (gid \(getgid())) within "
                + "net.ipv4.ping_group_range (now '\(range)'; allow it with "
                + "sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"), and a raw socket needs root "
                + "(or CAP_NET_RAW). Use a tcp or http check instead, or grant one of these."
        )
    }

    private static func openSocket(_ kind: SocketKind) -> CInt {
        #if canImport(Glibc)
        let type = kind == .datagram ? CInt(SOCK_DGRAM.rawValue) : CInt(SOCK_RAW.rawValue)
        #else
        let type = kind == .datagram ? SOCK_DGRAM : SOCK_RAW
        #endif
        return socket(AF_INET, type, CInt(IPPROTO_ICMP))
    }

    private static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self).split(whereSeparator: \.isNewline).first.map {
            String($0.replacing("\t", with: " "))
        }
    }

    func run(_ target: CheckTarget, on loop: any EventLoop, promise: EventLoopPromise<CheckVerdict>) {
        let via = via
        let timeout = timeout
        let sequence = UInt16.random(in: 0...UInt16.max)
        NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
            try Self.ping(target.host, socket: via, timeout: timeout, sequence: sequence)
        }.whenComplete { result in
            switch result {
            case .success(let verdict): promise.succeed(verdict)
            case .failure(let error): promise.fail(error)
            }
        }
    }

    /// One blocking echo request and the wait for its reply.
    static func ping(
        _ host: String,
        socket kind: SocketKind,
        timeout: Duration,
        sequence: UInt16
    ) throws -> CheckVerdict {
        guard var address = ipv4Address(host) else {
            throw CheckFailure("ping check: '\(host)' is not an IPv4 address or name")
        }
        let fd = openSocket(kind)
        guard fd >= 0 else { throw CheckFailure("ping check: socket: \(errnoText())") }
        defer { close(fd) }
        let started = ContinuousClock.now
        let deadline = started + timeout
        let identifier = UInt16(truncatingIfNeeded: getpid())
        let packet = echoRequest(identifier: identifier, sequence: sequence)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == packet.count else { throw CheckFailure("ping check: send: \(errnoText())") }
        var buffer = [UInt8](repeating: 0, count: 1500)
        // Bounded: each pass either returns or waits until the deadline.
        for _ in 0..<1000 {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var wait = timeval(
                tv_sec: Int(left.components.seconds),
                tv_usec: Int(left.components.attoseconds / 1_000_000_000_000)
            )
            if wait.tv_sec == 0 && wait.tv_usec == 0 { wait.tv_usec = 1 }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                throw CheckFailure("ping check: receive: \(errnoText())")
            }
            // A raw socket's packets start with the IP header.
            let start = kind == .raw ? Int(buffer[0] & 0x0F) * 4 : 0
            guard n >= start + 8, buffer[start] == 0 else { continue }
            let replySequence = UInt16(buffer[start + 6]) << 8 | UInt16(buffer[start + 7])
            let replyIdentifier = UInt16(buffer[start + 4]) << 8 | UInt16(buffer[start + 5])
            guard replySequence == sequence, kind == .datagram || replyIdentifier == identifier else { continue }
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            return .pass("ping check: reply in \((ms * 10).rounded() / 10) ms")
        }
        throw CheckFailure("ping check: no reply within \(timeout)")
    }

    /// Type 8 (echo request), code 0, with the Internet checksum (RFC 1071);
    /// a datagram socket's kernel rewrites identifier and checksum.
    static func echoRequest(identifier: UInt16, sequence: UInt16) -> [UInt8] {
        var packet: [UInt8] = [
            8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF),
        ]
        packet += Array("fulcrum-health!!".utf8)
        let sum = checksum(packet)
        packet[2] = UInt8(sum >> 8)
        packet[3] = UInt8(sum & 0xFF)
        return packet
    }

    /// The one's-complement sum of 16-bit words, complemented (RFC 1071).
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private static func ipv4Address(_ host: String) -> sockaddr_in? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        if inet_pton(AF_INET, host, &address.sin_addr) == 1 { return address }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result, let found = first.pointee.ai_addr else {
            return nil
        }
        defer { freeaddrinfo(result) }
        return found.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
