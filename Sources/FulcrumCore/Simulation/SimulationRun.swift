import FulcrumHashing

/// One simulation: the event loop behind ``Simulator/run(_:)``.
struct SimulationRun {
    private let configuration: SimulationConfiguration
    private let algorithm: BalancingAlgorithm
    private let clock = ManualClock()
    private let cluster: Cluster
    private var random: FastRandom
    private var agenda = EventQueue()

    private struct Request {
        var started: Instant
        var attemptStarted: Instant
        var key: Int
        var tried = TriedBackends()
        var attempts = 0
    }

    private var requests: [Request] = []
    private var queues: [[Int]]
    private var queueHeads: [Int]
    private var busy: [Int]
    private var held: [Int]
    private var peak: [Int]
    private var attempts: [Int]
    private var latencies: [Double] = []
    private var errors = 0
    private var retried = 0
    private var finished = 0
    private var failing = false
    private var log: [String] = []
    private let keys: [[UInt8]]

    init(_ configuration: SimulationConfiguration, algorithm: BalancingAlgorithm) throws(CoreError) {
        self.configuration = configuration
        self.algorithm = algorithm
        let backends = try configuration.weights.enumerated().map { i, weight throws(CoreError) in
            try Backend(
                id: "b\(i + 1)",
                address: BackendAddress(host: "127.0.0.1", port: 9001 + i),
                weight: weight
            )
        }
        cluster = try Cluster(name: "sim", backends: backends, settings: ClusterSettings(algorithm: algorithm), clock: clock)
        random = FastRandom(seed: configuration.seed)
        let n = backends.count
        queues = Array(repeating: [], count: n)
        queueHeads = Array(repeating: 0, count: n)
        busy = Array(repeating: 0, count: n)
        held = Array(repeating: 0, count: n)
        peak = Array(repeating: 0, count: n)
        attempts = Array(repeating: 0, count: n)
        keys = (0..<configuration.keyCount).map { Array("user-\($0)".utf8) }
        requests.reserveCapacity(configuration.requests)
        latencies.reserveCapacity(configuration.requests)
    }

    mutating func execute() -> SimulationResult {
        let start = clock.now
        if configuration.arrivalRate != nil {
            agenda.push(start, .arrival)
        } else {
            for client in 0..<min(configuration.clients, configuration.requests) {
                agenda.push(start + .microseconds(client), .arrival)
            }
        }
        agenda.push(start + configuration.checkInterval, .checks)
        while finished < configuration.requests, let (time, event) = agenda.pop() {
            if time > clock.now { clock.set(time) }
            switch event {
            case .arrival: arrive()
            case .finish(let backend, let request): finish(backend: backend, request: request)
            case .checks: runChecks()
            case .retry(let request): dispatch(request)
            }
        }
        return result()
    }

    private mutating func arrive() {
        guard requests.count < configuration.requests else { return }
        let id = requests.count
        requests.append(Request(started: clock.now, attemptStarted: clock.now, key: random.below(keys.count)))
        if let failure = configuration.failure, !failing,
            Double(requests.count) >= failure.atFraction * Double(configuration.requests)
        {
            failing = true
            log.append("b\(failure.backend + 1) starts failing at request \(requests.count)")
        }
        if let rate = configuration.arrivalRate, requests.count < configuration.requests {
            agenda.push(clock.now + exponential(mean: 1 / rate), .arrival)
        }
        dispatch(id)
    }

    private mutating func dispatch(_ id: Int) {
        var context = PickContext(random: random, now: clock.now)
        context.tried = requests[id].tried
        context.client = ClientAddress(ipv4: 0x0A00_0000 | UInt32(requests[id].key))
        let result = keys[requests[id].key].withUnsafeBytes { key in
            context.hashKey = key
            return cluster.pick(&context)
        }
        random = context.random
        guard let backend = result.index else {
            complete(id, success: false)
            return
        }
        requests[id].attempts += 1
        requests[id].attemptStarted = clock.now
        attempts[backend] += 1
        if failing && backend == configuration.failure?.backend {
            // Refused at once: the proxy retries elsewhere while it may.
            report(cluster.recordOutcome(.gatewayFailure(reason: "connect refused"), backend: backend))
            requests[id].tried.insert(backend)
            if requests[id].attempts <= configuration.retries {
                if requests[id].attempts == 1 { retried += 1 }
                agenda.push(clock.now + .microseconds(100), .retry(id))
            } else {
                complete(id, success: false)
            }
            return
        }
        cluster.backends[backend].load.start()
        held[backend] += 1
        peak[backend] = max(peak[backend], held[backend])
        if busy[backend] < configuration.workers {
            busy[backend] += 1
            agenda.push(clock.now + serviceTime(backend), .finish(backend: backend, request: id))
        } else {
            queues[backend].append(id)
        }
    }

    private mutating func finish(backend: Int, request id: Int) {
        let now = clock.now
        cluster.backends[backend].load.finish(latency: now.since(requests[id].attemptStarted), at: now)
        report(cluster.recordOutcome(.success, backend: backend))
        held[backend] -= 1
        if queueHeads[backend] < queues[backend].count {
            let next = queues[backend][queueHeads[backend]]
            queueHeads[backend] += 1
            agenda.push(now + serviceTime(backend), .finish(backend: backend, request: next))
            if queueHeads[backend] > 4096 {
                queues[backend].removeFirst(queueHeads[backend])
                queueHeads[backend] = 0
            }
        } else {
            busy[backend] -= 1
        }
        complete(id, success: true)
    }

    private mutating func complete(_ id: Int, success: Bool) {
        finished += 1
        if success {
            latencies.append(clock.now.since(requests[id].started).seconds)
        } else {
            errors += 1
        }
        if configuration.arrivalRate == nil && requests.count < configuration.requests {
            agenda.push(clock.now, .arrival)
        }
    }

    private mutating func runChecks() {
        for backend in cluster.backends.indices {
            let failed = failing && backend == configuration.failure?.backend
            report(cluster.recordCheck(failed ? .failure(reason: "connect refused") : .success(), backend: backend))
        }
        report(cluster.tick())
        agenda.push(clock.now + configuration.checkInterval, .checks)
    }

    private mutating func report(_ events: [ClusterEvent]) {
        let seconds = clock.now.since(Instant(nanoseconds: 1_000_000_000)).seconds
        for event in events {
            log.append("t=\(Int(seconds * 1000))ms \(event.backend ?? "cluster") \(event.kind.rawValue) (\(event.reason))")
        }
    }

    private mutating func serviceTime(_ backend: Int) -> Duration {
        let mean = configuration.serviceTime.seconds * (configuration.slow[backend] ?? 1)
        return .nanoseconds(Int64(exponential(mean: mean).seconds * 1e9))
    }

    /// An exponential sample with the given mean, in seconds.
    private mutating func exponential(mean: Double) -> Duration {
        let u = (Double(random.next() >> 11) + 0.5) * 0x1.0p-53
        return .nanoseconds(Int64(-mean * PortableMath.log(u) * 1e9))
    }

    private func result() -> SimulationResult {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Duration {
            guard !sorted.isEmpty else { return .zero }
            let index = min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)
            return .nanoseconds(Int64(sorted[max(0, index)] * 1e9))
        }
        let total = max(1, attempts.reduce(0, +))
        return SimulationResult(
            algorithm: algorithm,
            p50: percentile(0.50),
            p99: percentile(0.99),
            p999: percentile(0.999),
            errors: errors,
            retried: retried,
            shares: attempts.map { Double($0) / Double(total) },
            peakInFlight: peak,
            events: log
        )
    }
}

/// The simulation's agenda: events by time, then by insertion order, in a
/// binary heap.
struct EventQueue {
    enum Event {
        case arrival
        case finish(backend: Int, request: Int)
        case retry(Int)
        case checks
    }

    private var heap: [(time: Instant, sequence: Int, event: Event)] = []
    private var sequence = 0

    mutating func push(_ time: Instant, _ event: Event) {
        sequence += 1
        heap.append((time, sequence, event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Instant, Event)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count && Self.precedes(heap[left], heap[first]) { first = left }
            if right < heap.count && Self.precedes(heap[right], heap[first]) { first = right }
            guard first != parent else { break }
            heap.swapAt(parent, first)
            parent = first
        }
        return (top.time, top.event)
    }

    private static func precedes(
        _ a: (time: Instant, sequence: Int, event: Event),
        _ b: (time: Instant, sequence: Int, event: Event)
    ) -> Bool {
        a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }
}
