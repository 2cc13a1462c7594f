import FulcrumHashing

/// A discrete-event simulation of one cluster behind the balancer, driving
/// the real pickers and health logic with a manual clock.
///
/// It answers "what happens to my p99 with least-response-time when one
/// backend is slow?" before production does. Each backend is a queue with a
/// fixed number of workers and exponential service times; requests arrive as
/// a Poisson stream (open loop) or from a fixed number of clients that send
/// again as soon as they get an answer (closed loop). A backend can be made
/// to fail part-way: from then on its requests fail at once, as a refused
/// connection does, and are retried on another backend; passive outlier
/// ejection and active checks take it out as they would in production.
///
/// Everything is seeded, so a run is reproducible.
public struct Simulator: Sendable {
    public var configuration: SimulationConfiguration

    public init(_ configuration: SimulationConfiguration) {
        self.configuration = configuration
    }

    /// Runs the simulation for one algorithm.
    ///
    /// - Throws: ``CoreError`` when the configuration or the algorithm is invalid.
    public func run(_ algorithm: BalancingAlgorithm) throws(CoreError) -> SimulationResult {
        try configuration.validate()
        var run = try SimulationRun(configuration, algorithm: algorithm)
        return run.execute()
    }
}

/// What a simulation models.
public struct SimulationConfiguration: Sendable {
    /// Backend weights; the count is the number of backends.
    public var weights: [Int] = [1, 1, 1, 1, 1]
    /// Mean service time of a normal backend.
    public var serviceTime: Duration = .milliseconds(10)
    /// Workers per backend: requests served at once; the rest queue.
    public var workers = 4
    /// Backends whose mean service time is multiplied: index → factor.
    public var slow: [Int: Double] = [:]
    /// Open-loop arrivals per second, or nil for closed-loop `clients`.
    public var arrivalRate: Double? = 1_000
    /// Closed-loop clients, used when `arrivalRate` is nil.
    public var clients = 50
    /// Requests to simulate.
    public var requests = 100_000
    /// A backend that starts failing after this fraction of the requests.
    public var failure: (backend: Int, atFraction: Double)?
    /// Retries on another backend after a failed attempt.
    public var retries = 2
    /// Distinct request keys (for `hash`) and client addresses (for `ip-hash`).
    public var keyCount = 10_000
    /// Active check interval; failing backends go down after `fall` checks.
    public var checkInterval: Duration = .seconds(2)
    public var seed: UInt64 = 1

    public init() {}

    func validate() throws(CoreError) {
        func fail(_ message: String) -> CoreError { CoreError(code: .invalidSetting, message: message) }
        guard !weights.isEmpty else { throw fail("the simulation needs at least one backend") }
        guard weights.allSatisfy({ (1...Backend.maxWeight).contains($0) }) else {
            throw fail("simulated backend weights must be 1 to \(Backend.maxWeight)")
        }
        guard serviceTime > .zero else { throw fail("service time must be above 0") }
        guard workers >= 1 else { throw fail("workers per backend must be 1 or more, got \(workers)") }
        guard requests >= 1 else { throw fail("requests must be 1 or more, got \(requests)") }
        guard keyCount >= 1 else { throw fail("key count must be 1 or more") }
        for (index, factor) in slow {
            guard weights.indices.contains(index) else {
                throw fail("slow backend \(index + 1) does not exist; backends are numbered 1 to \(weights.count)")
            }
            guard factor > 0 else { throw fail("slow factor for backend \(index + 1) must be above 0") }
        }
        if let rate = arrivalRate, !(rate > 0) { throw fail("arrival rate must be above 0 per second") }
        if arrivalRate == nil && clients < 1 { throw fail("clients must be 1 or more, got \(clients)") }
        if let failure {
            guard weights.indices.contains(failure.backend) else {
                throw fail("failing backend \(failure.backend + 1) does not exist; backends are numbered 1 to \(weights.count)")
            }
            guard (0...1).contains(failure.atFraction) else { throw fail("the failure point must be 0% to 100%") }
        }
        guard retries >= 0 else { throw fail("retries must be 0 or more") }
    }
}

/// What one simulated algorithm produced.
public struct SimulationResult: Sendable {
    public var algorithm: BalancingAlgorithm
    /// Latency percentiles of successful requests, including retries.
    public var p50: Duration
    public var p99: Duration
    public var p999: Duration
    /// Requests that failed after every retry.
    public var errors: Int
    /// Requests retried at least once.
    public var retried: Int
    /// Each backend's share of all attempts.
    public var shares: [Double]
    /// The most requests each backend held at once (queued or served).
    public var peakInFlight: [Int]
    /// Cluster events in order: DOWN, EJECTED and so on.
    public var events: [String]
}
