/// When each socket of an epoll loop (a relay, an HTTP connection) next
/// needs attention, as a binary min-heap of plain integers: no reference
/// counting on the hot path, and a socket whose deadline moves later keeps
/// its entry, which is checked and pushed again when it comes due.
///
/// The owner keeps, per socket, the earliest time it has armed; an entry is
/// current while its slot still holds the socket with that token and that
/// time (`isCurrent`), and every other entry is stale.
struct DeadlineHeap {
    struct Entry {
        /// CLOCK_MONOTONIC nanoseconds.
        var at: UInt64
        var slot: Int
        /// The socket's token, so an entry outliving its socket (whose slot
        /// was reused) is recognised and dropped.
        var token: UInt32
    }

    private var heap: [Entry] = []

    var first: Entry? { heap.first }

    /// Pushes `entry`, and drops the stale entries once they outnumber the
    /// `live` sockets (plus 1,024). Entries of closed sockets otherwise stay
    /// until they come due, which with a 1 h idle timeout is an hour of
    /// every connection that outlived its connect deadline.
    mutating func arm(_ entry: Entry, live: Int, isCurrent: (Entry) -> Bool) {
        push(entry)
        if heap.count > 2 * live + 1024 { compact(isCurrent) }
    }

    /// The next current entry due by `now`, dropping stale ones on the way.
    mutating func nextDue(now: UInt64, isCurrent: (Entry) -> Bool) -> Entry? {
        while let first = heap.first, first.at <= now {
            _ = popFirst()
            if isCurrent(first) { return first }
        }
        return nil
    }

    private mutating func compact(_ isCurrent: (Entry) -> Bool) {
        heap.removeAll { !isCurrent($0) }
        // A sorted array is a valid min-heap.
        heap.sort { $0.at < $1.at }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popFirst() -> Entry? {
        guard !heap.isEmpty else { return nil }
        let first = heap[0]
        let last = heap.removeLast()
        guard !heap.isEmpty else { return first }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            let right = left + 1
            let child = right < heap.count && heap[right].at < heap[left].at ? right : left
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            parent = child
        }
        return first
    }
}
