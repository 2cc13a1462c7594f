import CFulcrumLinux

#if canImport(Glibc)
import Glibc
#endif

/// Starts the detached, named threads the epoll loops run on.
enum LoopThread {
    /// Runs `body` on a new thread named `name` (at most 15 bytes are kept,
    /// for top -H and perf).
    static func start(name: String, _ body: @escaping () -> Void) throws {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Started(name: name, body: body)).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            let started = Unmanaged<Started>.fromOpaque(context!).takeRetainedValue()
            cfulcrum_name_thread(started.name)
            started.body()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Started>.fromOpaque(context).release()
            throw SocketCallError("pthread_create", result)
        }
        pthread_detach(thread)
    }

    private final class Started {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }
}
