/// A member of a consistent-hashing structure: a stable identity and a weight.
///
/// The name is the node's identity: placement depends on it and on nothing
/// else about the node (not on the order nodes were added in, nor on any
/// per-process seed), so the same names and weights give the same answers in
/// every process, on every machine and in every release.
public struct HashNode: Sendable, Hashable, CustomStringConvertible {
    /// The node's identity, for example `10.0.0.1:11211` or `cache-a`.
    public var name: String
    /// Relative capacity, from 1 to ``maxWeight``.
    public var weight: Int

    /// The largest weight accepted: 65,535, which is far above what any
    /// product we reproduce allows (HAProxy's limit is 256) and keeps every
    /// structure's arithmetic well inside 64 bits.
    public static let maxWeight = 65_535
    /// A numeric id, used only where the reproduced product places by id
    /// (HAProxy's `hash-key id`). `nil` elsewhere.
    public var id: Int?

    public init(_ name: String, weight: Int = 1, id: Int? = nil) {
        self.name = name
        self.weight = weight
        self.id = id
    }

    public var description: String { weight == 1 ? name : "\(name)=\(weight)" }
}

/// Maps a key to one of a set of nodes so that changing the set moves as few
/// keys as possible.
///
/// Lookups return an *index*; ``node(at:)`` turns it into the node. Indices
/// let callers keep their own per-node state in a plain array and let lookups
/// run without allocating. An index stays valid while its node is a member.
///
/// Conforming types are values: a lookup never mutates, so one instance can be
/// read from many threads at once.
public protocol ConsistentHash: Sendable {
    /// The current members, in a canonical order that does not depend on the
    /// order they were added in.
    var nodes: [HashNode] { get }

    /// The node a lookup's index refers to.
    func node(at index: Int) -> HashNode

    /// The index of the member named `name`, or `nil` if there is none.
    func index(ofNode name: String) -> Int?

    /// The index of the node that owns `key`, or `nil` when there are no nodes.
    func index(forKey key: UnsafeRawBufferPointer) -> Int?

    /// Calls `body` with candidate indices for `key` in preference order,
    /// starting with ``index(forKey:)``, until `body` returns `false` or the
    /// candidates are exhausted. Every member is offered at least once before
    /// the walk ends; an index may be offered more than once.
    ///
    /// This is the failover order: the second distinct candidate is where the
    /// key goes when the first is unavailable, and so on.
    func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows
}

extension ConsistentHash {
    /// For structures whose indices are positions in ``nodes``.
    ///
    /// - Complexity: O(n).
    public func index(ofNode name: String) -> Int? {
        nodes.firstIndex { $0.name == name }
    }

    /// The node that owns `key` (hashed as UTF-8), or `nil` when empty.
    public func node(for key: String) -> HashNode? {
        key.withUTF8Bytes { index(forKey: $0) }.map(node(at:))
    }

    /// The index of the node that owns `key` (hashed as UTF-8).
    public func index(for key: String) -> Int? {
        key.withUTF8Bytes { index(forKey: $0) }
    }

    /// Up to `count` distinct node indices for `key`, in preference order:
    /// replicas, or the failover order.
    ///
    /// - Complexity: Depends on the algorithm's candidate walk; see each type.
    public func indices(forKey key: UnsafeRawBufferPointer, count: Int) -> [Int] {
        guard count > 0 else { return [] }
        var result: [Int] = []
        result.reserveCapacity(count)
        forEachCandidate(forKey: key) { candidate in
            if !result.contains(candidate) {
                result.append(candidate)
            }
            return result.count < count
        }
        return result
    }

    /// Up to `count` distinct nodes for `key` (hashed as UTF-8), in preference order.
    public func nodes(for key: String, count: Int) -> [HashNode] {
        key.withUTF8Bytes { indices(forKey: $0, count: count) }.map(node(at:))
    }
}
