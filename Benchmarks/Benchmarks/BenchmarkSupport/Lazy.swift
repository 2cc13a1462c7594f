/// A value built on first use. Benchmarks run one per process, so building
/// every structure at registration would make each run pay for all of them.
public final class Lazy<T>: @unchecked Sendable {
    private let make: () throws -> T
    private var built: T?

    public init(_ make: @escaping () throws -> T) { self.make = make }

    /// Only the benchmark's own thread reads this, one benchmark at a time.
    public var value: T {
        if let built { return built }
        let value = try! make()
        built = value
        return value
    }
}
