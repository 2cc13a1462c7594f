/// A consistent-hash ring with virtual nodes and weights (Karger et al. 1997).
///
/// A node of weight w owns `virtualNodes × w` points; point i sits at
/// `hash("\(name)-\(i)")`. A key goes to the owner of the first point at or
/// after `hash(key)`, wrapping around the circle.
///
/// Because a node's points depend only on its own name and index, adding or
/// removing a node changes only that node's points, and changing a weight from
/// w₁ to w₂ adds or removes only points w₁·v ..< w₂·v. Keys therefore move
/// only to or from the node that changed: the minimum possible. (ketama, by
/// contrast, sizes every node's point count from the *total* weight, so one
/// change reshuffles all nodes.)
///
/// - Complexity: Lookup is O(1) expected: one hash of the key, one read of a
///   bucket index over the points' top bits, and a scan of about one point.
///   Adding, removing or reweighting a node hashes only that node's points,
///   O(v·w·log(v·w)), then merges them in O(P), for P points in all.
///   Memory is 8 bytes per point plus at most 8 per point for the bucket
///   index (about 4 on average): with the default 1,024 virtual nodes, about
///   12 KiB per unit of weight, or 12 MiB for 1,000 nodes.
public struct HashRing: ConsistentHash {
    /// The default number of points per unit of weight.
    ///
    /// Each node's share deviates from its ideal by about 1/√v (7.9% at
    /// ketama's 160, 4.4% at 512, 3.1% at 1,024), and the heaviest of 10 nodes
    /// sits about 1.5 to 3 of those deviations above the mean. At 512 one of
    /// seven everyday naming schemes measured 1.104 peak-to-mean with 10 nodes;
    /// 1,024 keeps it within 1.10, which the balance tests check on several
    /// naming schemes. The cost is memory, not lookup time (see the type's
    /// complexity note).
    public static let defaultVirtualNodes = 1024

    /// The hash used for both points and keys.
    public let hashFunction: HashFunction
    /// Points per unit of weight.
    public let virtualNodes: Int

    private var slots: [HashNode?] = []
    private var slotByName: [String: Int] = [:]
    private var freeSlots: [Int] = []
    @usableFromInline var ring: PointIndex = PointIndex()

    /// Creates a ring holding `nodes`.
    ///
    /// - Throws: ``ConsistentHashError`` for a weight below 1, duplicate
    ///   names, or a virtual node count below 1.
    public init(
        nodes: [HashNode] = [],
        virtualNodes: Int = HashRing.defaultVirtualNodes,
        hashFunction: HashFunction = .xxh64
    ) throws(ConsistentHashError) {
        guard virtualNodes >= 1 else {
            throw ConsistentHashError(
                code: .invalidParameter,
                message: "virtual node count \(virtualNodes) is out of range; it must be 1 or more"
            )
        }
        try ConsistentHashError.validate(nodes)
        try Self.checkPointCount(nodes, virtualNodes: virtualNodes)
        self.hashFunction = hashFunction
        self.virtualNodes = virtualNodes
        var points: [UInt64] = []
        points.reserveCapacity(nodes.reduce(0) { $0 + virtualNodes * $1.weight })
        for node in nodes.sorted(by: { $0.name < $1.name }) {
            let slot = try claimSlot(for: node)
            appendPoints(of: node, slot: slot, range: 0..<pointCount(node.weight), to: &points)
        }
        let slots = self.slots
        ring = PointIndex(unsorted: points, ownerPrecedes: { slots[$0]!.name < slots[$1]!.name })
    }

    public var nodes: [HashNode] {
        slots.compactMap { $0 }.sorted { $0.name < $1.name }
    }

    public var isEmpty: Bool { ring.isEmpty }

    /// How many points the ring holds.
    public var pointCount: Int { ring.count }

    /// Heap bytes held by the points and their index.
    public var memoryFootprint: Int { ring.memoryFootprint }

    public func node(at index: Int) -> HashNode { slots[index]! }

    /// The index of the member named `name`, if any.
    public func index(ofNode name: String) -> Int? { slotByName[name] }

    @inlinable
    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        guard !ring.isEmpty else { return nil }
        return PointIndex.owner(ring.points[ring.firstIndex(atOrAfter: hashFunction.hash64(key))])
    }

    /// Walks the points clockwise from the key's position.
    ///
    /// - Complexity: O(1) per candidate; all P points in the worst case.
    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        guard !ring.isEmpty else { return }
        try ring.forEachOwner(from: ring.firstIndex(atOrAfter: hashFunction.hash64(key)), body)
    }

    /// Adds a node, hashing only its own points.
    ///
    /// - Throws: ``ConsistentHashError`` for a duplicate name or a weight below 1.
    public mutating func add(_ node: HashNode) throws(ConsistentHashError) {
        try ConsistentHashError.validate([node])
        try Self.checkPointCount(slots.compactMap { $0 } + [node], virtualNodes: virtualNodes)
        let slot = try claimSlot(for: node)
        var points: [UInt64] = []
        appendPoints(of: node, slot: slot, range: 0..<pointCount(node.weight), to: &points)
        insert(points)
    }

    /// Removes the node named `name`; only its keys move.
    ///
    /// - Throws: ``ConsistentHashError`` with `.unknownNode` when no member has that name.
    public mutating func remove(named name: String) throws(ConsistentHashError) {
        let slot = try slot(named: name)
        ring.remove { PointIndex.owner($0) == slot }
        slots[slot] = nil
        slotByName[name] = nil
        freeSlots.append(slot)
    }

    /// Changes a node's weight by adding or removing only the points between
    /// the old and the new count, so keys move only to or from that node.
    public mutating func setWeight(_ weight: Int, forNode name: String) throws(ConsistentHashError) {
        let slot = try slot(named: name)
        var node = slots[slot]!
        try ConsistentHashError.validate([HashNode(name, weight: weight)])
        try Self.checkPointCount(
            slots.compactMap { $0 }.filter { $0.name != name } + [HashNode(name, weight: weight)],
            virtualNodes: virtualNodes
        )
        let old = pointCount(node.weight)
        let new = pointCount(weight)
        node.weight = weight
        slots[slot] = node
        if new > old {
            var points: [UInt64] = []
            appendPoints(of: node, slot: slot, range: old..<new, to: &points)
            insert(points)
        } else if new < old {
            // Point i's position is recomputable, so find the dropped points by
            // position rather than keeping a per-node list of them.
            var dropped = Set<UInt64>()
            var points: [UInt64] = []
            appendPoints(of: node, slot: slot, range: new..<old, to: &points)
            dropped.formUnion(points)
            ring.remove { dropped.contains($0) }
        }
    }

    private func pointCount(_ weight: Int) -> Int { virtualNodes * weight }

    private static func checkPointCount(_ nodes: [HashNode], virtualNodes: Int) throws(ConsistentHashError) {
        guard virtualNodes <= ConsistentHashError.maxPoints else {
            throw ConsistentHashError(
                code: .invalidParameter,
                message: "virtual node count \(virtualNodes) is out of range; it must be at most "
                    + "\(ConsistentHashError.maxPoints)"
            )
        }
        try ConsistentHashError.checkPointCount(
            nodes,
            pointsPerWeight: virtualNodes,
            structure: "the ring",
            remedy: "lower the weights or the virtual node count"
        )
    }

    private func slot(named name: String) throws(ConsistentHashError) -> Int {
        guard let slot = slotByName[name] else {
            throw ConsistentHashError(code: .unknownNode, message: "no node named '\(name)' is on the ring")
        }
        return slot
    }

    private mutating func claimSlot(for node: HashNode) throws(ConsistentHashError) -> Int {
        guard slotByName[node.name] == nil else {
            throw ConsistentHashError(
                code: .duplicateNode,
                message: "node '\(node.name)' is already on the ring; node names must be unique"
            )
        }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = node
        } else {
            guard slots.count < PointIndex.maxOwners else {
                throw ConsistentHashError(
                    code: .invalidParameter,
                    message: "a ring holds at most \(PointIndex.maxOwners) nodes"
                )
            }
            slot = slots.count
            slots.append(node)
        }
        slotByName[node.name] = slot
        return slot
    }

    private mutating func insert(_ points: [UInt64]) {
        let slots = self.slots
        ring.insert(points, ownerPrecedes: { slots[$0]!.name < slots[$1]!.name })
    }

    private func appendPoints(of node: HashNode, slot: Int, range: Range<Int>, to points: inout [UInt64]) {
        let hashFunction = self.hashFunction
        for i in range {
            PointKey.withBytes(name: node.name, separator: UInt8(ascii: "-"), number: i) { bytes in
                points.append(PointIndex.pack(position: hashFunction.hash64(bytes), owner: slot))
            }
        }
    }
}
