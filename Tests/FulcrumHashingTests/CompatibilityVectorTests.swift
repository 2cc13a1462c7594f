import FulcrumHashing
import Testing

/// Placement byte-compatible with other products, checked against the values
/// their real implementations produced (see `Tests/Vectors/README.md`).
@Suite("Compatibility with libketama, nginx, HAProxy, pymemcache and jump")
struct CompatibilityVectorTests {
    private func nodes(_ list: [[String: Any]]) throws -> [HashNode] {
        try list.map { node in
            HashNode(
                try Vectors.field(node, "name", as: String.self),
                weight: try Vectors.field(node, "weight", as: Int.self),
                id: node["id"] as? Int
            )
        }
    }

    private func expectAssignment(
        _ structure: some ConsistentHash,
        _ expected: [String],
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let actual = Placement.names(structure, keys: expected.count)
        let mismatches = zip(actual, expected).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(expected.count == 10_000, "\(label): vector has \(expected.count) keys", sourceLocation: sourceLocation)
        #expect(
            mismatches.isEmpty,
            "\(label): \(mismatches.count) mismatches; first: key-\(mismatches.first?.offset ?? -1) got \(mismatches.first?.element.0 ?? "") expected \(mismatches.first?.element.1 ?? "")",
            sourceLocation: sourceLocation
        )
    }

    @Test("ketama matches uhashring / libketama on every key")
    func ketama() throws {
        let file = try Vectors.load("ketama.json")
        let sets = try Vectors.field(file, "sets", as: [String: [String: Any]].self)
        #expect(!sets.isEmpty)
        for (name, set) in sets {
            let variants = try Vectors.field(set, "variants", as: [String: [String: Any]].self)
            for (variant, data) in variants {
                let ring = try KetamaRing(nodes: try nodes(try Vectors.field(data, "nodes")))
                if let points = data["num_points"] as? Int {
                    #expect(ring.pointCount == points, "\(name)/\(variant) point count")
                }
                expectAssignment(ring, try Vectors.field(data, "assignment"), "ketama \(name)/\(variant)")
            }
        }
    }

    @Test("ketama's continuum points match the published first points")
    func ketamaPrimitives() throws {
        let file = try Vectors.load("ketama.json")
        let primitives = try Vectors.field(file, "primitive_examples", as: [String: Any].self)
        let keyHashes = try Vectors.field(primitives, "key_hashes_md5_le32", as: [String: Int].self)
        for (key, expected) in keyHashes {
            #expect(Int(MD5.hash(key).words.0) == expected, "md5-le32(\(key))")
        }
    }

    /// Checks every set's base, after_remove and after_add variants of a
    /// file laid out as the nginx and HAProxy vectors are.
    private func checkVariants(
        file: String,
        nodesField: String,
        label: String,
        _ make: ([HashNode]) throws -> some ConsistentHash
    ) throws {
        let sets = try Vectors.field(try Vectors.load(file), "sets", as: [String: [String: Any]].self)
        #expect(!sets.isEmpty)
        for (name, set) in sets {
            for variant in ["base", "after_remove", "after_add"] {
                let data = try Vectors.field(set, variant, as: [String: Any].self)
                let structure = try make(try nodes(try Vectors.field(data, nodesField)))
                expectAssignment(structure, try Vectors.field(data, "assignment"), "\(label) \(name)/\(variant)")
            }
        }
    }

    @Test("nginx matches a real nginx on every key")
    func nginx() throws {
        try checkVariants(file: "nginx_chash.json", nodesField: "nodes", label: "nginx") {
            try NginxConsistentHash(nodes: $0)
        }
    }

    @Test("nginx splits server strings as its upstream module does")
    func nginxServerSplit() throws {
        let a = try NginxConsistentHash(nodes: [HashNode("10.0.0.1:80"), HashNode("unix:/tmp/sock"), HashNode("backend")])
        #expect(a.pointCount == 480)
        // The same host and port spelled differently are different points: the
        // name is hashed as written.
        let b = try NginxConsistentHash(nodes: [HashNode("10.0.0.1:080")])
        let c = try NginxConsistentHash(nodes: [HashNode("10.0.0.1:80")])
        #expect(b.index(for: "x") == 0 && c.index(for: "x") == 0)
    }

    @Test("haproxy matches a real HAProxy on every key")
    func haproxy() throws {
        try checkVariants(file: "haproxy_chash.json", nodesField: "servers", label: "haproxy") {
            try HAProxyConsistentHash(nodes: $0)
        }
    }

    @Test("haproxy placement needs server ids")
    func haproxyNeedsIDs() {
        #expect(throws: ConsistentHashError.self) { try HAProxyConsistentHash(nodes: [HashNode("s1")]) }
        #expect(throws: ConsistentHashError.self) {
            try HAProxyConsistentHash(nodes: [HashNode("s1", id: 1), HashNode("s2", id: 1)])
        }
    }

    @Test("rendezvous with murmur3_32 matches pymemcache on every key")
    func rendezvous() throws {
        let file = try Vectors.load("rendezvous_pymemcache.json")
        let sets = try Vectors.field(file, "sets", as: [String: [String: Any]].self)
        #expect(!sets.isEmpty)
        for (name, set) in sets {
            let names = try Vectors.field(set, "nodes", as: [String].self)
            let base = try RendezvousHash(nodes: names.map { HashNode($0) }, hashFunction: .murmur3_32)
            expectAssignment(base, try Vectors.field(set, "base"), "rendezvous \(name)/base")
            if let removal = set["after_remove"] as? [String: Any] {
                let removed = try Vectors.field(removal, "removed", as: String.self)
                let hash = try RendezvousHash(
                    nodes: names.filter { $0 != removed }.map { HashNode($0) },
                    hashFunction: .murmur3_32
                )
                expectAssignment(hash, try Vectors.field(removal, "assignment"), "rendezvous \(name)/after_remove")
            }
            if let addition = set["after_add"] as? [String: Any] {
                let added = try Vectors.field(addition, "added", as: String.self)
                let hash = try RendezvousHash(nodes: (names + [added]).map { HashNode($0) }, hashFunction: .murmur3_32)
                expectAssignment(hash, try Vectors.field(addition, "assignment"), "rendezvous \(name)/after_add")
            }
        }
    }

    @Test("jump matches the paper's reference code for every key and bucket count")
    func jump() throws {
        let file = try Vectors.load("jump.json")
        let sequential = try Vectors.field(file, "sequential_keys", as: [String: Any].self)
        let values = try Vectors.field(sequential, "values", as: [String: [Int]].self)
        #expect(values.count >= 5)
        for (buckets, expected) in values {
            let n = Int(buckets)!
            let actual = (0..<expected.count).map { JumpHash.bucket(for: UInt64($0), buckets: n) }
            #expect(actual == expected, "jump with \(n) buckets")
        }
        #expect(JumpHash.bucket(for: 256, buckets: 1024) == 520)
    }
}
