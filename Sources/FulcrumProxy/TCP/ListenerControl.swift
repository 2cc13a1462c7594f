import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The listening socket a listener's loops share, and its stop: each
/// loop takes the socket out of its epoll set when woken, and the last one
/// closes it, so no loop can accept on a descriptor number that has been
/// closed and reused.
final class ListenerControl: Sendable {
    let fd: Int32
    /// The most connections the listener relays at once, over all loops.
    let maxConnections: Int
    private let connections = Atomic<Int>(0)
    private let state = Mutex(State())

    private struct State {
        /// Loops started and still accepting.
        var accepting = 0
        var stopRequested = false
        var closed = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        /// Waiting for the last connection to end.
        var waitingIdle: [CheckedContinuation<Void, Never>] = []
    }

    init(fd: Int32, maxConnections: Int) {
        self.fd = fd
        self.maxConnections = maxConnections
    }

    /// Takes a place for one more connection; false at the limit.
    private func reserveConnection() -> Bool {
        guard connections.add(1, ordering: .relaxed).newValue > maxConnections else { return true }
        connections.subtract(1, ordering: .relaxed)
        return false
    }

    /// What one loop's accept gave, with the connection's place under
    /// ``maxConnections`` taken when there is a connection and given back
    /// otherwise.
    enum Accepted {
        case connection(Int32, ProxyEndpoint?)
        /// Another loop took it, or the client gave up.
        case nothing
        /// At ``maxConnections``: the connection waits in the listen queue.
        case atLimit
        /// Out of descriptors, memory or buffers; the connection waits too.
        case shortage(SocketCallError)
    }

    /// Accepts one connection within ``maxConnections``.
    func accept() -> Accepted {
        guard reserveConnection() else { return .atLimit }
        switch SocketCalls.accept(fd) {
        case .connection(let fd, let peer):
            return .connection(fd, peer)
        case .nothing:
            connectionEnded()
            return .nothing
        case .shortage(let error):
            connectionEnded()
            return .shortage(error)
        }
    }

    /// Gives back a place taken by ``reserveConnection()``.
    func connectionEnded() {
        guard connections.subtract(1, ordering: .relaxed).newValue == 0 else { return }
        let waiting = state.withLock { state in
            defer { state.waitingIdle = [] }
            return state.waitingIdle
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Connections open now, over all loops.
    var openConnections: Int { connections.load(ordering: .relaxed) }

    /// Returns once no connection is open. The count is read under the same
    /// lock ``connectionEnded()`` takes when it reaches zero, so the last
    /// end cannot slip between the check and the wait.
    func waitUntilNoConnections() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                let idle = connections.load(ordering: .relaxed) == 0
                if !idle { state.waitingIdle.append(continuation) }
                return idle
            }
            if idle { continuation.resume() }
        }
    }

    /// Counts a loop about to start.
    func loopStarting() {
        state.withLock { $0.accepting += 1 }
    }

    /// Called by each loop once it no longer accepts (or by the starter when
    /// a loop's thread did not start).
    func loopStoppedAccepting() {
        let waiting = state.withLock { state in
            state.accepting -= 1
            return state.accepting == 0 ? closeLocked(&state) : []
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Marks the listener as stopping. Returns true to the first caller
    /// while loops still accept: that caller wakes them. With no loop
    /// accepting, the socket is closed here.
    func requestStop() -> Bool {
        let (wake, waiting) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
            guard !state.stopRequested else { return (false, []) }
            state.stopRequested = true
            if state.accepting == 0 { return (false, closeLocked(&state)) }
            return (true, [])
        }
        for continuation in waiting { continuation.resume() }
        return wake
    }

    /// Returns once the listening socket is closed.
    func waitClosed() async {
        await withCheckedContinuation { continuation in
            let closed = state.withLock { state in
                if !state.closed { state.waiting.append(continuation) }
                return state.closed
            }
            if closed { continuation.resume() }
        }
    }

    private func closeLocked(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        guard !state.closed else { return [] }
        state.closed = true
        close(fd)
        defer { state.waiting = [] }
        return state.waiting
    }
}
