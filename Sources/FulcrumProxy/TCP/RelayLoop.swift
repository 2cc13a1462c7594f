import CFulcrumLinux
import FulcrumCore
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One thread of an L4 listener: an epoll instance that accepts from the
/// shared listening socket, dials backends and relays bytes, with edge-
/// triggered readiness and one registration per socket.
///
/// Why not NIO channels: a relayed connection is two sockets that live for
/// one exchange, and NIO's per-channel machinery (bootstrap futures,
/// address lookups on every socket, about 13 epoll_ctl calls, pipelines)
/// cost 105 µs of CPU per connection against HAProxy's 57; this loop makes
/// about 15 system calls per connection and spends a few µs in user space.
/// docs/ARCHITECTURE.md has the measurements.
///
/// Everything here runs on the loop's thread; other threads only write to
/// the wake-up eventfd (``TCPProxyServer/stop()``).
final class RelayLoop: @unchecked Sendable {
    struct Configuration {
        let cluster: Cluster
        /// Each backend's address, resolved when the listener started;
        /// nil when its name did not resolve.
        let addresses: [SocketAddress?]
        let options: ProxyOptions
        let settings: TCPListenerSettings
        let logger: Logger
    }

    private static let listenerTag = UInt64.max
    private static let wakeTag = UInt64.max - 1
    private static let edgeEvents = cfulcrum_EPOLLIN | cfulcrum_EPOLLOUT | cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLET
    private static let scratchSize = 64 * 1024
    /// What a client may send before its backend is connected.
    private static let earlyLimit = 64 * 1024
    private static let maxEvents: Int32 = 256

    private let config: Configuration
    private let listenFD: Int32
    private let listenEvents: UInt32
    private let epfd: Int32
    private let wakeFD: Int32
    private let stoppedAccepting: @Sendable () -> Void
    private let connectTimeout: UInt64
    private let idleTimeout: UInt64
    private let headerTimeout: UInt64
    private let parser = ProxyHeaderParser()

    private var reader: SnapshotReader
    private var random = FastRandom()
    private var relays: [Relay?] = []
    private var freeSlots: [Int] = []
    private var open = 0
    private var nextToken: UInt32 = 0
    private var deadlines = RelayDeadlines()
    private var accepting = true
    /// Set while the listener is out of the epoll set because accept ran
    /// out of descriptors or memory: level-triggered, it would otherwise
    /// wake the loop at once, forever. CLOCK_MONOTONIC nanoseconds.
    private var acceptPausedUntil: UInt64?
    private var lastAcceptWarning: UInt64 = 0
    private static let acceptPause: UInt64 = 100_000_000
    private var now: UInt64
    private let scratch: UnsafeMutableRawBufferPointer
    private let readyEvents: UnsafeMutablePointer<UInt32>
    private let readyData: UnsafeMutablePointer<UInt64>

    /// A loop accepting from `listenFD`; `stoppedAccepting` runs on the loop
    /// once it has taken the listener out of its epoll set after ``wake()``.
    init(
        listenFD: Int32,
        exclusive: Bool,
        loopNumber: Int,
        configuration: Configuration,
        stoppedAccepting: @escaping @Sendable () -> Void
    ) throws {
        config = configuration
        self.listenFD = listenFD
        self.stoppedAccepting = stoppedAccepting
        connectTimeout = UInt64(max(configuration.options.connectTimeout.nanoseconds, 0))
        idleTimeout = UInt64(max(configuration.settings.idleTimeout.nanoseconds, 0))
        headerTimeout = UInt64(max(configuration.settings.proxyHeaderTimeout.nanoseconds, 0))
        reader = SnapshotReader(configuration.cluster, seed: loopNumber * 7919)
        now = SocketCalls.monotonicNow()
        epfd = cfulcrum_epoll_create()
        guard epfd >= 0 else { throw SocketCallError("epoll_create1") }
        wakeFD = cfulcrum_eventfd()
        guard wakeFD >= 0 else {
            let error = SocketCallError("eventfd")
            close(epfd)
            throw error
        }
        // Level-triggered: one accept per wake-up, never an accept that
        // finds nothing. EPOLLEXCLUSIVE wakes one of several loops.
        listenEvents = cfulcrum_EPOLLIN | (exclusive ? cfulcrum_EPOLLEXCLUSIVE : 0)
        guard cfulcrum_epoll_add(epfd, listenFD, listenEvents, Self.listenerTag) == 0,
            cfulcrum_epoll_add(epfd, wakeFD, cfulcrum_EPOLLIN, Self.wakeTag) == 0
        else {
            let error = SocketCallError("epoll_ctl")
            close(wakeFD)
            close(epfd)
            throw error
        }
        scratch = .allocate(byteCount: Self.scratchSize, alignment: 16)
        readyEvents = .allocate(capacity: Int(Self.maxEvents))
        readyData = .allocate(capacity: Int(Self.maxEvents))
    }

    /// Asks the loop to stop accepting; it ends once its relays have closed.
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Runs on a thread of its own until stopped and idle.
    func start(name: String) throws {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<RelayLoop>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<RelayLoop>.fromOpaque(context).release()
            throw SocketCallError("pthread_create", result)
        }
        pthread_detach(thread)
    }

    private func run() {
        while accepting || open > 0 {
            let count = cfulcrum_epoll_wait(epfd, readyEvents, readyData, Self.maxEvents, timeoutMilliseconds())
            if count < 0 {
                if errno == EINTR { continue }
                config.logger.error("l4 relay loop stopped", metadata: ["error": "\(SocketCallError("epoll_wait"))"])
                break
            }
            now = SocketCalls.monotonicNow()
            for i in 0..<Int(count) {
                switch readyData[i] {
                case Self.listenerTag: acceptOne()
                case Self.wakeTag: stopAccepting()
                case let data: dispatch(events: readyEvents[i], data: data)
                }
            }
            fireDeadlines()
            resumeAccepting()
        }
        close(wakeFD)
        close(epfd)
        scratch.deallocate()
        readyEvents.deallocate()
        readyData.deallocate()
    }

    private func timeoutMilliseconds() -> Int32 {
        guard let next = [deadlines.first?.at, acceptPausedUntil].compactMap({ $0 }).min() else { return -1 }
        let current = SocketCalls.monotonicNow()
        guard next > current else { return 0 }
        return Int32(min((next - current + 999_999) / 1_000_000, 60_000))
    }

    private func stopAccepting() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
        guard accepting else { return }
        accepting = false
        if acceptPausedUntil == nil { _ = cfulcrum_epoll_del(epfd, listenFD) }
        acceptPausedUntil = nil
        stoppedAccepting()
    }

    /// Out of descriptors or memory: stop accepting for 100 ms. The
    /// level-triggered listener would otherwise wake the loop at once,
    /// forever, while connections wait in its queue.
    private func pauseAccepting(_ error: SocketCallError) {
        if accepting && acceptPausedUntil == nil { _ = cfulcrum_epoll_del(epfd, listenFD) }
        acceptPausedUntil = now &+ Self.acceptPause
        if now &- lastAcceptWarning >= 1_000_000_000 {
            lastAcceptWarning = now
            config.logger.warning(
                "accept failed; not accepting for 100 ms",
                metadata: ["error": "\(error)", "open_connections": "\(open)"]
            )
        }
    }

    private func resumeAccepting() {
        guard let until = acceptPausedUntil, now >= until else { return }
        acceptPausedUntil = nil
        if accepting { _ = cfulcrum_epoll_add(epfd, listenFD, listenEvents, Self.listenerTag) }
    }

    // MARK: - Accepting

    private func acceptOne() {
        guard accepting else { return }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cfulcrum_accept(listenFD, $0, &length) }
        }
        guard fd >= 0 else {
            let code = errno
            switch code {
            case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO:
                break
            default:
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays
                // queued; try again shortly rather than spin.
                pauseAccepting(SocketCallError("accept4", code))
            }
            return
        }
        let peer = ProxyEndpoint(storage)
        if let trusted = config.settings.proxyProtocolTrusted {
            guard let peer, trusted.contains(where: { $0.contains(peer.address) }) else {
                let who = peer.map { "\($0)" } ?? "an unknown peer"
                logProxyProtocolFailure(peer: who, ProxyProtocolError(.untrustedSource, "\(who) is not a trusted source"))
                close(fd)
                return
            }
        }
        let relay = makeRelay(fd: fd, client: peer, phase: config.settings.proxyProtocolTrusted == nil ? .connecting : .proxyHeader)
        guard cfulcrum_epoll_add(epfd, fd, Self.edgeEvents, Self.tag(relay.slot, relay.clientToken)) == 0 else {
            config.logger.warning("closing client: cannot watch it", metadata: ["error": "\(SocketCallError("epoll_ctl"))"])
            closeRelay(relay)
            return
        }
        if relay.phase == .proxyHeader {
            relay.phaseDeadline = now &+ headerTimeout
            arm(relay)
        } else {
            connect(relay)
        }
    }

    private func makeRelay(fd: Int32, client: ProxyEndpoint?, phase: Relay.Phase) -> Relay {
        let slot = freeSlots.popLast() ?? {
            relays.append(nil)
            return relays.count - 1
        }()
        let relay = Relay(slot: slot, clientFD: fd, clientToken: makeToken(), client: client, phase: phase, now: now)
        relays[slot] = relay
        open += 1
        return relay
    }

    private func makeToken() -> UInt32 {
        nextToken &+= 1
        if nextToken == 0 { nextToken = 1 }
        return nextToken
    }

    private static func tag(_ slot: Int, _ token: UInt32) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: slot)) | UInt64(token) << 32
    }

    // MARK: - Events

    private func dispatch(events: UInt32, data: UInt64) {
        let slot = Int(UInt32(truncatingIfNeeded: data))
        let token = UInt32(truncatingIfNeeded: data >> 32)
        guard slot < relays.count, let relay = relays[slot] else { return }
        if token == relay.clientToken {
            clientEvent(relay, events)
        } else if token == relay.backendToken, relay.backendFD >= 0 {
            backendEvent(relay, events)
        }
        // Otherwise the event belongs to a socket closed earlier in this
        // batch (a failed attempt, or a relay whose slot was reused).
    }

    private func clientEvent(_ relay: Relay, _ events: UInt32) {
        if events & cfulcrum_EPOLLERR != 0 {
            closeRelay(relay)
            return
        }
        if events & (cfulcrum_EPOLLIN | cfulcrum_EPOLLHUP) != 0 { relay.fromClient.readable = true }
        if events & (cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLHUP) != 0 { relay.fromClient.sourceFinished = true }
        switch relay.phase {
        case .proxyHeader: readProxyHeader(relay)
        case .connecting: readEarly(relay)
        case .relaying: pump(relay)
        }
    }

    private func backendEvent(_ relay: Relay, _ events: UInt32) {
        if relay.phase == .connecting {
            if events & (cfulcrum_EPOLLERR | cfulcrum_EPOLLHUP) != 0 {
                let code = SocketCalls.pendingError(relay.backendFD)
                connectFailed(relay, reason: ConnectionErrorText.describe(errno: code == 0 ? ECONNRESET : code))
                return
            }
            guard events & cfulcrum_EPOLLOUT != 0 else { return }
            connected(relay)
            guard relays[relay.slot] === relay else { return }
        } else if events & cfulcrum_EPOLLERR != 0 {
            closeRelay(relay)
            return
        }
        if events & (cfulcrum_EPOLLIN | cfulcrum_EPOLLHUP) != 0 { relay.fromBackend.readable = true }
        if events & (cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLHUP) != 0 { relay.fromBackend.sourceFinished = true }
        pump(relay)
    }

    // MARK: - PROXY protocol

    private func readProxyHeader(_ relay: Relay) {
        while relay.fromClient.readable {
            let count = recv(relay.clientFD, scratch.baseAddress, scratch.count, 0)
            if count > 0 {
                relay.fromClient.keep(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
                if count < scratch.count {
                    relay.fromClient.readable = false
                    if relay.fromClient.sourceFinished { relay.fromClient.ended = true }
                }
                let parsed = relay.fromClient.pending.withUnsafeBytes { bytes in
                    Result { () throws(ProxyProtocolError) in try parser.parse(bytes) }
                }
                let outcome: ProxyHeaderParser.Outcome
                switch parsed {
                case .success(let value): outcome = value
                case .failure(let error):
                    proxyHeaderFailed(relay, error)
                    return
                }
                guard case .complete(let header, let length) = outcome else {
                    if relay.fromClient.ended {
                        proxyHeaderFailed(relay, ProxyProtocolError(.truncated, "the peer closed before a complete header"))
                        return
                    }
                    continue
                }
                relay.fromClient.pendingStart = length
                relay.fromClient.bytes += relay.fromClient.pendingCount
                if let source = header.client { relay.client = source }
                if header.command == .proxy, let destination = header.addresses?.destination {
                    relay.destination = destination
                }
                relay.phase = .connecting
                connect(relay)
                // Input already signalled gets no second edge: read on.
                if relays[relay.slot] === relay && relay.phase == .connecting { readEarly(relay) }
                return
            } else if count == 0 {
                proxyHeaderFailed(relay, ProxyProtocolError(.truncated, "the peer closed before a complete header"))
                return
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                relay.fromClient.readable = false
            } else if errno != EINTR {
                closeRelay(relay)
                return
            }
        }
    }

    private func proxyHeaderFailed(_ relay: Relay, _ error: ProxyProtocolError) {
        logProxyProtocolFailure(peer: relay.clientText, error)
        closeRelay(relay)
    }

    private func logProxyProtocolFailure(peer: String, _ error: ProxyProtocolError) {
        config.logger.warning(
            "closing connection: PROXY protocol",
            metadata: ["peer": "\(peer)", "reason": "\(error.code)", "detail": "\(error.message)"]
        )
    }

    // MARK: - Connecting

    private func connect(_ relay: Relay) {
        var pick = PickContext(random: random, now: Instant(nanoseconds: now))
        pick.tried = relay.tried
        let result = reader.pickL4(
            &pick,
            client: relay.client,
            includePort: config.settings.hashIncludesClientPort,
            algorithm: config.cluster.settings.algorithm
        )
        random = pick.random
        guard let index = result.index else {
            config.logger.warning("closing client: no backend", metadata: ["reason": "\(result)", "client": "\(relay.clientText)"])
            closeRelay(relay)
            return
        }
        relay.backend = index
        relay.attempts += 1
        relay.tried.insert(index)
        config.cluster.backends[index].load.start()
        relay.loadOpen = true
        guard let address = config.addresses[index] else {
            connectFailed(relay, reason: "cannot resolve \(config.cluster.backends[index].address.host)")
            return
        }
        let fd = socket(address.protocol.rawValue, SocketCalls.streamNonBlocking, 0)
        guard fd >= 0 else {
            // Out of descriptors here is this process's trouble, not the
            // backend's: no outcome is recorded and no other backend tried.
            let error = SocketCallError("socket", errno)
            config.cluster.backends[index].load.finish(at: Instant(nanoseconds: now))
            relay.loadOpen = false
            closeRelay(relay)
            pauseAccepting(error)
            return
        }
        // The relay writes what it reads when it reads it; Nagle would hold
        // a second small write back for an ACK.
        _ = SocketCalls.setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let connected = address.withSockAddr { Glibc.connect(fd, $0, socklen_t($1)) }
        if connected != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            connectFailed(relay, reason: ConnectionErrorText.describe(errno: code))
            return
        }
        relay.backendFD = fd
        relay.backendToken = makeToken()
        guard cfulcrum_epoll_add(epfd, fd, Self.edgeEvents, Self.tag(relay.slot, relay.backendToken)) == 0 else {
            connectFailed(relay, reason: "\(SocketCallError("epoll_ctl"))")
            return
        }
        relay.phase = .connecting
        relay.phaseDeadline = now &+ connectTimeout
        arm(relay)
    }

    /// Bytes a client sends while its backend is being dialled wait, up to
    /// `earlyLimit`; a failed connect can then be retried elsewhere without
    /// losing any of them.
    private func readEarly(_ relay: Relay) {
        while relay.fromClient.readable && !relay.fromClient.ended && relay.fromClient.pendingCount < Self.earlyLimit {
            let count = recv(relay.clientFD, scratch.baseAddress, scratch.count, 0)
            if count > 0 {
                relay.fromClient.bytes += count
                relay.fromClient.keep(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
                if count < scratch.count {
                    relay.fromClient.readable = false
                    if relay.fromClient.sourceFinished { relay.fromClient.ended = true }
                }
            } else if count == 0 {
                relay.fromClient.ended = true
                relay.fromClient.readable = false
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                relay.fromClient.readable = false
            } else if errno != EINTR {
                closeRelay(relay)
                return
            }
        }
    }

    private func connected(_ relay: Relay) {
        relay.phase = .relaying
        relay.lastActivity = now
        for event in config.cluster.recordOutcome(.success, backend: relay.backend) {
            config.logger.info("\(event)")
        }
        if let version = config.settings.sendProxyProtocol {
            let destination = relay.destination ?? SocketCalls.localEndpoint(relay.clientFD)
            let addresses = relay.client.flatMap { client in
                destination.map { ProxyHeader.Addresses(source: client, destination: $0) }
            }
            let header = ProxyHeader(version: version, addresses: addresses).encoded()
            let early = relay.fromClient.pending[relay.fromClient.pendingStart...]
            relay.fromClient.pending = header + early
            relay.fromClient.pendingStart = 0
        }
        arm(relay)
    }

    private func connectFailed(_ relay: Relay, reason: String) {
        if relay.backendFD >= 0 {
            close(relay.backendFD)
            relay.backendFD = -1
            relay.backendToken = 0
        }
        let index = relay.backend
        let backend = config.cluster.backends[index]
        backend.load.finish(at: Instant(nanoseconds: now))
        relay.loadOpen = false
        for event in config.cluster.recordOutcome(.gatewayFailure(reason: "connect: \(reason)"), backend: index) {
            config.logger.warning("\(event)")
        }
        // Nothing has been forwarded yet, so another backend can take the
        // connection as if it had been first.
        if relay.attempts <= config.options.retries {
            connect(relay)
        } else {
            config.logger.warning(
                "closing client: every connect failed",
                metadata: ["backend": "\(backend.id)", "client": "\(relay.clientText)", "error": "\(reason)"]
            )
            closeRelay(relay)
        }
    }

    // MARK: - Relaying

    /// Moves what can move in both directions, passes on half-closes, and
    /// closes the relay once both directions have ended.
    private func pump(_ relay: Relay) {
        var active = false
        guard
            transfer(&relay.fromClient, from: relay.clientFD, to: relay.backendFD, otherDone: relay.fromBackend.shutDown, active: &active),
            transfer(&relay.fromBackend, from: relay.backendFD, to: relay.clientFD, otherDone: relay.fromClient.shutDown, active: &active)
        else {
            closeRelay(relay)
            return
        }
        if active { relay.lastActivity = now }
        if relay.fromClient.shutDown && relay.fromBackend.shutDown { closeRelay(relay) }
    }

    /// Writes what is pending, then reads and writes on while the source has
    /// input and the destination takes it all; once the source has ended and
    /// everything is written, shuts the destination's sending side (unless
    /// the other direction is done too, when closing both sockets follows at
    /// once and sends the FIN itself). Returns false on an error that ends
    /// the relay.
    private func transfer(
        _ direction: inout Relay.Direction,
        from source: Int32,
        to destination: Int32,
        otherDone: Bool,
        active: inout Bool
    ) -> Bool {
        if !direction.isDrained {
            let start = direction.pendingStart
            let written = direction.pending.withUnsafeBytes { bytes in
                send(destination, bytes.baseAddress! + start, bytes.count - start, SocketCalls.noSignal)
            }
            if written < 0 {
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
            }
            direction.pendingStart += written
            guard direction.isDrained else { return true }
        }
        while direction.readable && !direction.ended {
            let count = recv(source, scratch.baseAddress, scratch.count, 0)
            if count > 0 {
                direction.bytes += count
                active = true
                var written = send(destination, scratch.baseAddress, count, SocketCalls.noSignal)
                if written < 0 {
                    guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return false }
                    written = 0
                }
                if count < scratch.count {
                    direction.readable = false
                    if direction.sourceFinished { direction.ended = true }
                }
                if written < count {
                    direction.keep(UnsafeRawBufferPointer(rebasing: scratch[written..<count]))
                    return true
                }
            } else if count == 0 {
                direction.ended = true
                direction.readable = false
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                direction.readable = false
            } else if errno != EINTR {
                return false
            }
        }
        if direction.ended && direction.isDrained && !direction.shutDown {
            direction.shutDown = true
            if !otherDone { _ = shutdown(destination, Int32(SHUT_WR)) }
        }
        return true
    }

    // MARK: - Closing

    /// Ends the relay. The backend's load and counters are updated before
    /// the sockets close, so a client that sees its connection end and opens
    /// the next one (perhaps on another loop) finds them current.
    private func closeRelay(_ relay: Relay) {
        guard relays[relay.slot] === relay else { return }
        relays[relay.slot] = nil
        freeSlots.append(relay.slot)
        open -= 1
        let backend = relay.loadOpen ? config.cluster.backends[relay.backend] : nil
        let relayed = relay.phase == .relaying
        let duration = now &- relay.accepted
        let bytesIn = relay.fromClient.bytes
        let bytesOut = relay.fromBackend.bytes
        if let backend {
            backend.load.finish(at: Instant(nanoseconds: now))
            if relayed {
                backend.load.recordConnection(bytesIn: bytesIn, bytesOut: bytesOut, duration: .nanoseconds(Int64(duration)))
            }
        }
        close(relay.clientFD)
        if relay.backendFD >= 0 { close(relay.backendFD) }
        guard let backend, relayed else { return }
        config.logger.info(
            "connection closed",
            metadata: [
                "client": "\(relay.clientText)",
                "backend": "\(backend.id)",
                "bytes_in": "\(bytesIn)",
                "bytes_out": "\(bytesOut)",
                "duration_ms": "\(duration / 1_000_000)",
                "end": "\(relay.closedForIdleness ? "idle timeout" : "closed")",
            ]
        )
    }

    // MARK: - Deadlines

    private func deadline(of relay: Relay) -> UInt64 {
        switch relay.phase {
        case .proxyHeader, .connecting: relay.phaseDeadline
        case .relaying: relay.lastActivity &+ idleTimeout
        }
    }

    /// Makes sure the heap holds an entry no later than the relay's
    /// deadline; a later deadline is found when the earlier entry comes due.
    private func arm(_ relay: Relay) {
        let due = deadline(of: relay)
        guard due < relay.armed else { return }
        relay.armed = due
        deadlines.push(.init(at: due, slot: relay.slot, token: relay.clientToken))
    }

    private func fireDeadlines() {
        while let first = deadlines.first, first.at <= now {
            _ = deadlines.popFirst()
            guard first.slot < relays.count, let relay = relays[first.slot], relay.clientToken == first.token,
                relay.armed == first.at
            else { continue }
            relay.armed = .max
            guard deadline(of: relay) <= now else {
                arm(relay)
                continue
            }
            switch relay.phase {
            case .proxyHeader:
                let seconds = Double(headerTimeout) / 1e9
                proxyHeaderFailed(relay, ProxyProtocolError(.timeout, "no complete header within \(seconds) s"))
            case .connecting:
                connectFailed(relay, reason: "connect timeout")
            case .relaying:
                relay.closedForIdleness = true
                closeRelay(relay)
            }
        }
    }
}
