import CFulcrumLinux
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A connected, non-blocking TCP socket on a ``PollLoop``, with the edge
/// state its reader needs and a queue of buffers waiting to be sent.
///
/// Edge-triggered readiness reports each change once, so the socket keeps
/// it: `readable` stays set until a read comes back short or would block,
/// and `sendBlocked` from a short write until epoll reports room again.
class StreamSocket: PollSocket {
    unowned(unsafe) let loop: PollLoop
    /// Input, its end or an error is waiting to be read.
    var readable = false
    /// epoll reported the peer's end (or an error): reads go on until
    /// they say so, even after a short one.
    private(set) var peerFinished = false
    /// A send came back short: nothing more is tried until EPOLLOUT.
    private(set) var sendBlocked = false
    /// The socket refused a send for good (reset, or shut by the peer).
    private(set) var sendFailed = false
    private(set) var isOpen = true
    private var queue = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    /// Bytes queued and not yet sent.
    private(set) var queuedBytes = 0

    init(fd: Int32, loop: PollLoop) {
        self.loop = loop
        super.init(fd: fd)
    }

    /// Notes what an event says of the socket's input and output. Returns
    /// true when the event brought room to send and the queue drained.
    func noteEvents(_ events: UInt32) -> Bool {
        if events & (cfulcrum_EPOLLIN | cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLHUP | cfulcrum_EPOLLERR) != 0 { readable = true }
        if events & (cfulcrum_EPOLLRDHUP | cfulcrum_EPOLLHUP | cfulcrum_EPOLLERR) != 0 { peerFinished = true }
        guard events & (cfulcrum_EPOLLOUT | cfulcrum_EPOLLERR | cfulcrum_EPOLLHUP) != 0, sendBlocked else { return false }
        sendBlocked = false
        let hadQueue = queuedBytes > 0
        flush()
        return hadQueue && queuedBytes == 0
    }

    /// After a read of `count` bytes: a short one emptied the socket, so
    /// the next input brings a new edge (unless the peer has finished,
    /// whose end is still to be read).
    private func noteRead(_ count: Int) {
        if count < PollLoop.readSize && !peerFinished { readable = false }
    }

    /// Why ``readTurn(while:deliver:)`` stopped.
    enum ReadStop {
        /// No input is waiting, `allowed` said no, or the socket closed
        /// meanwhile; or the turn's share is read and another turn is asked.
        case paused
        /// The peer finished sending.
        case ended
        case failed(Int32)
    }

    /// Reads while input waits and `allowed()` says so, handing each read to
    /// `deliver`; after ``PollLoop/readsPerTurn`` reads it asks the loop for
    /// another turn, so one busy socket cannot starve the others.
    func readTurn(while allowed: () -> Bool, deliver: (ByteBuffer) -> Void) -> ReadStop {
        var reads = 0
        while isOpen && readable && allowed() {
            if reads == PollLoop.readsPerTurn {
                loop.again(self)
                return .paused
            }
            reads += 1
            switch loop.read(fd) {
            case .bytes(let buffer):
                noteRead(buffer.readableBytes)
                deliver(buffer)
            case .wouldBlock:
                readable = false
            case .interrupted:
                continue
            case .end:
                readable = false
                return .ended
            case .failed(let code):
                readable = false
                return .failed(code)
            }
        }
        return .paused
    }

    /// Queues `buffer`; it goes out at the next ``flush()``.
    func enqueue(_ buffer: ByteBuffer) {
        guard isOpen, !sendFailed, buffer.readableBytes > 0 else { return }
        queue.append(buffer)
        queuedBytes += buffer.readableBytes
    }

    /// Whether nothing is waiting to be sent: a reader feeding this socket
    /// stops while it is false.
    var isWritable: Bool { queuedBytes == 0 }

    /// Sends what is queued, as far as the socket takes it: one `send` for
    /// one buffer, one `writev` for several.
    func flush() {
        while isOpen, !sendBlocked, !sendFailed, !queue.isEmpty {
            let written: Int
            let offered: Int
            if queue.count == 1 {
                offered = queuedBytes
                written = queue[queue.startIndex].withUnsafeReadableBytes { bytes in
                    Glibc.send(fd, bytes.baseAddress, bytes.count, SocketCalls.noSignal)
                }
            } else {
                offered = queue.prefix(PollLoop.maxIovecs).reduce(0) { $0 + $1.readableBytes }
                written = writeVector(from: 0)
            }
            if written < 0 {
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK: sendBlocked = true
                default: failSends()
                }
                return
            }
            consume(written)
            if written < offered {
                // The kernel took less than offered: it is full until
                // epoll reports room.
                sendBlocked = true
                return
            }
        }
    }

    /// Builds iovecs for up to ``PollLoop/maxIovecs`` buffers, each taken
    /// within its own `withUnsafeReadableBytes`, and sends inside
    /// the innermost, so that every pointer is used while it is valid.
    private func writeVector(from count: Int) -> Int {
        guard count < queue.count, count < PollLoop.maxIovecs else {
            var message = msghdr()
            message.msg_iov = loop.iovecs
            message.msg_iovlen = count
            // sendmsg rather than writev: only a send call takes
            // MSG_NOSIGNAL, and a reset peer must not raise SIGPIPE.
            return sendmsg(fd, &message, SocketCalls.noSignal)
        }
        return queue[offset: count].withUnsafeReadableBytes { bytes in
            loop.iovecs[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            return writeVector(from: count + 1)
        }
    }

    private func consume(_ written: Int) {
        var left = written
        queuedBytes -= written
        while left > 0, !queue.isEmpty {
            let first = queue[queue.startIndex].readableBytes
            if left >= first {
                queue.removeFirst()
                left -= first
            } else {
                queue[queue.startIndex].moveReaderIndex(forwardBy: left)
                left = 0
            }
        }
    }

    private func failSends() {
        sendFailed = true
        queue.removeAll()
        queuedBytes = 0
    }

    /// Drops what is queued and closes the descriptor, taking the socket out
    /// of its loop.
    func closeSocket() {
        guard isOpen else { return }
        isOpen = false
        queue.removeAll()
        queuedBytes = 0
        loop.forget(self)
        close(fd)
    }

    override func abandon() {
        closeSocket()
    }
}
