/// When each relay next needs attention (its PROXY header, connect or idle
/// deadline), as a binary min-heap of plain integers: no reference counting
/// on the hot path, and a relay whose deadline moves later keeps its entry,
/// which is checked and pushed again when it comes due.
struct RelayDeadlines {
    struct Entry {
        /// CLOCK_MONOTONIC nanoseconds.
        var at: UInt64
        var slot: Int
        /// The relay's client token, so an entry outliving its relay (whose
        /// slot was reused) is recognised and dropped.
        var token: UInt32
    }

    private var heap: [Entry] = []

    var first: Entry? { heap.first }
    var count: Int { heap.count }

    /// Keeps only the entries `isCurrent` accepts. Entries of closed relays
    /// otherwise stay until they come due, which with a 1 h idle timeout is
    /// an hour of every connection that outlived its connect deadline.
    mutating func compact(_ isCurrent: (Entry) -> Bool) {
        heap.removeAll { !isCurrent($0) }
        // A sorted array is a valid min-heap.
        heap.sort { $0.at < $1.at }
    }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> Entry? {
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
