// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Fulcrum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FulcrumHashing", targets: ["FulcrumHashing"]),
        .library(name: "FulcrumCore", targets: ["FulcrumCore"]),
        .executable(name: "fulcrum", targets: ["fulcrum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2")
    ],
    targets: [
        // The standard library only, so caches and databases can embed it.
        .target(name: "FulcrumHashing"),
        // The balancing brain: no I/O, no NIO, no Foundation.
        .target(
            name: "FulcrumCore",
            dependencies: ["FulcrumHashing"]
        ),
        .executableTarget(
            name: "fulcrum",
            dependencies: [
                "FulcrumHashing",
                "FulcrumCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
            name: "FulcrumCLITests",
            dependencies: ["fulcrum"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
