import CFulcrumLinux
import CoreMetrics
import FulcrumCore
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One loop's share of an HTTP listener: its thread (a ``PollLoop``), the
/// listening socket it accepts from with the listener's other loops, its
/// client connections, and its per-loop route targets with their pools.
///
/// Everything here runs on the loop's thread; the server reaches it only
/// through ``PollLoop/execute(_:)``.
final class HTTPListenerLoop: @unchecked Sendable {
    let loop: PollLoop
    let routing: HTTPRouting
    let targets: [LoopTarget]
    let clientTimeouts: ClientTimeouts
    let accessLog: AccessLogFormat?
    let accessLogger: Logger?
    let limits: HTTPParserLimits
    let rejected: Counter?
    let logger: Logger
    let proxyHeaderParser = ProxyHeaderParser()
    private let proxyProtocolTrusted: [IPNetwork]?
    private let listener: ListenerControl
    private var acceptor: Acceptor?
    private var listenEvents: UInt32 = 0
    private var connections: [ObjectIdentifier: HTTPProxyConnection] = [:]
    private var accepting = true
    private var draining = false
    /// Set while the listener is out of the epoll set: out of descriptors,
    /// or at the connection limit.
    private var paused = false
    private var lastWarning: UInt64 = 0

    struct Settings {
        let routing: HTTPRouting
        let counters: [ClusterCounters]
        let addresses: [BackendSocketAddresses]
        let clientTimeouts: ClientTimeouts
        let accessLog: AccessLogFormat?
        let proxyProtocolTrusted: [IPNetwork]?
        let rejected: Counter?
        let logger: Logger
    }

    init(number: Int, listener: ListenerControl, settings: Settings) throws {
        loop = try PollLoop(number: number, logger: settings.logger)
        routing = settings.routing
        targets = settings.routing.targets.indices.map { i in
            LoopTarget(settings.routing.targets[i], loopNumber: number, counters: settings.counters[i], addresses: settings.addresses[i])
        }
        clientTimeouts = settings.clientTimeouts
        accessLog = settings.accessLog
        accessLogger = settings.accessLog.map { _ in Logger(label: "fulcrum.access") }
        limits = .defaults
        rejected = settings.rejected
        logger = settings.logger
        proxyProtocolTrusted = settings.proxyProtocolTrusted
        self.listener = listener
    }

    /// Registers the listening socket and starts the thread. `exclusive`
    /// (several loops share the socket) wakes one loop per connection.
    func start(exclusive: Bool) throws {
        // Level-triggered: one accept per wake-up, never an accept that
        // finds nothing.
        listenEvents = cfulcrum_EPOLLIN | (exclusive ? cfulcrum_EPOLLEXCLUSIVE : 0)
        let acceptor = Acceptor(fd: listener.fd, owner: self)
        guard loop.register(acceptor, events: listenEvents) else { throw SocketCallError("epoll_ctl") }
        self.acceptor = acceptor
        // The loop and this share a cycle while the thread runs; the loop
        // breaks it when it ends.
        loop.shouldStop = { !self.accepting && self.connections.isEmpty }
        loop.onStop = {
            for target in self.targets { target.pool.closeAll() }
        }
        try loop.start(name: "fulcrum-http-\(loop.number)")
    }

    // MARK: - Accepting

    fileprivate func acceptOne() {
        guard accepting, !paused else { return }
        let fd: Int32
        let peer: ProxyEndpoint?
        switch listener.accept() {
        case .connection(let accepted, let endpoint):
            fd = accepted
            peer = endpoint
        case .nothing:
            return
        case .atLimit:
            pause(for: 10_000_000, "at the connection limit; new connections wait in the listen queue", error: nil)
            return
        case .shortage(let error):
            pause(for: 100_000_000, "out of a local resource; not accepting for 100 ms", error: error)
            return
        }
        if let trusted = proxyProtocolTrusted, let error = ProxyProtocolError.untrusted(peer, trusted) {
            logger.proxyProtocolRefused(peer: peer, error)
            close(fd)
            listener.connectionEnded()
            return
        }
        let connection = HTTPProxyConnection(fd: fd, peer: peer, expectsProxyHeader: proxyProtocolTrusted != nil, owner: self)
        guard loop.register(connection) else {
            let error = SocketCallError("epoll_ctl", errno)
            close(fd)
            listener.connectionEnded()
            pause(for: 100_000_000, "out of a local resource; not accepting for 100 ms", error: error)
            return
        }
        connections[ObjectIdentifier(connection)] = connection
        connection.start()
        if draining { connection.drain() }
    }

    /// Takes the listener out of this loop's epoll set for `nanoseconds`,
    /// with one warning a second: level-triggered, it would otherwise wake
    /// the loop at once, forever.
    private func pause(for nanoseconds: UInt64, _ message: Logger.Message, error: SocketCallError?) {
        guard let acceptor else { return }
        if !paused { loop.unwatch(listener.fd) }
        paused = true
        loop.arm(acceptor, at: loop.now &+ nanoseconds)
        if loop.now &- lastWarning >= 1_000_000_000 {
            lastWarning = loop.now
            var metadata: Logger.Metadata = ["open_connections": "\(connections.count)"]
            if let error { metadata["error"] = "\(error)" }
            logger.warning(message, metadata: metadata)
        }
    }

    fileprivate func resumeAccepting() {
        guard paused, accepting, let acceptor else { return }
        paused = false
        guard loop.rewatch(acceptor, events: listenEvents) else {
            // Still short of memory or epoll watches: try again later
            // rather than never accept on this loop again.
            paused = true
            loop.arm(acceptor, at: loop.now &+ 100_000_000)
            return
        }
    }

    // MARK: - Stopping

    /// Stops accepting; on the loop. The last loop to stop closes the
    /// listening socket.
    func stopAccepting() {
        guard accepting else { return }
        accepting = false
        if !paused { loop.unwatch(listener.fd) }
        if let acceptor { loop.forget(acceptor) }
        acceptor = nil
        listener.loopStoppedAccepting()
    }

    /// Idle connections close now; those with a request in flight finish it
    /// and close.
    func drainConnections() {
        draining = true
        for connection in Array(connections.values) { connection.drain() }
    }

    /// Closes every connection now.
    func closeConnections() {
        for connection in Array(connections.values) { connection.connectionLost() }
    }

    /// Called by a connection as its socket closes.
    func connectionClosed(_ connection: HTTPProxyConnection) {
        guard connections.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
        listener.connectionEnded()
    }
}

/// The listening socket as one loop sees it.
private final class Acceptor: PollSocket {
    unowned(unsafe) let owner: HTTPListenerLoop

    init(fd: Int32, owner: HTTPListenerLoop) {
        self.owner = owner
        super.init(fd: fd)
    }

    override func handle(events: UInt32) {
        owner.acceptOne()
    }

    override func deadlinePassed() {
        owner.resumeAccepting()
    }

    /// The loop failed: it accepts no more, and the listener must know, or
    /// its socket would never close and a stop would wait forever.
    override func abandon() {
        owner.stopAccepting()
    }
}
