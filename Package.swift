// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Fulcrum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FulcrumHashing", targets: ["FulcrumHashing"]),
        .executable(name: "fulcrum", targets: ["fulcrum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2")
    ],
    targets: [
        // The standard library only, so caches and databases can embed it.
        .target(
            name: "FulcrumHashing",
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "fulcrum",
            dependencies: [
                "FulcrumHashing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "FulcrumHashingTests",
            dependencies: ["FulcrumHashing"]
        ),
        .testTarget(
            name: "FulcrumCLITests",
            dependencies: ["fulcrum"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
