// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package, as swift-nio's do, so that users of
// the library never resolve the benchmark harness.
let package = Package(
    name: "FulcrumBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Fulcrum", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "BenchmarkSupport", path: "Benchmarks/BenchmarkSupport"),
        .executableTarget(
            name: "HashingBenchmarks",
            dependencies: [
                .product(name: "FulcrumHashing", package: "Fulcrum"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/HashingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "BalancingBenchmarks",
            dependencies: [
                .product(name: "FulcrumCore", package: "Fulcrum"),
                .product(name: "FulcrumHashing", package: "Fulcrum"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/BalancingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
