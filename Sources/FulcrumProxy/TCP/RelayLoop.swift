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
        let addresses: BackendSocketAddresses
        let options: ProxyOptions
        let settings: TCPListenerSettings
        let logger: Logger
    }

    private static let listenerTag = UInt64.max
    private static let wakeTag = UInt64.max - 1
    private static let edgeEvents = cfulcrum_EPOLLIN | cfulcrum_EPOLLOUT | cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLET
    /// 64 KiB: also the most a direction parks when its destination is slow
    /// (a short write keeps the rest), so 10,000 stalled downloads hold at
    /// most 640 MiB. 256 KiB reads measured a little faster in bulk (iperf3
    /// 19–20 against 16–20 Gbit/s) at four times that.
    private static let scratchSize = 64 * 1024
    /// What a client may send before its backend is connected.
    private static let earlyLimit = 64 * 1024
    private static let maxEvents: Int32 = 256

    private let config: Configuration
    private let listener: ListenerControl
    private let listenFD: Int32
    private let listenEvents: UInt32
    private let epfd: Int32
    private let wakeFD: Int32
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
    private var deadlines = DeadlineHeap()
    private var accepting = true
    /// Set while the listener is out of the epoll set because accept ran
    /// out of descriptors or memory: level-triggered, it would otherwise
    /// wake the loop at once, forever. CLOCK_MONOTONIC nanoseconds.
    private var acceptPausedUntil: UInt64?
    private var lastAcceptWarning: UInt64 = 0
    private var lastLimitWarning: UInt64 = 0
    private static let acceptPause: UInt64 = 100_000_000
    private var now: UInt64
    private let scratch: UnsafeMutableRawBufferPointer
    private let readyEvents: UnsafeMutablePointer<UInt32>
    private let readyData: UnsafeMutablePointer<UInt64>

    /// Relays that read their full share in one go and still have input:
    /// they go again after the other events, so one bulk transfer cannot
    /// hold up every other connection, accept and deadline of the loop.
    private var again: [Relay] = []
    /// Reads of up to `scratchSize` one direction may make per turn (1 MiB).
    private static let readsPerTurn = 16

    /// A loop accepting from `listener`'s socket; it tells `listener` once it
    /// has taken that socket out of its epoll set after ``wake()``.
    init(listener: ListenerControl, exclusive: Bool, loopNumber: Int, configuration: Configuration) throws {
        config = configuration
        self.listener = listener
        listenFD = listener.fd
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

    deinit {
        close(wakeFD)
        close(epfd)
        scratch.deallocate()
        readyEvents.deallocate()
        readyData.deallocate()
    }

    /// Asks the loop to stop accepting; it ends once its relays have closed.
    /// The eventfd stays open until the loop is freed, so a late call never
    /// writes into a descriptor reused by a connection.
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Runs on a thread of its own, named `name`, until stopped and idle.
    func start(name: String) throws {
        try LoopThread.start(name: name) { self.run() }
    }

    private func run() {
        while accepting || open > 0 {
            let count = cfulcrum_epoll_wait(epfd, readyEvents, readyData, Self.maxEvents, timeoutMilliseconds())
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                config.logger.error("l4 relay loop stopped", metadata: ["error": "\(SocketCallError("epoll_wait", code))"])
                abandon()
                return
            }
            now = SocketCalls.monotonicNow()
            for i in 0..<Int(count) {
                switch readyData[i] {
                case Self.listenerTag: acceptOne()
                case Self.wakeTag: stopAccepting()
                case let data: dispatch(events: readyEvents[i], data: data)
                }
            }
            runAgain()
            fireDeadlines()
            resumeAccepting()
        }
    }

    /// After a failure of the loop itself: every relay closes (releasing its
    /// backend's load) and the listener is let go.
    private func abandon() {
        for case let relay? in relays {
            closeRelay(relay)
            release(relay)
        }
        if accepting {
            accepting = false
            if acceptPausedUntil == nil { _ = cfulcrum_epoll_del(epfd, listenFD) }
            listener.loopStoppedAccepting()
        }
    }

    private func runAgain() {
        guard !again.isEmpty else { return }
        let turn = again
        again = []
        for relay in turn {
            relay.queued = false
            if relays[relay.slot] === relay && relay.phase == .relaying { pump(relay) }
        }
    }

    private func timeoutMilliseconds() -> Int32 {
        if !again.isEmpty { return 0 }
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
        listener.loopStoppedAccepting()
    }

    /// Out of descriptors, memory or local ports: stop accepting for 100 ms. The
    /// level-triggered listener would otherwise wake the loop at once,
    /// forever, while connections wait in its queue.
    private func pauseAccepting(_ error: SocketCallError) {
        stopListening(for: Self.acceptPause)
        if now &- lastAcceptWarning >= 1_000_000_000 {
            lastAcceptWarning = now
            config.logger.warning(
                "out of a local resource; not accepting for 100 ms",
                metadata: ["error": "\(error)", "open_connections": "\(open)"]
            )
        }
    }

    /// At `max_connections`: new connections wait in the listen queue, and
    /// this loop looks again in 10 ms (a place may free up on any loop).
    private func pauseAtLimit() {
        stopListening(for: 10_000_000)
        if now &- lastLimitWarning >= 1_000_000_000 {
            lastLimitWarning = now
            config.logger.warning(
                "at max_connections; new connections wait in the listen queue",
                metadata: ["max_connections": "\(listener.maxConnections)"]
            )
        }
    }

    /// Takes the listener out of this loop's epoll set for `nanoseconds`;
    /// ``resumeAccepting()`` puts it back.
    private func stopListening(for nanoseconds: UInt64) {
        if accepting && acceptPausedUntil == nil { _ = cfulcrum_epoll_del(epfd, listenFD) }
        acceptPausedUntil = now &+ nanoseconds
    }

    private func resumeAccepting() {
        guard let until = acceptPausedUntil, now >= until else { return }
        acceptPausedUntil = nil
        guard accepting, cfulcrum_epoll_add(epfd, listenFD, listenEvents, Self.listenerTag) != 0 else { return }
        // Still short of memory or epoll watches: try again later rather
        // than never accept on this loop again.
        acceptPausedUntil = now &+ Self.acceptPause
    }

    // MARK: - Accepting

    private func acceptOne() {
        guard accepting else { return }
        let fd: Int32
        let peer: ProxyEndpoint?
        switch listener.accept() {
        case .connection(let accepted, let endpoint):
            fd = accepted
            peer = endpoint
        case .nothing:
            return
        case .atLimit:
            pauseAtLimit()
            return
        case .shortage(let error):
            pauseAccepting(error)
            return
        }
        if let trusted = config.settings.proxyProtocolTrusted, let error = ProxyProtocolError.untrusted(peer, trusted) {
            config.logger.proxyProtocolRefused(peer: peer, error)
            close(fd)
            listener.connectionEnded()
            return
        }
        let relay = makeRelay(fd: fd, client: peer, phase: config.settings.proxyProtocolTrusted == nil ? .connecting : .proxyHeader)
        guard cfulcrum_epoll_add(epfd, fd, Self.edgeEvents, Self.tag(relay.slot, relay.clientToken)) == 0 else {
            let error = SocketCallError("epoll_ctl", errno)
            closeRelay(relay)
            pauseAccepting(error)
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
        if relay.phase == .lingering && events & (cfulcrum_EPOLLERR | cfulcrum_EPOLLHUP) != 0 {
            release(relay)
            return
        }
        if events & cfulcrum_EPOLLERR != 0 {
            // Reset or failed. Before a backend is involved nothing is owed;
            // while relaying, what the client sent before the reset still
            // goes on, and nothing more can be sent to it.
            guard relay.phase == .relaying else {
                closeRelay(relay)
                return
            }
            relay.clientBroken = true
        }
        if events & (cfulcrum_EPOLLIN | cfulcrum_EPOLLHUP | cfulcrum_EPOLLERR) != 0 { relay.fromClient.readable = true }
        if events & (cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLHUP | cfulcrum_EPOLLERR) != 0 { relay.fromClient.sourceFinished = true }
        switch relay.phase {
        case .proxyHeader: readProxyHeader(relay)
        case .connecting: readEarly(relay)
        case .relaying: pump(relay)
        case .lingering: drainLingering(relay)
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
            // A backend that answers and resets (say a 413 to an upload it
            // will not read) has its answer queued here: it is read and
            // passed on before the relay ends.
            relay.backendBroken = true
        }
        if events & (cfulcrum_EPOLLIN | cfulcrum_EPOLLHUP | cfulcrum_EPOLLERR) != 0 { relay.fromBackend.readable = true }
        if events & (cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLHUP | cfulcrum_EPOLLERR) != 0 { relay.fromBackend.sourceFinished = true }
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
                    if relay.fromClient.sourceFinished {
                        relay.fromClient.ended = true
                        relay.fromClient.sourceDone = true
                    }
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
        config.logger.proxyProtocolRefused(peer: relay.client, error)
        closeRelay(relay)
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
            let code = errno
            if Self.isLocalShortage(code) {
                localFailure(relay, SocketCallError("socket", code))
            } else {
                connectFailed(relay, reason: ConnectionErrorText.describe(errno: code))
            }
            return
        }
        // The relay writes what it reads when it reads it; Nagle would hold
        // a second small write back for an ACK.
        _ = SocketCalls.setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let code = address.withSockAddr { Glibc.connect(fd, $0, socklen_t($1)) == 0 ? 0 : errno }
        if code != 0 && code != EINPROGRESS {
            close(fd)
            if Self.isLocalShortage(code) {
                localFailure(relay, SocketCallError("connect", code))
            } else {
                connectFailed(relay, reason: ConnectionErrorText.describe(errno: code))
            }
            return
        }
        let token = makeToken()
        guard cfulcrum_epoll_add(epfd, fd, Self.edgeEvents, Self.tag(relay.slot, token)) == 0 else {
            let error = SocketCallError("epoll_ctl", errno)
            close(fd)
            localFailure(relay, error)
            return
        }
        relay.backendFD = fd
        relay.backendToken = token
        relay.phase = .connecting
        relay.phaseDeadline = now &+ connectTimeout
        arm(relay)
    }

    /// Errors of this process or host, not of the backend: out of
    /// descriptors, memory or local ports.
    private static func isLocalShortage(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM || code == EADDRNOTAVAIL || code == ENOSPC
    }

    /// The backend connection could not even be attempted for want of a
    /// local resource: the client is closed, no backend is blamed (which
    /// under exhaustion would eject them all), and accepting pauses.
    private func localFailure(_ relay: Relay, _ error: SocketCallError) {
        config.cluster.backends[relay.backend].load.finish(at: Instant(nanoseconds: now))
        relay.loadOpen = false
        closeRelay(relay)
        pauseAccepting(error)
    }

    /// Bytes a client sends while its backend is being dialled wait, up to
    /// `earlyLimit`; a failed connect can then be retried elsewhere without
    /// losing any of them.
    private func readEarly(_ relay: Relay) {
        while relay.fromClient.readable && !relay.fromClient.ended && relay.fromClient.pendingCount < Self.earlyLimit {
            let room = Swift.min(scratch.count, Self.earlyLimit - relay.fromClient.pendingCount)
            let count = recv(relay.clientFD, scratch.baseAddress, room, 0)
            if count > 0 {
                relay.fromClient.bytes += count
                relay.fromClient.keep(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
                if count < room {
                    relay.fromClient.readable = false
                    if relay.fromClient.sourceFinished {
                        relay.fromClient.ended = true
                        relay.fromClient.sourceDone = true
                    }
                }
            } else if count == 0 {
                relay.fromClient.ended = true
                relay.fromClient.sourceDone = true
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
    /// closes the relay once both directions are done.
    private func pump(_ relay: Relay) {
        var active = false
        var more = false
        transfer(
            &relay.fromClient, from: relay.clientFD, to: relay.backendFD,
            sourceBroken: &relay.clientBroken, destinationBroken: &relay.backendBroken,
            otherDone: relay.fromBackend.shutDown, active: &active, more: &more
        )
        transfer(
            &relay.fromBackend, from: relay.backendFD, to: relay.clientFD,
            sourceBroken: &relay.backendBroken, destinationBroken: &relay.clientBroken,
            otherDone: relay.fromClient.shutDown, active: &active, more: &more
        )
        if active { relay.lastActivity = now }
        if relay.fromClient.shutDown && relay.fromBackend.shutDown {
            closeRelay(relay)
        } else if more && !relay.queued {
            relay.queued = true
            again.append(relay)
        }
    }

    /// Writes what is pending, then reads and writes on while the source has
    /// input and the destination takes it all (up to `readsPerTurn` reads;
    /// `more` says input is left); once the source has ended and everything
    /// is written, shuts the destination's sending side, unless the other
    /// direction is done too, when closing both sockets follows at once and
    /// sends the FIN itself.
    ///
    /// A socket that failed (reset, or a send refused) is "broken": what is
    /// queued from it is still read, nothing more is sent to it, and what
    /// its direction still had for it is dropped.
    private func transfer(
        _ direction: inout Relay.Direction,
        from source: Int32,
        to destination: Int32,
        sourceBroken: inout Bool,
        destinationBroken: inout Bool,
        otherDone: Bool,
        active: inout Bool,
        more: inout Bool
    ) {
        guard !direction.shutDown else { return }
        if destinationBroken {
            direction.abandon()
            return
        }
        if !direction.isDrained {
            let start = direction.pendingStart
            let sent = direction.pending.withUnsafeBytes { bytes in
                Self.send(destination, bytes.baseAddress! + start, bytes.count - start)
            }
            guard let written = sent else {
                destinationBroken = true
                direction.abandon()
                return
            }
            direction.pendingStart += written
            guard direction.isDrained else { return }
            direction.drop()
        }
        var reads = 0
        while direction.readable && !direction.ended {
            guard reads < Self.readsPerTurn else {
                more = true
                break
            }
            reads += 1
            let count = recv(source, scratch.baseAddress, scratch.count, 0)
            if count > 0 {
                direction.bytes += count
                active = true
                guard let written = Self.send(destination, scratch.baseAddress!, count) else {
                    destinationBroken = true
                    direction.abandon()
                    return
                }
                if count < scratch.count {
                    direction.readable = false
                    if direction.sourceFinished {
                        direction.ended = true
                        direction.sourceDone = true
                    }
                }
                if written < count {
                    direction.keep(UnsafeRawBufferPointer(rebasing: scratch[written..<count]))
                    return
                }
            } else if count == 0 {
                direction.ended = true
                direction.sourceDone = true
                direction.readable = false
            } else {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK {
                    direction.readable = false
                } else if code != EINTR {
                    // A reset after the last byte: the input has ended.
                    sourceBroken = true
                    direction.ended = true
                    direction.sourceDone = true
                    direction.readable = false
                }
            }
        }
        if direction.ended && direction.isDrained {
            direction.shutDown = true
            if !otherDone && !destinationBroken { _ = shutdown(destination, Int32(SHUT_WR)) }
        }
    }

    /// Bytes `send` took (0 when the socket is full), or nil when the socket
    /// refused them for good (reset, or shut by the peer).
    private static func send(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int? {
        while true {
            let written = Glibc.send(fd, bytes, count, SocketCalls.noSignal)
            if written >= 0 { return written }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            default: return nil
            }
        }
    }

    // MARK: - Closing

    /// Ends the relay. The backend's load and counters are updated before
    /// the sockets close, so a client that sees its connection end and opens
    /// the next one (perhaps on another loop) finds them current. A client
    /// that may still be sending is not closed at once but lingers (see
    /// ``Relay/Phase/lingering``).
    private func closeRelay(_ relay: Relay) {
        guard relays[relay.slot] === relay, relay.phase != .lingering else { return }
        let backend = relay.loadOpen ? config.cluster.backends[relay.backend] : nil
        let relayed = relay.phase == .relaying
        let duration = now &- relay.accepted
        let bytesIn = relay.fromClient.bytes
        let bytesOut = relay.fromBackend.bytes
        if let backend {
            backend.load.finish(at: Instant(nanoseconds: now))
            relay.loadOpen = false
            if relayed {
                backend.load.recordConnection(bytesIn: bytesIn, bytesOut: bytesOut, duration: .nanoseconds(Int64(duration)))
            }
        }
        if relay.backendFD >= 0 {
            close(relay.backendFD)
            relay.backendFD = -1
            relay.backendToken = 0
        }
        if relayed && !relay.clientBroken && !relay.fromClient.sourceDone {
            _ = shutdown(relay.clientFD, Int32(SHUT_WR))
            relay.phase = .lingering
            relay.phaseDeadline = now &+ Self.lingerTime
            arm(relay)
            drainLingering(relay)
        } else {
            release(relay)
        }
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

    /// How long a lingering client may go on sending before it is closed.
    private static let lingerTime: UInt64 = 2_000_000_000

    /// Reads and drops what a lingering client sends, a turn's worth at a
    /// time (more input brings another edge); closes it at its end, on an
    /// error, or at the linger deadline.
    private func drainLingering(_ relay: Relay) {
        for _ in 0..<Self.readsPerTurn {
            let count = recv(relay.clientFD, scratch.baseAddress, scratch.count, 0)
            if count > 0 { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if count < 0 && errno == EINTR { continue }
            release(relay)
            return
        }
    }

    /// Closes the client socket and frees the relay's slot and its place
    /// under `max_connections`.
    private func release(_ relay: Relay) {
        guard relays[relay.slot] === relay else { return }
        close(relay.clientFD)
        if relay.backendFD >= 0 { close(relay.backendFD) }
        relays[relay.slot] = nil
        freeSlots.append(relay.slot)
        open -= 1
        listener.connectionEnded()
    }

    // MARK: - Deadlines

    private func deadline(of relay: Relay) -> UInt64 {
        switch relay.phase {
        case .proxyHeader, .connecting, .lingering: relay.phaseDeadline
        case .relaying: relay.lastActivity &+ idleTimeout
        }
    }

    /// Makes sure the heap holds an entry no later than the relay's
    /// deadline; a later deadline is found when the earlier entry comes due.
    private func arm(_ relay: Relay) {
        let due = deadline(of: relay)
        guard due < relay.armed else { return }
        relay.armed = due
        deadlines.arm(.init(at: due, slot: relay.slot, token: relay.clientToken), live: open, isCurrent: isCurrent)
    }

    private func isCurrent(_ entry: DeadlineHeap.Entry) -> Bool {
        guard entry.slot < relays.count, let relay = relays[entry.slot] else { return false }
        return relay.clientToken == entry.token && relay.armed == entry.at
    }

    private func fireDeadlines() {
        while let due = deadlines.nextDue(now: now, isCurrent: isCurrent) {
            let relay = relays[due.slot]!
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
            case .lingering:
                release(relay)
            }
        }
    }
}
