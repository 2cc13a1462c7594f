/// Idle keep-alive connections to backends, for one loop.
///
/// Connections are made on the client's loop and returned to that loop's
/// pool, so a pool is only ever touched by one thread and needs no lock. A
/// connection is reused only if it is still open and has been idle less
/// than `idleTimeout`; each backend keeps at most `maxIdlePerBackend`.
final class BackendConnectionPool {
    let maxIdlePerBackend: Int
    /// Nanoseconds.
    let idleTimeout: UInt64
    /// Idle connections by backend index.
    private var idle: [[BackendConnection]]

    init(backends: Int, maxIdlePerBackend: Int, idleTimeout: UInt64) {
        self.maxIdlePerBackend = maxIdlePerBackend
        self.idleTimeout = idleTimeout
        idle = Array(repeating: [], count: backends)
    }

    /// The most recently used open connection to `backend`, if one is fresh
    /// enough; stale ones met on the way are closed.
    func checkout(_ backend: Int, now: UInt64) -> BackendConnection? {
        while let connection = idle[backend].popLast() {
            if connection.isOpen && !connection.readable && now &- connection.idleSince < idleTimeout { return connection }
            connection.close()
        }
        return nil
    }

    /// Keeps a connection for reuse, or closes it when the backend already
    /// has enough idle ones.
    func checkin(_ connection: BackendConnection, now: UInt64) {
        guard connection.isOpen, !connection.peerFinished, connection.isWritable,
            idle[connection.backend].count < maxIdlePerBackend
        else {
            connection.close()
            return
        }
        connection.idleSince = now
        idle[connection.backend].append(connection)
    }

    /// Forgets a connection that ended while idle.
    func remove(_ connection: BackendConnection) {
        idle[connection.backend].removeAll { $0 === connection }
    }

    /// Closes every idle connection, when the loop stops.
    func closeAll() {
        for list in idle {
            for connection in list { connection.close() }
        }
        idle = idle.map { _ in [] }
    }
}
