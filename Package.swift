// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Fulcrum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FulcrumHashing", targets: ["FulcrumHashing"]),
        .library(name: "FulcrumCore", targets: ["FulcrumCore"]),
        .library(name: "FulcrumConfig", targets: ["FulcrumConfig"]),
        .library(name: "FulcrumProxy", targets: ["FulcrumProxy"]),
        .executable(name: "fulcrum", targets: ["fulcrum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // The standard library only, so caches and databases can embed it.
        .target(name: "FulcrumHashing"),
        // The balancing brain: no I/O, no NIO, no Foundation.
        .target(
            name: "FulcrumCore",
            dependencies: ["FulcrumHashing"]
        ),
        // Typed config, YAML loading with file:line errors, validation, defaults.
        .target(
            name: "FulcrumConfig",
            dependencies: [
                "FulcrumCore",
                "FulcrumHashing",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // epoll, eventfd and accept4 for the data plane, which Glibc's module
        // does not export.
        .target(name: "CFulcrumLinux"),
        // The data plane: the HTTP proxy and the TCP relay on epoll directly
        // (docs/ARCHITECTURE.md says why); NIO for UDP, health checks and
        // metrics; swift-crypto for JWT signatures (HS256, RS256).
        .target(
            name: "FulcrumProxy",
            dependencies: [
                "CFulcrumLinux",
                "FulcrumHashing",
                "FulcrumCore",
                "FulcrumConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "fulcrum",
            dependencies: [
                "FulcrumHashing",
                "FulcrumCore",
                "FulcrumConfig",
                "FulcrumProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "FulcrumHashingTests",
            dependencies: ["FulcrumHashing"]
        ),
        .testTarget(
            name: "FulcrumCoreTests",
            dependencies: ["FulcrumCore", "FulcrumHashing"]
        ),
        .testTarget(
            name: "FulcrumConfigTests",
            dependencies: ["FulcrumConfig"]
        ),
        .testTarget(
            name: "FulcrumProxyTests",
            dependencies: [
                "FulcrumProxy",
                "FulcrumConfig",
                "FulcrumCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "FulcrumCLITests",
            dependencies: ["fulcrum"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
