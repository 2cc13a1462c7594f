import FulcrumCore
import Testing

@Suite("Simulator")
struct SimulatorTests {
    static func configuration(slow: [Int: Double] = [:]) -> SimulationConfiguration {
        var configuration = SimulationConfiguration()
        configuration.weights = [1, 1, 1, 1, 1]
        configuration.slow = slow
        configuration.arrivalRate = 1_000
        configuration.requests = 20_000
        return configuration
    }

    @Test("With one backend 10× slower, load-aware algorithms beat round robin on p99 by far")
    func slowBackend() throws {
        let simulator = Simulator(Self.configuration(slow: [0: 10]))
        let roundRobin = try simulator.run(.roundRobin)
        let leastResponseTime = try simulator.run(.leastResponseTimeDefault)
        let powerOfTwo = try simulator.run(.powerOfTwo)
        #expect(leastResponseTime.p99 * 5 < roundRobin.p99, "LRT \(leastResponseTime.p99) vs RR \(roundRobin.p99)")
        #expect(powerOfTwo.p99 * 5 < roundRobin.p99, "P2C \(powerOfTwo.p99) vs RR \(roundRobin.p99)")
        #expect(leastResponseTime.shares[0] < 0.08)
        #expect(roundRobin.shares[0] > 0.19)
    }

    @Test("With uniform backends, every algorithm is close")
    func uniform() throws {
        let simulator = Simulator(Self.configuration())
        let results = try [BalancingAlgorithm.roundRobin, .leastConnections, .leastResponseTimeDefault, .powerOfTwo, .random]
            .map { try simulator.run($0) }
        let p99s = results.map(\.p99)
        #expect(p99s.max()! < p99s.min()! * 13 / 10, "p99s \(p99s)")
        for result in results {
            #expect(result.shares.allSatisfy { abs($0 - 0.2) < 0.03 }, "\(result.algorithm): \(result.shares)")
        }
    }

    @Test("A backend failing midway is ejected and its requests are retried elsewhere")
    func failure() throws {
        var configuration = Self.configuration()
        configuration.failure = (backend: 1, atFraction: 0.3)
        let result = try Simulator(configuration).run(.roundRobin)
        #expect(result.errors == 0)
        #expect(result.retried > 0)
        #expect(result.events.contains { $0.contains("b2 EJECTED") })
        var noRetries = configuration
        noRetries.retries = 0
        let failing = try Simulator(noRetries).run(.roundRobin)
        #expect(failing.errors > 0)
    }

    @Test("Runs are reproducible")
    func reproducible() throws {
        let simulator = Simulator(Self.configuration(slow: [2: 3]))
        let a = try simulator.run(.powerOfTwo)
        let b = try simulator.run(.powerOfTwo)
        #expect(a.p99 == b.p99 && a.shares == b.shares && a.peakInFlight == b.peakInFlight)
    }

    @Test("Peak EWMA moves load off a slowed backend within 100 requests and back after it recovers")
    func peakEWMAShiftsAndRecovers() throws {
        let clock = ManualClock()
        let cluster = try Fixture.cluster([1, 1, 1], .leastResponseTimeDefault, clock: clock)
        var context = Fixture.context(seed: 9, clock: clock)
        // Requests overlap: each stays in flight for the next eight picks, so
        // in-flight counts vary as they do under real traffic.
        var outstanding: [(backend: Int, latency: Duration)] = []
        func serve(_ count: Int, every gap: Duration, latency: (Int) -> Duration) throws -> [Int] {
            var picks: [Int] = []
            for _ in 0..<count {
                clock.advance(by: gap)
                context.now = clock.now
                context.tried = TriedBackends()
                let i = try #require(cluster.pick(&context).index)
                cluster.backends[i].load.start()
                outstanding.append((i, latency(i)))
                if outstanding.count > 8 {
                    let done = outstanding.removeFirst()
                    cluster.backends[done.backend].load.finish(latency: done.latency, at: clock.now)
                }
                picks.append(i)
            }
            return picks
        }
        _ = try serve(300, every: .milliseconds(1)) { _ in .milliseconds(10) }
        // Backend 0 slows to 200 ms: within 100 requests it gets almost none.
        let slowed = try serve(100, every: .milliseconds(1)) { $0 == 0 ? .milliseconds(200) : .milliseconds(10) }
        let slowPicks = slowed.suffix(50).filter { $0 == 0 }.count
        #expect(slowPicks <= 3, "the slow backend took \(slowPicks) of the last 50 picks")
        // It recovers. Exploration keeps sampling it, and its average falls
        // back with time constant τ (10 s): a few τ later it has its share.
        let recovered = try serve(1_200, every: .milliseconds(50)) { _ in .milliseconds(10) }
        let share = recovered.suffix(300).filter { $0 == 0 }.count
        #expect(share > 60, "the recovered backend took \(share) of the last 300 picks")
    }
}
