import NIOCore

/// Idle keep-alive connections to backends, for one event loop.
///
/// Connections are made on the client's event loop and returned to that
/// loop's pool, so a pool is only ever touched by one thread and needs no
/// lock. A connection is reused only if it is still open and has been idle
/// less than `idleTimeout`; each backend keeps at most `maxIdlePerBackend`.
final class BackendConnectionPool {
    struct Entry {
        let channel: any Channel
        let handler: UpstreamHandler
        var idleSince: NIODeadline
    }

    let maxIdlePerBackend: Int
    let idleTimeout: TimeAmount
    /// Idle connections by backend index.
    @exclusivity(unchecked) private var idle: [[Entry]]

    init(backends: Int, maxIdlePerBackend: Int, idleTimeout: TimeAmount) {
        self.maxIdlePerBackend = maxIdlePerBackend
        self.idleTimeout = idleTimeout
        idle = Array(repeating: [], count: backends)
    }

    /// The most recently used open connection to `backend`, if one is fresh
    /// enough; stale ones met on the way are closed.
    func checkout(_ backend: Int, now: NIODeadline = .now()) -> Entry? {
        while let entry = idle[backend].popLast() {
            if entry.handler.isActive && now - entry.idleSince < idleTimeout { return entry }
            entry.channel.close(promise: nil)
        }
        return nil
    }

    /// Keeps a connection for reuse, or closes it when the backend already
    /// has enough idle ones.
    func checkin(_ backend: Int, channel: any Channel, handler: UpstreamHandler, now: NIODeadline = .now()) {
        guard handler.isActive, idle[backend].count < maxIdlePerBackend else {
            channel.close(promise: nil)
            return
        }
        idle[backend].append(Entry(channel: channel, handler: handler, idleSince: now))
    }

    /// Forgets a connection that closed while idle.
    func remove(_ channel: any Channel, backend: Int) {
        idle[backend].removeAll { $0.channel === channel }
    }

    /// How many idle connections the pool holds, for tests.
    var idleCount: Int { idle.reduce(0) { $0 + $1.count } }
}
