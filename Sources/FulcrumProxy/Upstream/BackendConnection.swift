import CFulcrumLinux
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The backend end of a proxied exchange: a connection to one backend,
/// passing raw bytes to and from the ``HTTPProxyConnection`` using it. Both
/// live on the same ``PollLoop``. While the connection sits idle in its
/// loop's pool no proxy is attached; any byte or close the backend sends
/// then ends the connection, since its framing cannot be trusted after it.
final class BackendConnection: StreamSocket {
    let backend: Int
    unowned(unsafe) let pool: BackendConnectionPool
    /// The connect has not completed yet.
    private(set) var connecting = true
    private var connectDeadline: UInt64 = 0
    private var proxy: HTTPProxyConnection?
    private var attemptID = 0
    /// Set while the client cannot take more bytes: reads wait.
    private var readsPaused = false
    /// CLOCK_MONOTONIC nanoseconds when it was last put in the pool.
    var idleSince: UInt64 = 0

    private init(fd: Int32, loop: PollLoop, pool: BackendConnectionPool, backend: Int) {
        self.pool = pool
        self.backend = backend
        super.init(fd: fd, loop: loop)
    }

    /// Starts a non-blocking connect to `address`, due within `timeout`
    /// nanoseconds. Throws when no socket could even be tried: `local` says
    /// whether the shortage is this host's (descriptors, memory, ports)
    /// rather than the backend's.
    static func connect(
        to address: SocketAddress,
        timeout: UInt64,
        loop: PollLoop,
        pool: BackendConnectionPool,
        backend: Int
    ) throws(ConnectFailure) -> BackendConnection {
        let fd = socket(address.protocol.rawValue, SocketCalls.streamNonBlocking, 0)
        guard fd >= 0 else { throw ConnectFailure(errno) }
        // The proxy writes a request or response as soon as it has it;
        // Nagle would hold a second small write back for an ACK.
        _ = SocketCalls.setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let code = address.withSockAddr { Glibc.connect(fd, $0, socklen_t($1)) == 0 ? 0 : errno }
        guard code == 0 || code == EINPROGRESS else {
            Glibc.close(fd)
            throw ConnectFailure(code)
        }
        let connection = BackendConnection(fd: fd, loop: loop, pool: pool, backend: backend)
        guard loop.register(connection) else {
            let failure = ConnectFailure(errno)
            Glibc.close(fd)
            throw failure
        }
        connection.connectDeadline = loop.now &+ timeout
        loop.arm(connection, at: connection.connectDeadline)
        return connection
    }

    /// Why a connect could not start or did not complete.
    struct ConnectFailure: Error {
        let code: Int32
        init(_ code: Int32) { self.code = code }

        /// Out of descriptors, memory or local ports: a fault of this host,
        /// not of the backend.
        var isLocal: Bool {
            code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM || code == EADDRNOTAVAIL
        }

        var description: String { ConnectionErrorText.describe(errno: code) }

        /// Refused, or no route: another address of the same name may work
        /// (a server on 127.0.0.1 only, named `localhost`, which resolves
        /// to `::1` first).
        var triesNextAddress: Bool {
            code == ECONNREFUSED || code == ENETUNREACH || code == EHOSTUNREACH || code == EAFNOSUPPORT
                || code == EADDRNOTAVAIL
        }
    }

    func attach(_ proxy: HTTPProxyConnection, attemptID: Int) {
        self.proxy = proxy
        self.attemptID = attemptID
    }

    /// Forgets the proxy; the connection is about to be pooled or closed.
    func detach() {
        proxy = nil
        readsPaused = false
    }

    /// Stops reading until ``resumeReads()``.
    func pauseReads() {
        readsPaused = true
    }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if readable { loop.again(self) }
    }

    /// Closes the connection; nobody is told.
    func close() {
        proxy = nil
        closeSocket()
    }

    override func handle(events: UInt32) {
        if connecting {
            if events & (cfulcrum_EPOLLERR | cfulcrum_EPOLLHUP) != 0 {
                let code = SocketCalls.pendingError(fd)
                connectFailed(code == 0 ? ECONNREFUSED : code)
                return
            }
            guard events & cfulcrum_EPOLLOUT != 0 else { return }
            connecting = false
            _ = noteEvents(events)
            proxy?.backendConnected(self, attemptID: attemptID)
        } else if noteEvents(events) {
            proxy?.backendBecameWritable()
        }
        readAvailable()
    }

    override func anotherTurn() {
        readAvailable()
    }

    override func deadlinePassed() {
        guard connecting else { return }
        if loop.now >= connectDeadline {
            connectFailed(ETIMEDOUT)
        } else {
            loop.arm(self, at: connectDeadline)
        }
    }

    private func connectFailed(_ code: Int32) {
        let proxy = self.proxy
        close()
        proxy?.backendConnectFailed(attemptID: attemptID, ConnectFailure(code))
    }

    /// Reads while input waits and the client takes what is read, passing
    /// each read to the proxy (which writes it to the client at once).
    private func readAvailable() {
        guard isOpen, readable, !connecting else { return }
        guard let proxy else {
            // Idle in the pool: bytes nobody asked for, or the backend
            // closing. Either way the connection is done.
            pool.remove(self)
            close()
            return
        }
        let stop = readTurn(while: { !readsPaused && self.proxy === proxy }) { buffer in
            proxy.backendRead(buffer, attemptID: attemptID)
        }
        switch stop {
        case .paused:
            // Let go of mid-turn with input still waiting (the backend's
            // close right behind a response): the edge is spent, so the
            // idle path above must run now, not at a checkout that may
            // never pick this connection.
            if isOpen && readable && self.proxy == nil { loop.again(self) }
        case .ended, .failed:
            let attemptID = self.attemptID
            close()
            proxy.backendClosed(attemptID: attemptID)
        }
    }
}
