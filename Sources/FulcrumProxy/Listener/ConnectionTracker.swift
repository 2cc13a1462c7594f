import NIOCore
import Synchronization

/// The client connections a listener has open, so that shutdown can ask
/// each one to finish its request and close.
final class ConnectionTracker: Sendable {
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        open.withLock { $0[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { _ in
            self.open.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    var channels: [any Channel] { open.withLock { Array($0.values) } }
}

/// Sent down a client connection's pipeline when its listener drains: close
/// now if idle, else after the response in flight.
struct DrainRequest: Sendable {}
