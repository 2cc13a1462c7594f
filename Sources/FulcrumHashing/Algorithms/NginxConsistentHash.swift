/// nginx's `hash $key consistent`, byte-compatible with
/// `ngx_http_upstream_hash_module` (the Cache::Memcached::Fast continuum).
///
/// A peer written `host:port` of weight w gets 160·w points, chained: with
/// `base` the CRC-32 state after `host`, a NUL byte and `port`, point j is
/// `crc32(base + le32(point[j-1]))`, starting from 0. Points are sorted and
/// equal points collapsed; a key goes to the first point at or after
/// `crc32(key)`, wrapping.
///
/// The node name is the `server` string as written in nginx's config: the host
/// is the text before the last `:` when only digits follow it, otherwise the
/// whole name with an empty port; a `unix:` name hashes its path.
///
/// Compatibility is tested against a real nginx 1.31 in
/// `Tests/Vectors/nginx_chash.json`.
///
/// - Complexity: Lookup is one CRC-32 of the key and O(1) expected on the
///   points. Building is O(P log P) for P = 160·Σw points.
public struct NginxConsistentHash: ConsistentHash {
    /// The nodes, sorted by name; lookups index into this.
    public let nodes: [HashNode]
    @usableFromInline let ring: PointIndex

    public init(nodes: [HashNode]) throws(ConsistentHashError) {
        try ConsistentHashError.validate(nodes)
        try ConsistentHashError.checkPointCount(
            nodes,
            pointsPerWeight: 160,
            structure: "the nginx continuum",
            remedy: "lower the weights"
        )
        self.nodes = nodes.sorted { $0.name < $1.name }
        var points: [UInt64] = []
        for (owner, node) in self.nodes.enumerated() {
            let (host, port) = Self.split(node.name)
            var base = CRC32.initial
            String(host).withUTF8Bytes { base = CRC32.update(base, $0) }
            withUnsafeBytes(of: UInt8(0)) { base = CRC32.update(base, $0) }
            String(port).withUTF8Bytes { base = CRC32.update(base, $0) }
            var previous: UInt32 = 0
            for _ in 0..<(160 * node.weight) {
                let point = withUnsafeBytes(of: previous.littleEndian) { CRC32.finalize(CRC32.update(base, $0)) }
                points.append(PointIndex.pack(position32: point, owner: owner))
                previous = point
            }
        }
        // nginx keeps the first of several points at one position.
        points.sort()
        var unique: [UInt64] = []
        unique.reserveCapacity(points.count)
        for point in points where unique.last.map({ $0 & ~PointIndex.ownerMask }) != point & ~PointIndex.ownerMask {
            unique.append(point)
        }
        ring = PointIndex(unsorted: unique)
    }

    /// Splits a `server` string as nginx's upstream module does.
    static func split(_ server: String) -> (host: Substring, port: Substring) {
        if server.hasPrefix("unix:") {
            return (server.dropFirst(5), "")
        }
        if let colon = server.lastIndex(of: ":") {
            let port = server[server.index(after: colon)...]
            if !port.isEmpty && port.allSatisfy({ $0.isASCII && $0.isNumber }) {
                return (server[..<colon], port)
            }
        }
        return (server[...], "")
    }

    /// How many points the continuum holds after collapsing duplicates.
    public var pointCount: Int { ring.count }

    public func node(at index: Int) -> HashNode { nodes[index] }

    @inlinable
    public func index(forKey key: UnsafeRawBufferPointer) -> Int? {
        guard !ring.isEmpty else { return nil }
        return PointIndex.owner(ring.points[ring.firstIndex(atOrAfter: UInt64(CRC32.checksum(key)) << 32)])
    }

    /// Walks the points clockwise, as nginx does when the chosen peer is down.
    public func forEachCandidate(forKey key: UnsafeRawBufferPointer, _ body: (Int) throws -> Bool) rethrows {
        guard !ring.isEmpty else { return }
        try ring.forEachOwner(from: ring.firstIndex(atOrAfter: UInt64(CRC32.checksum(key)) << 32), body)
    }
}
