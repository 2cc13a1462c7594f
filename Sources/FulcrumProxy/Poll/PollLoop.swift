import CFulcrumLinux
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One thread of an HTTP listener: an epoll instance on which its sockets
/// are registered once, edge-triggered, each with a slot and a token in the
/// event's data, plus a min-heap of deadlines and a queue of tasks other
/// threads hand it.
///
/// Why not NIO's event loops: see docs/ARCHITECTURE.md ("The HTTP data
/// plane on epoll"). In short, a keep-alive request through NIO channels
/// cost about 15 µs of CPU against HAProxy's 14, and the same request
/// relayed on epoll directly cost 10; the difference is NIO's pipeline,
/// reference counting and per-write bookkeeping, which no NIO API avoids.
///
/// Everything here runs on the loop's thread, except ``execute(_:)``.
final class PollLoop: @unchecked Sendable {
    /// The most one `recv` reads: also the size of the loop's read buffer.
    static let readSize = 64 * 1024
    /// Reads one socket may make per turn before others get theirs.
    static let readsPerTurn = 16
    static let edgeEvents = cfulcrum_EPOLLIN | cfulcrum_EPOLLOUT | cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLET
    private static let wakeTag = UInt64.max
    private static let maxEvents: Int32 = 256

    let number: Int
    let logger: Logger
    private let epfd: Int32
    private let wakeFD: Int32
    private var sockets: [PollSocket?] = []
    private var freeSlots: [Int] = []
    private var registered = 0
    private var nextToken: UInt32 = 0
    private var deadlines = DeadlineHeap()
    /// Tasks from other threads; nil once the loop has ended, after which
    /// new ones are dropped (kept, they would hold whatever they capture,
    /// often this loop's owner, forever).
    private let tasks = Mutex<[@Sendable () -> Void]?>([])
    /// CLOCK_MONOTONIC nanoseconds, read once after each wait.
    private(set) var now: UInt64
    /// Sockets that read their share of a turn and have input left.
    private var again: [PollSocket] = []
    /// Where every socket of the loop reads into. A read hands out a slice
    /// of it; while nothing keeps that slice, the next read reuses the
    /// storage, so a keep-alive request allocates nothing for its bytes.
    private var readBuffer: ByteBuffer
    private let readyEvents: UnsafeMutablePointer<UInt32>
    private let readyData: UnsafeMutablePointer<UInt64>
    /// Scratch for `writev`.
    let iovecs: UnsafeMutablePointer<iovec>
    static let maxIovecs = 16
    /// Asked after every turn whether the loop should end; runs on the loop.
    var shouldStop: () -> Bool = { false }
    /// Runs on the loop once it has ended, before both closures are let go
    /// (which breaks the cycle an owner they capture may form).
    var onStop: () -> Void = {}

    init(number: Int, logger: Logger) throws {
        self.number = number
        self.logger = logger
        now = SocketCalls.monotonicNow()
        epfd = cfulcrum_epoll_create()
        guard epfd >= 0 else { throw SocketCallError("epoll_create1") }
        wakeFD = cfulcrum_eventfd()
        guard wakeFD >= 0 else {
            let error = SocketCallError("eventfd")
            close(epfd)
            throw error
        }
        guard cfulcrum_epoll_add(epfd, wakeFD, cfulcrum_EPOLLIN, Self.wakeTag) == 0 else {
            let error = SocketCallError("epoll_ctl")
            close(wakeFD)
            close(epfd)
            throw error
        }
        readBuffer = ByteBufferAllocator().buffer(capacity: Self.readSize)
        readyEvents = .allocate(capacity: Int(Self.maxEvents))
        readyData = .allocate(capacity: Int(Self.maxEvents))
        iovecs = .allocate(capacity: Self.maxIovecs)
    }

    deinit {
        close(wakeFD)
        close(epfd)
        readyEvents.deallocate()
        readyData.deallocate()
        iovecs.deallocate()
    }

    // MARK: - Other threads

    /// Runs `task` on the loop's thread at its next turn. Safe from any
    /// thread; the eventfd stays open until the loop is freed, so a late
    /// call never writes into a reused descriptor.
    func execute(_ task: @escaping @Sendable () -> Void) {
        let queued = tasks.withLock { tasks in
            tasks?.append(task)
            return tasks != nil
        }
        guard queued else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Runs the loop on a thread of its own, named `name`, until
    /// ``shouldStop`` says so.
    func start(name: String) throws {
        do {
            try LoopThread.start(name: name) { self.run() }
        } catch {
            // No thread will run the loop: let go of what its owner set up.
            shouldStop = { true }
            onStop = {}
            tasks.withLock { $0 = nil }
            throw error
        }
    }

    // MARK: - Sockets

    /// Adds `socket` to the epoll set with `events` (edge-triggered I/O by
    /// default). False, with errno set, when epoll refused it.
    func register(_ socket: PollSocket, events: UInt32 = PollLoop.edgeEvents) -> Bool {
        let slot = freeSlots.popLast() ?? {
            sockets.append(nil)
            return sockets.count - 1
        }()
        nextToken &+= 1
        if nextToken == 0 { nextToken = 1 }
        socket.slot = slot
        socket.token = nextToken
        sockets[slot] = socket
        registered += 1
        guard cfulcrum_epoll_add(epfd, socket.fd, events, Self.tag(slot, nextToken)) == 0 else {
            let code = errno
            forget(socket)
            errno = code
            return false
        }
        return true
    }

    /// Takes a socket out of the loop. Its descriptor must be closed by the
    /// caller, or taken out of the epoll set first when other loops share it
    /// (a listening socket): see ``unwatch(_:)``.
    func forget(_ socket: PollSocket) {
        guard socket.slot >= 0, socket.slot < sockets.count, sockets[socket.slot] === socket else { return }
        sockets[socket.slot] = nil
        freeSlots.append(socket.slot)
        registered -= 1
        socket.slot = -1
        socket.armed = .max
    }

    /// Removes a descriptor other loops also watch from this loop's set.
    func unwatch(_ fd: Int32) {
        _ = cfulcrum_epoll_del(epfd, fd)
    }

    /// Puts a descriptor removed by ``unwatch(_:)`` back, with its socket's
    /// tag; false when epoll refused.
    func rewatch(_ socket: PollSocket, events: UInt32) -> Bool {
        cfulcrum_epoll_add(epfd, socket.fd, events, Self.tag(socket.slot, socket.token)) == 0
    }

    /// Every socket registered now, for shutdown.
    var allSockets: [PollSocket] { sockets.compactMap { $0 } }

    private static func tag(_ slot: Int, _ token: UInt32) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: slot)) | UInt64(token) << 32
    }

    /// Gives `socket` another turn after the current events: it read its
    /// share and has input left.
    func again(_ socket: PollSocket) {
        guard !socket.queuedAgain else { return }
        socket.queuedAgain = true
        again.append(socket)
    }

    // MARK: - Reading

    /// Reads from `fd` into the loop's read buffer. The result shares that
    /// buffer's storage; a caller that keeps it past the current event makes
    /// the next read allocate fresh storage, nothing worse.
    func read(_ fd: Int32) -> ReadResult {
        readBuffer.clear()
        var code: Int32 = 0
        let count = readBuffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.readSize) { pointer in
            let count = recv(fd, pointer.baseAddress, Self.readSize, 0)
            if count < 0 { code = errno }
            return max(count, 0)
        }
        if count > 0 { return .bytes(readBuffer) }
        if code == 0 { return .end }
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        if code == EINTR { return .interrupted }
        return .failed(code)
    }

    enum ReadResult {
        case bytes(ByteBuffer)
        case wouldBlock
        case interrupted
        case end
        case failed(Int32)
    }

    // MARK: - Deadlines

    /// Makes sure `socket.deadlinePassed()` runs no later than `at`
    /// (CLOCK_MONOTONIC nanoseconds). A later deadline than one already
    /// armed costs nothing: the socket finds it when the earlier comes due
    /// and arms again.
    func arm(_ socket: PollSocket, at: UInt64) {
        guard socket.slot >= 0, at < socket.armed else { return }
        socket.armed = at
        deadlines.arm(.init(at: at, slot: socket.slot, token: socket.token), live: registered, isCurrent: isCurrent)
    }

    private func isCurrent(_ entry: DeadlineHeap.Entry) -> Bool {
        guard entry.slot < sockets.count, let socket = sockets[entry.slot] else { return false }
        return socket.token == entry.token && socket.armed == entry.at
    }

    private func fireDeadlines() {
        while let due = deadlines.nextDue(now: now, isCurrent: isCurrent) {
            let socket = sockets[due.slot]!
            socket.armed = .max
            socket.deadlinePassed()
        }
    }

    // MARK: - The loop

    private func run() {
        defer {
            onStop()
            shouldStop = { true }
            onStop = {}
            tasks.withLock { $0 = nil }
        }
        while !shouldStop() {
            let count = cfulcrum_epoll_wait(epfd, readyEvents, readyData, Self.maxEvents, timeoutMilliseconds())
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                logger.critical("event loop stopped", metadata: ["error": "\(SocketCallError("epoll_wait", code))"])
                for socket in allSockets { socket.abandon() }
                return
            }
            now = SocketCalls.monotonicNow()
            for i in 0..<Int(count) {
                let data = readyData[i]
                if data == Self.wakeTag {
                    runTasks()
                    continue
                }
                let slot = Int(UInt32(truncatingIfNeeded: data))
                let token = UInt32(truncatingIfNeeded: data >> 32)
                // A socket closed earlier in this batch may have had its
                // slot reused: the token tells them apart.
                guard slot < sockets.count, let socket = sockets[slot], socket.token == token else { continue }
                socket.handle(events: readyEvents[i])
            }
            runAgain()
            fireDeadlines()
        }
    }

    private func runTasks() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
        let pending = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks ?? []
        }
        for task in pending { task() }
    }

    private func runAgain() {
        guard !again.isEmpty else { return }
        let turn = again
        again = []
        for socket in turn {
            socket.queuedAgain = false
            if socket.slot >= 0 { socket.anotherTurn() }
        }
    }

    private func timeoutMilliseconds() -> Int32 {
        if !again.isEmpty { return 0 }
        guard let next = deadlines.first?.at else { return -1 }
        let current = SocketCalls.monotonicNow()
        guard next > current else { return 0 }
        return Int32(min((next - current + 999_999) / 1_000_000, 60_000))
    }
}

/// Something registered on a ``PollLoop``: a descriptor, with what to do
/// when it is ready and when its deadline passes.
class PollSocket {
    let fd: Int32
    /// Where the loop keeps it, or -1 once forgotten.
    fileprivate(set) var slot = -1
    fileprivate(set) var token: UInt32 = 0
    /// The earliest deadline the loop holds for it.
    fileprivate(set) var armed = UInt64.max
    fileprivate var queuedAgain = false

    init(fd: Int32) {
        self.fd = fd
    }

    /// epoll reported `events` for the descriptor.
    func handle(events: UInt32) {}

    /// A deadline armed with ``PollLoop/arm(_:at:)`` has come.
    func deadlinePassed() {}

    /// The turn ``PollLoop/again(_:)`` asked for.
    func anotherTurn() {}

    /// The loop failed: release what is held, without I/O.
    func abandon() {}
}
