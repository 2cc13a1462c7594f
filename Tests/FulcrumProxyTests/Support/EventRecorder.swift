import FulcrumCore
import Synchronization

/// Collects a checker's state changes and lets a test wait for one, bounded
/// in time, instead of polling the cluster.
final class EventRecorder: Sendable {
    private struct Waiter {
        var match: @Sendable (ClusterEvent) -> Bool
        var continuation: CheckedContinuation<ClusterEvent?, Never>
    }

    private let state = Mutex<(events: [ClusterEvent], waiters: [Int: Waiter], next: Int)>(([], [:], 0))

    var events: [ClusterEvent] { state.withLock { $0.events } }

    /// Pass as the checker's observer.
    var observer: @Sendable (ClusterEvent) -> Void { { [self] event in record(event) } }

    func record(_ event: ClusterEvent) {
        let ready = state.withLock { state in
            state.events.append(event)
            let matched = state.waiters.filter { $0.value.match(event) }
            for key in matched.keys { state.waiters[key] = nil }
            return matched.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: event) }
    }

    /// The first recorded event that matches, waiting up to `timeout` for it;
    /// `nil` when none came.
    func first(
        within timeout: Duration = .seconds(10),
        _ match: @escaping @Sendable (ClusterEvent) -> Bool
    ) async -> ClusterEvent? {
        await withCheckedContinuation { continuation in
            let key: Int? = state.withLock { state in
                if let found = state.events.first(where: match) {
                    continuation.resume(returning: found)
                    return nil
                }
                state.next += 1
                state.waiters[state.next] = Waiter(match: match, continuation: continuation)
                return state.next
            }
            guard let key else { return }
            // The bound: resume with nil if nothing matched in time.
            Task { [self] in
                try? await Task.sleep(for: timeout)
                let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
                waiter?.continuation.resume(returning: nil)
            }
        }
    }
}
