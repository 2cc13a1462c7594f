import FulcrumCore
import Testing

@Suite("Balancing algorithms")
struct BalancingAlgorithmTests {
    @Test("Round robin rotates strictly")
    func roundRobin() throws {
        let cluster = try Fixture.cluster([1, 1, 1], .roundRobin)
        #expect(cluster.names(7).joined() == "abcabca")
    }

    @Test("Smooth weighted round robin gives nginx's sequence for {5, 1, 1}")
    func smoothWeighted() throws {
        let cluster = try Fixture.cluster([5, 1, 1], .weightedRoundRobin)
        #expect(cluster.names(14).joined() == "aabacaa" + "aabacaa")
    }

    /// A direct transcription of nginx's `ngx_http_upstream_get_peer` loop.
    static func nginxSequence(_ weights: [Int], _ count: Int) -> String {
        var current = [Int](repeating: 0, count: weights.count)
        let total = weights.reduce(0, +)
        var out = ""
        for _ in 0..<count {
            var best = -1
            for i in weights.indices {
                current[i] += weights[i]
                if best == -1 || current[i] > current[best] { best = i }
            }
            current[best] -= total
            out += Fixture.name(best)
        }
        return out
    }

    @Test("Smooth weighted round robin matches nginx's loop", arguments: [[1, 2, 3], [4, 3, 2, 1], [7, 7, 1], [256, 1, 3, 100]])
    func smoothWeightedMatchesNginx(_ weights: [Int]) throws {
        let cluster = try Fixture.cluster(weights, .weightedRoundRobin)
        let count = weights.reduce(0, +) * 2 + 5
        #expect(cluster.names(count).joined() == Self.nginxSequence(weights, count))
    }

    @Test("Weighted round robin spreads 100,000 picks within 2% of the weights")
    func weightedDistribution() throws {
        let weights = [5, 3, 2, 1, 9]
        let cluster = try Fixture.cluster(weights, .weightedRoundRobin)
        expectShares(cluster.counts(100_000), weights: weights, tolerance: 0.02)
    }

    @Test("Random is uniform", arguments: [BalancingAlgorithm.random, .powerOfTwo])
    func uniform(_ algorithm: BalancingAlgorithm) throws {
        let cluster = try Fixture.cluster([1, 1, 1, 1], algorithm)
        expectShares(cluster.counts(100_000), weights: [1, 1, 1, 1], tolerance: 0.02)
    }

    @Test(
        "Weighted load-aware algorithms follow weights within 2% under load",
        arguments: [BalancingAlgorithm.leastConnections, .powerOfTwo, .leastResponseTimeDefault]
    )
    func weightedUnderLoad(_ algorithm: BalancingAlgorithm) throws {
        let weights = [1, 2, 3, 4]
        let cluster = try Fixture.cluster(weights, algorithm)
        // Each request holds its backend for the next 1,000 picks, so
        // in-flight counts build up and the weighted scores decide. (Scores
        // count the request being placed, (n + 1) / w, so at low concurrency
        // light backends get slightly less than their weight, as in HAProxy.)
        var context = Fixture.context()
        var inFlight: [Int] = []
        var counts = [String: Int]()
        for _ in 0..<100_000 {
            context.tried = TriedBackends()
            let i = try #require(cluster.pick(&context).index)
            cluster.backends[i].load.start()
            inFlight.append(i)
            counts[cluster.backends[i].id, default: 0] += 1
            if inFlight.count > 1_000 {
                cluster.backends[inFlight.removeFirst()].load.finish(at: context.now)
            }
        }
        expectShares(counts, weights: weights, tolerance: 0.02)
    }

    @Test("Weighted hashing spreads 100,000 distinct keys within 2% of the weights", arguments: [
        BalancingAlgorithm.hash(method: .maglev, bound: nil), .hash(method: .rendezvous, bound: nil),
    ])
    func weightedHash(_ algorithm: BalancingAlgorithm) throws {
        let weights = [1, 2, 3, 4]
        let cluster = try Fixture.cluster(weights, algorithm)
        var counts = [String: Int]()
        for k in 0..<100_000 {
            var context = Fixture.context()
            try Array("user-\(k)".utf8).withUnsafeBytes { key in
                context.hashKey = key
                counts[cluster.backends[try #require(cluster.pick(&context).index)].id, default: 0] += 1
            }
        }
        expectShares(counts, weights: weights, tolerance: 0.02)
    }

    @Test("Least connections converges: a backend with long requests gets fewer new ones")
    func leastConnectionsConverges() throws {
        let cluster = try Fixture.cluster([1, 1, 1], .leastConnections)
        for _ in 0..<10 { cluster.backends[0].load.start() }
        let picks = cluster.names(20)
        // b and c take turns until they catch up with a's 10.
        #expect(!picks.prefix(18).contains("a"))
        #expect(Set(picks.prefix(18)) == ["b", "c"])
    }

    @Test("Least connections breaks ties by rotation, not by list order")
    func leastConnectionsRotates() throws {
        let cluster = try Fixture.cluster([1, 1, 1], .leastConnections)
        #expect(Set(cluster.names(3)) == ["a", "b", "c"])
    }

    @Test("first fills backends in order up to their limits")
    func first() throws {
        let backends = Fixture.backends([1, 1, 1], limits: [0: 2, 1: 2, 2: 2])
        let cluster = try Cluster(name: "t", backends: backends, settings: ClusterSettings(algorithm: .first), clock: ManualClock())
        var context = Fixture.context()
        var order: [String] = []
        for _ in 0..<6 {
            let i = try #require(cluster.pick(&context).index)
            backends[i].load.start()
            order.append(backends[i].id)
        }
        #expect(order.joined() == "aabbcc")
        #expect(cluster.pick(&context) == .unavailable(.atCapacity))
        backends[0].load.finish(at: context.now)
        #expect(cluster.pick(&context).index == 0)
    }

    @Test("Retries never repeat a backend while another remains", arguments: [
        BalancingAlgorithm.roundRobin, .weightedRoundRobin, .leastConnections, .leastResponseTimeDefault, .random,
        .powerOfTwo, .ipHash(prefix24: false), .hash(method: .ring, bound: nil), .hash(method: .maglev, bound: 1.25),
        .first,
    ])
    func retriesGoElsewhere(_ algorithm: BalancingAlgorithm) throws {
        let cluster = try Fixture.cluster([1, 2, 1, 3], algorithm)
        for seed in 0..<200 {
            var context = Fixture.context(seed: UInt64(seed))
            context.client = ClientAddress(ipv4: UInt32(seed))
            let key = Array("user-\(seed)".utf8)
            try key.withUnsafeBytes { key in
                context.hashKey = key
                var seen = Set<Int>()
                for _ in 0..<4 {
                    let i = try #require(cluster.pick(&context).index)
                    #expect(!seen.contains(i), "\(algorithm) repeated \(i) with seed \(seed)")
                    seen.insert(i)
                    context.tried.insert(i)
                }
                // All four tried: a fifth pick still answers.
                #expect(cluster.pick(&context).index != nil)
            }
        }
    }

    @Test("Hash places a key on one backend, and a backend going down moves only its keys", arguments: [
        HashAlgorithmName.ring, .maglev, .rendezvous, .ketama, .nginx, .jump,
    ])
    func hashStability(_ method: HashAlgorithmName) throws {
        let cluster = try Fixture.cluster([1, 1, 1, 1, 1], .hash(method: method.algorithm, bound: nil))
        func place() throws -> [Int] {
            try (0..<2_000).map { k in
                var context = Fixture.context(seed: UInt64(k))
                return try Array("key-\(k)".utf8).withUnsafeBytes { key in
                    context.hashKey = key
                    return try #require(cluster.pick(&context).index)
                }
            }
        }
        let before = try place()
        #expect(try place() == before)
        cluster.markDown(2)
        let after = try place()
        for (b, a) in zip(before, after) where b != 2 {
            #expect(a == b)
        }
        #expect(!after.contains(2))
        cluster.markUp(2)
        #expect(try place() == before)
    }

    @Test("ip-hash keeps a client on one backend; /24 keeps a network together")
    func ipHash() throws {
        let cluster = try Fixture.cluster([1, 1, 1, 1, 1, 1, 1, 1], .ipHash(prefix24: true))
        var context = Fixture.context()
        var byNetwork: [UInt32: Int] = [:]
        for host in 0..<2_000 as Range<UInt32> {
            let network = host / 8
            context.client = ClientAddress(ipv4: 0x0A00_0000 | network << 8 | (host % 8))
            let i = try #require(cluster.pick(&context).index)
            if let existing = byNetwork[network] { #expect(existing == i) }
            byNetwork[network] = i
        }
        #expect(Set(byNetwork.values).count == 8)
    }

    @Test("Bounded-load hashing never exceeds the bound with load held")
    func boundedHash() throws {
        let cluster = try Fixture.cluster([1, 1, 1, 1], .hash(method: .ring, bound: 1.25))
        var context = Fixture.context()
        for k in 0..<400 {
            // A skewed key set: most requests share ten keys.
            let key = k % 10 == 0 ? "cold-\(k)" : "hot-\(k % 10)"
            try Array(key.utf8).withUnsafeBytes { key in
                context.hashKey = key
                let i = try #require(cluster.pick(&context).index)
                cluster.backends[i].load.start()
            }
            let total = cluster.backends.reduce(0) { $0 + $1.load.inFlight }
            let limit = Int((1.25 * Double(total) / 4).rounded(.up))
            #expect(cluster.backends.allSatisfy { $0.load.inFlight <= limit })
        }
    }

    @Test("jump refuses unequal weights")
    func jumpWeights() {
        #expect(throws: CoreError.self) { try Fixture.cluster([1, 2], .hash(method: .jump, bound: nil)) }
    }
}

/// The hash methods by name, for test arguments.
enum HashAlgorithmName: String, CaseIterable, Sendable {
    case ring, maglev, rendezvous, ketama, nginx, jump
    var algorithm: FulcrumHashingAlgorithm { FulcrumHashingAlgorithm(rawValue: rawValue)! }
}

func expectShares(
    _ counts: [String: Int],
    weights: [Int],
    tolerance: Double,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let total = Double(counts.values.reduce(0, +))
    let weightSum = Double(weights.reduce(0, +))
    for (i, weight) in weights.enumerated() {
        let share = Double(counts[Fixture.name(i), default: 0]) / total
        let ideal = Double(weight) / weightSum
        #expect(abs(share - ideal) <= tolerance * ideal + 0.002, "\(Fixture.name(i)): share \(share), ideal \(ideal)", sourceLocation: sourceLocation)
    }
}
