import Benchmark
import BenchmarkSupport
import FulcrumHashing

/// Lookup cost per algorithm and node count, including hashing a 16-byte key,
/// and the cost of building each structure.
///
/// Each lookup iteration cycles through a fixed pool of distinct 16-byte keys,
/// so the figures include the cache misses of real traffic rather than one
/// hot key.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        // Each sample times 1,000 lookups so the clock's own cost does not
        // swamp a lookup of a few nanoseconds; figures are per lookup.
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 100_000
    )

    let keyCount = 1 << 16
    // 16 bytes each: "k-" + 14 digits, contiguous.
    let keyBytes: [UInt8] = (0..<keyCount).flatMap { i -> [UInt8] in
        let digits = String(i * 7919 + 10_000_000_000_000)
        return Array(("k-" + digits).utf8.prefix(16))
    }

    func lookupBenchmark<T: ConsistentHash>(_ name: String, _ make: @escaping @Sendable () throws -> T) {
        // Built on first use, during warm-up, so that running one benchmark
        // does not pay for building every structure.
        let lazy = Lazy(make)
        Benchmark(name) { benchmark in
            let structure = lazy.value
            keyBytes.withUnsafeBytes { all in
                var k = 0
                for _ in benchmark.scaledIterations {
                    let key = UnsafeRawBufferPointer(rebasing: all[(k &* 16)..<(k &* 16 &+ 16)])
                    blackHole(structure.index(forKey: key))
                    k = (k + 1) & (keyCount - 1)
                }
            }
        }
    }

    for n in [10, 100, 1000] {
        let nodes = (1...n).map { HashNode("10.0.\($0 / 256).\($0 % 256):11211", id: $0) }
        lookupBenchmark("lookup ring n=\(n)") { try HashRing(nodes: nodes) }
        lookupBenchmark("lookup ketama n=\(n)") { try KetamaRing(nodes: nodes) }
        lookupBenchmark("lookup nginx n=\(n)") { try NginxConsistentHash(nodes: nodes) }
        lookupBenchmark("lookup haproxy n=\(n)") { try HAProxyConsistentHash(nodes: nodes) }
        lookupBenchmark("lookup maglev n=\(n)") { try MaglevTable(nodes: nodes) }
        lookupBenchmark("lookup jump n=\(n)") { try JumpHash(nodes: nodes) }
        lookupBenchmark("lookup modulo n=\(n)") { try ModuloHash(nodes: nodes) }
        if n <= 100 {
            lookupBenchmark("lookup rendezvous n=\(n)") { try RendezvousHash(nodes: nodes) }
        }
        let lazyBounded = Lazy { try BoundedLoads(HashRing(nodes: nodes), factor: 1.25) }
        let loads = [Int](repeating: 10, count: n)
        Benchmark("lookup ring+bound1.25 n=\(n)") { benchmark in
            let bounded = lazyBounded.value
            keyBytes.withUnsafeBytes { all in
                var k = 0
                for _ in benchmark.scaledIterations {
                    let key = UnsafeRawBufferPointer(rebasing: all[(k &* 16)..<(k &* 16 &+ 16)])
                    blackHole(bounded.index(forKey: key, load: { loads[$0] }, totalLoad: 10 * n))
                    k = (k + 1) & (keyCount - 1)
                }
            }
        }
    }

    let buildConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 1,
        // Explicit: the configuration's defaults come from the lookup
        // configuration above, which times 1,000 operations per sample.
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 20
    )
    for n in [10, 100, 1000] {
        let nodes = (1...n).map { HashNode("10.0.\($0 / 256).\($0 % 256):11211", id: $0) }
        for algorithm in HashAlgorithm.allCases where !(algorithm == .rendezvous && n > 100) {
            Benchmark("build \(algorithm) n=\(n)", configuration: buildConfiguration) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try algorithm.make(nodes: nodes))
                }
            }
        }
        let lazyRing = Lazy { try HashRing(nodes: nodes) }
        Benchmark("ring add one node n=\(n)", configuration: buildConfiguration) { benchmark in
            let ring = lazyRing.value
            for _ in benchmark.scaledIterations {
                var copy = ring
                try copy.add(HashNode("new-node"))
                blackHole(copy)
            }
        }
    }

    let key16 = Array("0123456789abcdef".utf8)
    for function in HashFunction.allCases {
        Benchmark("hash \(function) 16B") { benchmark in
            key16.withUnsafeBytes { key in
                for _ in benchmark.scaledIterations {
                    blackHole(function.hash64(key))
                }
            }
        }
    }
}
