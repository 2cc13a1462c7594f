import FulcrumHashing
import Testing

/// Behaviour every algorithm shares: determinism, failover order, errors.
@Suite("Every algorithm")
struct ConsistentHashTests {
    @Test("Placement does not depend on the order nodes are given in", arguments: [HashAlgorithm.ring, .ketama, .nginx, .maglev, .rendezvous, .haproxy])
    func orderIndependence(_ algorithm: HashAlgorithm) throws {
        let nodes = Placement.nodes(12)
        var shuffled = nodes
        var rng = SplitMix(seed: 7)
        shuffled.shuffle(using: &rng)
        #expect(shuffled != nodes)
        let a = Placement.names(try algorithm.make(nodes: nodes), keys: 5_000)
        let b = Placement.names(try algorithm.make(nodes: shuffled), keys: 5_000)
        #expect(a == b)
    }

    @Test("A ring grown one node at a time equals one built at once")
    func incrementalRing() throws {
        let nodes = (1...12).map { HashNode("n\($0)", weight: $0 % 3 + 1) }
        var grown = try HashRing(nodes: [])
        for node in nodes.reversed() { try grown.add(node) }
        // Remove and re-add one to exercise slot reuse.
        try grown.remove(named: "n5")
        try grown.add(nodes[4])
        let direct = try HashRing(nodes: nodes)
        #expect(grown.pointCount == direct.pointCount)
        #expect(Placement.names(grown, keys: 20_000) == Placement.names(direct, keys: 20_000))
        #expect(grown.nodes == direct.nodes)
    }

    @Test("nodes(for:count:) gives distinct nodes, first the owner", arguments: HashAlgorithm.allCases)
    func preferenceList(_ algorithm: HashAlgorithm) throws {
        let structure = try algorithm.make(nodes: Placement.nodes(7))
        for k in 0..<200 {
            let key = "key-\(k)"
            let all = structure.nodes(for: key, count: 10)
            #expect(all.count == 7, "\(algorithm) offered \(all.count) of 7 nodes")
            #expect(Set(all.map(\.name)).count == all.count)
            #expect(all.first == structure.node(for: key))
            #expect(structure.nodes(for: key, count: 3) == Array(all.prefix(3)))
        }
    }

    @Test("The second choice is where keys go when the first is removed", arguments: [HashAlgorithm.ring, .rendezvous])
    func failoverMatchesRemoval(_ algorithm: HashAlgorithm) throws {
        let nodes = Placement.nodes(8)
        let structure = try algorithm.make(nodes: nodes)
        let without3 = try algorithm.make(nodes: nodes.filter { $0.name != "node-3" })
        for k in 0..<2_000 {
            let key = "key-\(k)"
            let preference = structure.nodes(for: key, count: 2)
            let expected = preference[0].name == "node-3" ? preference[1] : preference[0]
            #expect(without3.node(for: key) == expected)
        }
    }

    @Test("Empty structures return nil", arguments: HashAlgorithm.allCases.filter { $0 != .haproxy })
    func empty(_ algorithm: HashAlgorithm) throws {
        let structure = try algorithm.make(nodes: [])
        #expect(structure.node(for: "x") == nil)
        #expect(structure.nodes(for: "x", count: 3).isEmpty)
    }

    @Test("Bad nodes are rejected with a clear error", arguments: HashAlgorithm.allCases)
    func badNodes(_ algorithm: HashAlgorithm) {
        let zero = #expect(throws: ConsistentHashError.self) {
            try algorithm.make(nodes: [HashNode("a", weight: 0, id: 1)])
        }
        #expect(zero?.code == .invalidWeight)
        #expect(zero?.message.contains("weight 0") == true)
        let duplicate = #expect(throws: ConsistentHashError.self) {
            try algorithm.make(nodes: [HashNode("a", id: 1), HashNode("a", id: 2)])
        }
        #expect(duplicate?.code == .duplicateNode)
    }

    @Test("Weighted rendezvous placement is pinned across releases")
    func weightedRendezvousGolden() throws {
        var nodes = Placement.nodes(5)
        for i in nodes.indices { nodes[i].weight = i + 1 }
        let names = Placement.names(try RendezvousHash(nodes: nodes), keys: 16).map { String($0.dropFirst("node-".count)) }
        #expect(names.joined() == "4455552244445543")
    }

    @Test("Maglev rejects a table size that is not prime", arguments: [0, 1, 4, 65536, 100_000])
    func maglevPrime(_ size: Int) {
        let error = #expect(throws: ConsistentHashError.self) { try MaglevTable(nodes: Placement.nodes(3), tableSize: size) }
        #expect(error?.code == .tableSizeNotPrime)
        #expect(error?.message.contains(String(size)) == true)
    }

    @Test("Maglev accepts small primes", arguments: [5, 251, 5003])
    func maglevSmallPrimes(_ size: Int) throws {
        let table = try MaglevTable(nodes: Placement.nodes(3), tableSize: size)
        #expect(table.slotCounts.reduce(0, +) == size)
        #expect(table.slotCounts.allSatisfy { $0 > 0 })
    }

    @Test("Jump refuses weights rather than ignoring them")
    func jumpWeights() {
        #expect(throws: ConsistentHashError.self) { try JumpHash(nodes: [HashNode("a", weight: 2)]) }
    }

    @Test("Primes")
    func primes() {
        let small = (0..<50).filter(Primes.isPrime)
        #expect(small == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47])
        #expect(Primes.isPrime(65537) && Primes.isPrime(655_373) && !Primes.isPrime(65535))
    }

    /// Placement must never change between releases: these were recorded
    /// when each algorithm was written. A change here breaks every cache
    /// that relies on Fulcrum's placement, so it needs a new algorithm name.
    @Test("Placement is pinned across releases", arguments: zip(HashAlgorithm.allCases, goldenPlacements))
    func golden(_ algorithm: HashAlgorithm, _ expected: String) throws {
        let structure = try algorithm.make(nodes: Placement.nodes(5))
        let names = Placement.names(structure, keys: 16).map { String($0.dropFirst("node-".count)) }.joined()
        #expect(names == expected, "\(algorithm)")
    }
}

/// For each algorithm in `HashAlgorithm.allCases` order, the node numbers
/// (1–5) that keys `key-0` … `key-15` go to.
let goldenPlacements: [String] = [
    "2153131514411231",  // ring
    "4341124133324455",  // ketama
    "3231443452514143",  // nginx
    "3235221132213252",  // maglev
    "5422511351212414",  // jump
    "2452551242115241",  // rendezvous
    "4525322432443355",  // modulo
    "1221513233125132",  // haproxy
]

/// A seeded generator for reproducible shuffles.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
