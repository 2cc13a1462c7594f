import FulcrumCore

/// Builds clusters of loopback backends for the core's tests.
enum Fixture {
    static func backends(_ weights: [Int], backups: Set<Int> = [], limits: [Int: Int] = [:]) -> [Backend] {
        weights.enumerated().map { i, weight in
            try! Backend(
                id: name(i),
                address: BackendAddress(host: "127.0.0.1", port: 9001 + i),
                weight: weight,
                isBackup: backups.contains(i),
                maxInFlight: limits[i]
            )
        }
    }

    /// a, b, c, … for readable sequences.
    static func name(_ i: Int) -> String {
        i < 26 ? String(UnicodeScalar(UInt8(97 + i))) : "b\(i)"
    }

    static func cluster(
        _ weights: [Int],
        _ algorithm: BalancingAlgorithm,
        backups: Set<Int> = [],
        clock: ManualClock = ManualClock(),
        configure: (inout ClusterSettings) -> Void = { _ in }
    ) throws -> Cluster {
        var settings = ClusterSettings(algorithm: algorithm)
        configure(&settings)
        return try Cluster(name: "test", backends: backends(weights, backups: backups), settings: settings, clock: clock)
    }

    static func context(seed: UInt64 = 1, clock: ManualClock? = nil) -> PickContext {
        PickContext(random: FastRandom(seed: seed), now: clock?.now ?? Instant(nanoseconds: 1_000_000_000))
    }
}

extension Cluster {
    /// Picks `count` times with one context (one event loop), returning names.
    func names(_ count: Int, seed: UInt64 = 1) -> [String] {
        var context = Fixture.context(seed: seed)
        return (0..<count).map { _ in
            context.tried = TriedBackends()
            guard let index = pick(&context).index else { return "-" }
            return backends[index].id
        }
    }

    /// Picks per backend id over `count` picks.
    func counts(_ count: Int, seed: UInt64 = 1) -> [String: Int] {
        names(count, seed: seed).reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// Marks a backend down with enough failed checks.
    func markDown(_ index: Int) {
        for _ in 0..<settings.fall { recordCheck(.failure(reason: "test"), backend: index) }
    }

    func markUp(_ index: Int) {
        for _ in 0..<settings.rise { recordCheck(.success(), backend: index) }
    }
}
