import FulcrumCore

/// One connection through an L4 listener: the client's socket, the
/// backend's once dialled, and for each direction what was read and not yet
/// written. Touched only by its ``RelayLoop``.
final class Relay {
    enum Phase {
        /// Reading the PROXY protocol header a trusted balancer sends first.
        case proxyHeader
        /// Dialling a backend; client bytes that arrive wait in `fromClient`.
        case connecting
        /// Both sockets open; bytes flow both ways.
        case relaying
        /// The backend is gone and the client has been sent everything and a
        /// FIN, but may still be sending: what it sends is read and dropped
        /// until it closes or the linger deadline passes, since closing a
        /// socket with unread input resets it and can destroy the answer
        /// still on its way to the client.
        case lingering
    }

    /// One direction of the relay.
    struct Direction {
        /// Bytes read from the source that the destination has not taken
        /// yet. Empty in the common case: bytes go out from the loop's
        /// scratch buffer in the same step they come in, and only a short
        /// write leaves some here (and stops reading the source).
        var pending: [UInt8] = []
        var pendingStart = 0
        /// An edge said the source has input not yet drained.
        var readable = false
        /// The source shut its sending side (EPOLLRDHUP): once a read comes
        /// up short, everything it sent has been read.
        var sourceFinished = false
        /// Everything the source will send has been read, or the direction
        /// was abandoned.
        var ended = false
        /// The source's input was read to its end (EOF, or a reset).
        var sourceDone = false
        /// The destination's sending side has been shut after `ended`.
        var shutDown = false
        /// Bytes read from the source.
        var bytes = 0

        var isDrained: Bool { pendingStart == pending.count }
        var pendingCount: Int { pending.count - pendingStart }

        mutating func keep(_ bytes: UnsafeRawBufferPointer) {
            if isDrained { drop() }
            pending.append(contentsOf: bytes)
        }

        /// The destination is gone: nothing more is read for it or sent.
        mutating func abandon() {
            drop()
            ended = true
            shutDown = true
        }

        /// Forgets what is pending, and its memory: a relay that is not
        /// held up holds no buffer.
        mutating func drop() {
            pending = []
            pendingStart = 0
        }
    }

    let slot: Int
    let clientFD: Int32
    let clientToken: UInt32
    var phase: Phase
    var backendFD: Int32 = -1
    var backendToken: UInt32 = 0
    /// Whom the connection speaks for: the socket's peer, or what a PROXY
    /// header said.
    var client: ProxyEndpoint?
    /// Where it arrived, when a PROXY header said so (otherwise read from
    /// the socket only if a header is to be sent on).
    var destination: ProxyEndpoint?
    var fromClient = Direction()
    var fromBackend = Direction()
    /// The backend being dialled or relayed to, and the attempts so far.
    var backend = -1
    var attempts = 0
    var tried = TriedBackends()
    /// Whether `backend`'s load counts this connection.
    var loadOpen = false
    let accepted: UInt64
    var lastActivity: UInt64
    /// The PROXY header's or the connect's deadline.
    var phaseDeadline: UInt64 = .max
    /// The deadline of this relay's entry in the loop's heap (`.max`: none).
    var armed: UInt64 = .max
    var closedForIdleness = false
    /// The socket reset or refused a send: nothing more is sent to it.
    var clientBroken = false
    var backendBroken = false
    /// Waiting in the loop's list of relays to pump again.
    var queued = false

    init(slot: Int, clientFD: Int32, clientToken: UInt32, client: ProxyEndpoint?, phase: Phase, now: UInt64) {
        self.slot = slot
        self.clientFD = clientFD
        self.clientToken = clientToken
        self.client = client
        self.phase = phase
        accepted = now
        lastActivity = now
    }

    var clientText: String { client.map { "\($0)" } ?? "-" }
}
