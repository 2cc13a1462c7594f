import Benchmark
import BenchmarkSupport
import Dispatch
import FulcrumCore
import FulcrumHashing

/// The cost of one pick per algorithm at 3, 100 and 1,000 backends, on one
/// thread and on two threads picking from the same cluster at once (as two
/// event loops do, each through its own `SnapshotReader`), hashing of a
/// 16-byte key included for `hash`.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        // Each sample times 1,000 picks per thread; figures are per pick.
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 100_000
    )

    let keyCount = 1 << 12
    let keyBytes: [UInt8] = (0..<keyCount).flatMap { i -> [UInt8] in
        Array(("k-" + String(i * 7919 + 10_000_000_000_000)).utf8.prefix(16))
    }

    let algorithms: [BalancingAlgorithm] = [
        .roundRobin, .weightedRoundRobin, .leastConnections, .leastResponseTimeDefault, .random, .powerOfTwo,
        .ipHash(prefix24: false), .hash(method: .ring, bound: nil), .hash(method: .maglev, bound: nil),
        .hash(method: .ring, bound: 1.25), .first,
    ]

    for n in [3, 100, 1000] {
        for algorithm in algorithms {
            let lazy = Lazy {
                let backends = (0..<n).map { i in
                    try! Backend(
                        id: "b\(i)",
                        address: BackendAddress(host: "10.0.\(i / 256).\(i % 256)", port: 8080),
                        weight: 1 + i % 4
                    )
                }
                return try! Cluster(name: "bench", backends: backends, settings: ClusterSettings(algorithm: algorithm))
            }
            for threads in [1, 2] {
                var configuration = Benchmark.defaultConfiguration
                // Two threads: 1,000,000 picks per sample, so that waking the
                // second thread (tens of microseconds) does not count as pick cost.
                if threads == 2 { configuration.scalingFactor = .mega }
                Benchmark("pick \(algorithm) n=\(n) threads=\(threads)", configuration: configuration) { benchmark in
                    let cluster = lazy.value
                    let picks = benchmark.scaledIterations.count
                    DispatchQueue.concurrentPerform(iterations: threads) { thread in
                        var reader = SnapshotReader(cluster, seed: thread)
                        var context = PickContext(random: FastRandom(seed: UInt64(thread + 1)), now: SystemClock().now)
                        keyBytes.withUnsafeBytes { all in
                            var k = thread * 97
                            for _ in 0..<picks {
                                context.hashKey = UnsafeRawBufferPointer(rebasing: all[(k &* 16)..<(k &* 16 &+ 16)])
                                context.client = ClientAddress(ipv4: UInt32(truncatingIfNeeded: k &* 2_654_435_761))
                                blackHole(reader.pick(&context))
                                k = (k + 1) & (keyCount - 1)
                            }
                        }
                    }
                }
            }
        }
    }
}
