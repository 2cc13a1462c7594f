/// The points of a hash ring, sorted, with a bucket index over their top bits.
///
/// Each point is packed into one `UInt64`: the position on the circle in the
/// high 44 bits and the owner's index in the low 20. One array then serves
/// both the search and the owner lookup, so a lookup touches two cache lines
/// at most (a bucket entry and a point) instead of three.
///
/// The bucket index has about one bucket per point: `buckets[k]` is the first
/// point whose top `bits` bits are at least `k`. A lookup reads its key's
/// bucket and scans the few points in it, so it costs O(1) expected instead of
/// a binary search's O(log n) dependent cache misses. This is the layout fast
/// rings use (for example Go's `groupcache` successors and Dropbox's ring).
///
/// 32-bit positions (ketama, nginx, HAProxy) are stored shifted into the high
/// half, so they compare exactly; 64-bit positions keep their top 44 bits,
/// which leaves a collision chance of about P²/2⁴⁵: negligible at any
/// realistic point count.
@usableFromInline
package struct PointIndex: Sendable {
    /// Owners are stored in the low bits; a structure may hold this many nodes.
    package static let ownerBits: UInt64 = 20
    package static let maxOwners = 1 << ownerBits
    @usableFromInline package static let ownerMask: UInt64 = (1 << ownerBits) - 1

    /// Packed points, ascending.
    @usableFromInline package private(set) var points: [UInt64]
    @usableFromInline var buckets: [UInt32]
    @usableFromInline var shift: UInt64

    package init() {
        points = []
        buckets = [0, 0]
        shift = 64
    }

    /// Builds the index from packed points in any order.
    ///
    /// Points at the same position are ordered by `ownerPrecedes`, and the
    /// first of them wins lookups, so a tie is settled by something stable
    /// (such as the owners' names) rather than by the order owners arrived in.
    package init(unsorted: [UInt64], ownerPrecedes: (Int, Int) -> Bool = { $0 < $1 }) {
        points = unsorted
        points.sort { Self.precedes($0, $1, ownerPrecedes) }
        buckets = []
        shift = 64
        rebuildBuckets()
    }

    private static func precedes(_ a: UInt64, _ b: UInt64, _ ownerPrecedes: (Int, Int) -> Bool) -> Bool {
        let pa = a & ~ownerMask
        let pb = b & ~ownerMask
        return pa != pb ? pa < pb : ownerPrecedes(owner(a), owner(b))
    }

    package static func pack(position: UInt64, owner: Int) -> UInt64 {
        (position & ~ownerMask) | UInt64(owner)
    }

    package static func pack(position32: UInt32, owner: Int) -> UInt64 {
        UInt64(position32) << 32 | UInt64(owner)
    }

    @inlinable @inline(__always)
    package static func owner(_ point: UInt64) -> Int {
        Int(truncatingIfNeeded: point & ownerMask)
    }

    @usableFromInline package var isEmpty: Bool { points.isEmpty }
    @usableFromInline package var count: Int { points.count }

    /// The index of the first point at or after `position` on the circle,
    /// wrapping past the end to the first point. The index must not be empty.
    ///
    /// - Complexity: O(1) expected: one bucket read and a scan of the points
    ///   in that bucket, about one on average.
    @inlinable
    package func firstIndex(atOrAfter position: UInt64) -> Int {
        let key = position & ~Self.ownerMask
        return points.withUnsafeBufferPointer { points in
            buckets.withUnsafeBufferPointer { buckets in
                let bucket = Int(truncatingIfNeeded: key >> shift)
                var i = Int(truncatingIfNeeded: buckets[bucket])
                let end = Int(truncatingIfNeeded: buckets[bucket + 1])
                if end - i > 8 {
                    // A crowded bucket (clustered points): binary search it.
                    var hi = end
                    while i < hi {
                        let mid = (i + hi) >> 1
                        if points[mid] < key { i = mid + 1 } else { hi = mid }
                    }
                } else {
                    while i < end && points[i] < key { i += 1 }
                }
                return i == points.count ? 0 : i
            }
        }
    }

    /// Calls `body` with the owner of each point, clockwise from point `start`,
    /// until it returns `false` or every point was visited once.
    package func forEachOwner(from start: Int, _ body: (Int) throws -> Bool) rethrows {
        var i = start
        for _ in 0..<points.count {
            guard try body(Self.owner(points[i])) else { return }
            i = i + 1 == points.count ? 0 : i + 1
        }
    }

    /// Merges new packed points in.
    ///
    /// - Complexity: O(p log p + P) for p new points among P: the new points
    ///   are sorted and merged; no existing point is recomputed.
    package mutating func insert(_ newPoints: [UInt64], ownerPrecedes: (Int, Int) -> Bool = { $0 < $1 }) {
        guard !newPoints.isEmpty else { return }
        let incoming = newPoints.sorted { Self.precedes($0, $1, ownerPrecedes) }
        var merged: [UInt64] = []
        merged.reserveCapacity(points.count + incoming.count)
        var i = 0
        var j = 0
        while i < points.count && j < incoming.count {
            if !Self.precedes(incoming[j], points[i], ownerPrecedes) {
                merged.append(points[i])
                i += 1
            } else {
                merged.append(incoming[j])
                j += 1
            }
        }
        merged.append(contentsOf: points[i...])
        merged.append(contentsOf: incoming[j...])
        points = merged
        rebuildBuckets()
    }

    /// Removes the points for which `shouldRemove` is true.
    ///
    /// - Complexity: O(P).
    package mutating func remove(where shouldRemove: (UInt64) -> Bool) {
        points.removeAll(where: shouldRemove)
        rebuildBuckets()
    }

    /// Sizes the bucket table to the next power of two at or above the point
    /// count, so each bucket holds about one point.
    private mutating func rebuildBuckets() {
        var bits: UInt64 = 0
        while (1 << bits) < points.count && bits < 24 { bits += 1 }
        shift = 64 - bits
        let bucketCount = 1 << Int(bits)
        var table = [UInt32](repeating: 0, count: bucketCount + 1)
        var p = 0
        for k in 0..<bucketCount {
            while p < points.count && Int(truncatingIfNeeded: points[p] >> shift) < k { p += 1 }
            table[k] = UInt32(truncatingIfNeeded: p)
        }
        table[bucketCount] = UInt32(truncatingIfNeeded: points.count)
        buckets = table
    }

    /// Approximate heap bytes held, for documentation and `simulate`.
    package var memoryFootprint: Int { points.count * 8 + buckets.count * 4 }
}
