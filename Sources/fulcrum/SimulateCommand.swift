import ArgumentParser
import FulcrumCore
import FulcrumHashing

/// `fulcrum simulate`: choose an algorithm before production does it for you.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a cluster under load with each balancing algorithm and compare latency, shares and errors.",
        discussion: """
            Each backend serves with --workers workers and exponential service times (mean --service-ms); \
            requests arrive as a Poisson stream (--rate) or from --clients closed-loop clients. \
            --slow 1x10 makes backend 1 ten times slower; --fail 2@30% makes backend 2 refuse connections \
            from 30% of the run on (failed attempts are retried on another backend, up to --retries). \
            Backends are numbered from 1. Results are reproducible for a given --seed.
            """
    )

    @Option(help: "Algorithm: \(BalancingAlgorithm.acceptedNames), or all.")
    var algorithm = "all"

    @Option(help: "Number of backends (all of weight 1), unless --weights is given.")
    var backends = 5

    @Option(help: "Comma-separated backend weights, e.g. 1,1,2; sets the backend count.")
    var weights: String?

    @Option(name: .customLong("service-ms"), help: "Mean service time of a normal backend, in milliseconds.")
    var serviceMilliseconds = 10.0

    @Option(help: "Requests each backend serves at once; the rest queue.")
    var workers = 4

    @Option(help: "Slow backends as INDEXxFACTOR, e.g. 1x10; repeatable.")
    var slow: [String] = []

    @Option(help: "Open-loop arrival rate, requests per second.")
    var rate: Double?

    @Option(help: "Closed-loop clients (used when --rate is not given).")
    var clients = 50

    @Option(help: "Requests to simulate.")
    var requests = 100_000

    @Option(help: "A backend that fails part-way, as INDEX@PERCENT, e.g. 1@30%.")
    var fail: String?

    @Option(help: "Retries on another backend after a failed attempt.")
    var retries = 2

    @Option(help: "Hash method for --algorithm hash: \(HashAlgorithm.acceptedNames).")
    var hashMethod = "ring"

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        var configuration = SimulationConfiguration()
        configuration.weights = try parseWeights()
        configuration.serviceTime = .nanoseconds(Int64(serviceMilliseconds * 1_000_000))
        guard serviceMilliseconds > 0 else { throw UsageError("--service-ms \(serviceMilliseconds) must be above 0") }
        configuration.workers = workers
        for spec in slow {
            let (index, factor) = try parseSlow(spec, backends: configuration.weights.count)
            configuration.slow[index] = factor
        }
        configuration.arrivalRate = rate
        configuration.clients = clients
        configuration.requests = requests
        configuration.retries = retries
        configuration.seed = seed
        if let fail { configuration.failure = try parseFailure(fail, backends: configuration.weights.count) }

        let algorithms = try parseAlgorithms()
        let simulator = Simulator(configuration)
        var results: [SimulationResult] = []
        for algorithm in algorithms {
            do {
                results.append(try simulator.run(algorithm))
            } catch {
                throw UsageError(error.message)
            }
        }
        var output = OutputBuffer()
        output.append(json ? Self.json(results) : Self.table(results, configuration))
        output.flush()
    }

    private func parseWeights() throws -> [Int] {
        guard let weights else {
            guard backends >= 1 else { throw UsageError("--backends \(backends) must be 1 or more") }
            return Array(repeating: 1, count: backends)
        }
        return try weights.split(separator: ",").map { text in
            guard let weight = Int(text), (1...Backend.maxWeight).contains(weight) else {
                throw UsageError("--weights '\(weights)': '\(text)' is not a weight; use whole numbers from 1 to \(Backend.maxWeight)")
            }
            return weight
        }
    }

    private func parseSlow(_ spec: String, backends: Int) throws -> (Int, Double) {
        let parts = spec.split(separator: "x", maxSplits: 1)
        guard parts.count == 2, let index = Int(parts[0]), (1...backends).contains(index),
            let factor = Double(parts[1]), factor > 0
        else {
            throw UsageError("--slow '\(spec)': write INDEXxFACTOR with INDEX 1 to \(backends) and FACTOR above 0, e.g. 1x10")
        }
        return (index - 1, factor)
    }

    private func parseFailure(_ spec: String, backends: Int) throws -> (backend: Int, atFraction: Double) {
        let parts = spec.split(separator: "@", maxSplits: 1)
        let percentText = parts.count == 2 ? String(parts[1].hasSuffix("%") ? parts[1].dropLast() : parts[1]) : ""
        guard parts.count == 2, let index = Int(parts[0]), (1...backends).contains(index),
            let percent = Double(percentText), (0...100).contains(percent)
        else {
            throw UsageError("--fail '\(spec)': write INDEX@PERCENT with INDEX 1 to \(backends) and PERCENT 0 to 100, e.g. 1@30%")
        }
        return (index - 1, percent / 100)
    }

    private func parseAlgorithms() throws -> [BalancingAlgorithm] {
        guard let method = HashAlgorithm(rawValue: hashMethod) else {
            throw UsageError("--hash-method '\(hashMethod)' is unknown; accepted: \(HashAlgorithm.acceptedNames)")
        }
        func resolve(_ name: String) throws -> BalancingAlgorithm {
            guard let algorithm = BalancingAlgorithm(name: name) else {
                throw UsageError("unknown algorithm '\(name)'; accepted: \(BalancingAlgorithm.acceptedNames), all")
            }
            if case .hash = algorithm { return .hash(method: method, bound: nil) }
            return algorithm
        }
        guard algorithm == "all" else { return [try resolve(algorithm)] }
        return try [
            "round-robin", "weighted-round-robin", "least-connections", "least-response-time", "random",
            "power-of-two", "ip-hash", "hash",
        ].map(resolve)
    }

    private static func milliseconds(_ duration: Duration) -> String {
        Report.fixed(duration.seconds * 1000, 1) + "ms"
    }

    static func table(_ results: [SimulationResult], _ configuration: SimulationConfiguration) -> String {
        var lines: [String] = []
        let load = configuration.arrivalRate.map { "\(Int($0)) req/s" } ?? "\(configuration.clients) clients"
        lines.append(
            "\(configuration.weights.count) backends × \(configuration.workers) workers, "
                + "mean service \(milliseconds(configuration.serviceTime)), \(load), \(configuration.requests) requests"
        )
        let header = ["algorithm", "p50", "p99", "p999", "errors", "shares", "peak in flight"]
        var rows = [header]
        for result in results {
            rows.append([
                result.algorithm.name,
                milliseconds(result.p50),
                milliseconds(result.p99),
                milliseconds(result.p999),
                String(result.errors),
                result.shares.map { Report.fixed($0 * 100, 0) + "%" }.joined(separator: " "),
                result.peakInFlight.map(String.init).joined(separator: " "),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            lines.append(
                row.enumerated().map { column, cell in
                    let padding = String(repeating: " ", count: widths[column] - cell.count)
                    return column == 0 || column >= 5 ? cell + padding : padding + cell
                }.joined(separator: "  ")
            )
        }
        for result in results where !result.events.isEmpty {
            lines.append("")
            lines.append("\(result.algorithm.name) events:")
            lines += result.events.prefix(12).map { "  " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ results: [SimulationResult]) -> String {
        let items = results.map { result in
            JSON.object([
                ("algorithm", JSON.string(result.algorithm.name)),
                ("p50_ms", JSON.number(result.p50.seconds * 1000)),
                ("p99_ms", JSON.number(result.p99.seconds * 1000)),
                ("p999_ms", JSON.number(result.p999.seconds * 1000)),
                ("errors", String(result.errors)),
                ("retried", String(result.retried)),
                ("shares", "[" + result.shares.map(JSON.number).joined(separator: ",") + "]"),
                ("peak_in_flight", "[" + result.peakInFlight.map(String.init).joined(separator: ",") + "]"),
                ("events", "[" + result.events.map(JSON.string).joined(separator: ",") + "]"),
            ])
        }
        return JSON.object([("results", "[" + items.joined(separator: ",") + "]")]) + "\n"
    }
}
