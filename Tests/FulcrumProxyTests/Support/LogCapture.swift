import Logging
import Synchronization

/// A logger whose lines a test can wait for, so that a test checks what
/// happened when the proxy says it happened instead of sleeping.
final class LogCapture: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private struct State {
        var lines: [Line] = []
        var waiters: [(message: String, continuation: CheckedContinuation<Line?, Never>)] = []
        /// How many lines of each message waiters have taken, so that each
        /// wait gets the next one.
        var taken: [String: Int] = [:]
    }

    private let state = Mutex(State())

    var logger: Logger {
        var logger = Logger(label: "test") { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    var lines: [Line] { state.withLock { $0.lines } }

    fileprivate func append(_ line: Line) {
        let resume = state.withLock { state -> CheckedContinuation<Line?, Never>? in
            state.lines.append(line)
            guard let index = state.waiters.firstIndex(where: { $0.message == line.message }) else { return nil }
            state.taken[line.message, default: 0] += 1
            return state.waiters.remove(at: index).continuation
        }
        resume?.resume(returning: line)
    }

    /// The next line with `message` not yet returned by this method, or
    /// `nil` if none comes within `timeout`.
    func next(_ message: String, timeout: Duration = .seconds(10)) async -> Line? {
        await withTaskGroup(of: Line?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { state -> Line? in
                        let matching = state.lines.filter { $0.message == message }
                        let taken = state.taken[message, default: 0]
                        if matching.count > taken {
                            state.taken[message] = taken + 1
                            return matching[taken]
                        }
                        state.waiters.append((message, continuation))
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil {
                // Time is up: release the waiter so the group can finish.
                let waiter = state.withLock { state -> CheckedContinuation<Line?, Never>? in
                    guard let index = state.waiters.firstIndex(where: { $0.message == message }) else { return nil }
                    return state.waiters.remove(at: index).continuation
                }
                waiter?.resume(returning: nil)
            }
            group.cancelAll()
            return first
        }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let metadata = event.metadata
            let level = event.level
            let message = event.message
            let merged = self.metadata.merging(metadata ?? [:]) { $1 }
            capture.append(Line(level: level, message: "\(message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}
