import Synchronization
import FulcrumCore
import Testing

@Suite("Cluster state: health, ejection, slow start, panic, drain, backups")
struct ClusterStateTests {
    @Test("Rise and fall counts move a backend out and back, with reasons")
    func riseFall() throws {
        let cluster = try Fixture.cluster([1, 1, 1], .roundRobin)
        #expect(cluster.recordCheck(.failure(reason: "HTTP 500"), backend: 1).isEmpty)
        #expect(cluster.recordCheck(.failure(reason: "HTTP 500"), backend: 1).isEmpty)
        let down = cluster.recordCheck(.failure(reason: "HTTP 500"), backend: 1)
        #expect(down.map(\.kind) == [.down])
        #expect(down.first?.description.contains("cluster=test backend=b DOWN") == true)
        #expect(down.first?.reason.contains("HTTP 500") == true)
        #expect(cluster.snapshot.states[1] == .down)
        #expect(!cluster.names(30).contains("b"))
        #expect(cluster.recordCheck(.success(), backend: 1).isEmpty)
        #expect(cluster.recordCheck(.success(), backend: 1).map(\.kind) == [.up])
        #expect(cluster.names(3).contains("b"))
    }

    @Test("A check's weight share thins a backend's traffic; 0% takes it out without marking it down")
    func healthWeight() throws {
        let cluster = try Fixture.cluster([1, 1], .weightedRoundRobin)
        let events = cluster.recordCheck(.success(detail: "application check: cache warn"), weightPercent: 25, backend: 1)
        #expect(events.map(\.description) == ["cluster=test backend=b WEIGHT (25% of its weight, application check: cache warn)"])
        #expect(cluster.snapshot.healthWeights == [1, 0.25])
        let counts = cluster.counts(10_000)
        #expect((1_700...2_300).contains(counts["b", default: 0]), "\(counts)")
        #expect(cluster.recordCheck(.success(), weightPercent: 25, backend: 1).isEmpty)
        cluster.recordCheck(.success(), weightPercent: 0, backend: 1)
        #expect(cluster.snapshot.states[1] == .up)
        #expect(!cluster.names(20).contains("b"))
        cluster.recordCheck(.success(), weightPercent: 100, backend: 1)
        #expect(cluster.names(20).contains("b"))
    }

    @Test("An agent's drain/maint/ready and an operator's state: the stricter applies, neither undoes the other")
    func agentAndOperator() throws {
        let cluster = try Fixture.cluster([1, 1], .roundRobin)
        #expect(cluster.setAgentAdminState(.draining, backend: 1).map(\.description) == ["cluster=test backend=b DRAINING (agent check)"])
        #expect(cluster.snapshot.states[1] == .draining)
        cluster.setAdminState(.maintenance, backend: 1)
        #expect(cluster.snapshot.states[1] == .maintenance)
        // The agent's ready ends only its own drain; the operator's maintenance stays.
        #expect(cluster.setAgentAdminState(.enabled, backend: 1).isEmpty)
        #expect(cluster.snapshot.states[1] == .maintenance)
        cluster.setAdminState(.enabled, backend: 1)
        #expect(cluster.snapshot.states[1] == .up)
        // An operator's enabled does not override an agent's maintenance.
        cluster.setAgentAdminState(.maintenance, backend: 1)
        cluster.setAdminState(.enabled, backend: 1)
        #expect(cluster.snapshot.states[1] == .maintenance)
    }

    @Test("A backend's own thresholds override the cluster's")
    func backendThresholds() throws {
        let cluster = try Fixture.cluster([1, 1, 1], .roundRobin) {
            $0.backendHealth["b"] = HealthThresholds(rise: 1, fall: 1, initial: .firstCheck)
        }
        #expect(cluster.snapshot.states == [.up, .down, .up])
        #expect(cluster.recordCheck(.success(), backend: 1).map(\.reason) == ["first check passed"])
        #expect(cluster.recordCheck(.failure(reason: "tcp check: connection refused"), backend: 1).map(\.description)
            == ["cluster=test backend=b DOWN (tcp check: connection refused, 1/1)"])
        #expect(cluster.health(of: 1) == (.down, 0))
        #expect(cluster.recordCheck(.failure(reason: "x"), backend: 0).isEmpty)
        #expect(cluster.health(of: 0) == (.up, 1))
    }

    @Test("Consecutive gateway failures eject; ejection ends after base × k, capped")
    func ejection() throws {
        let clock = ManualClock()
        let cluster = try Fixture.cluster([1, 1, 1, 1], .roundRobin, clock: clock)
        for _ in 0..<4 { #expect(cluster.recordOutcome(.gatewayFailure(reason: "connect refused"), backend: 0).isEmpty) }
        let events = cluster.recordOutcome(.gatewayFailure(reason: "connect refused"), backend: 0)
        #expect(events.map(\.kind) == [.ejected])
        #expect(!cluster.names(20).contains("a"))
        clock.advance(by: .seconds(29))
        #expect(cluster.tick().isEmpty)
        clock.advance(by: .seconds(1))
        #expect(cluster.tick().map(\.kind) == [.returned])
        #expect(cluster.names(4).contains("a"))
        // The second ejection lasts twice as long.
        for _ in 0..<5 { cluster.recordOutcome(.gatewayFailure(reason: "reset"), backend: 0) }
        clock.advance(by: .seconds(59))
        #expect(cluster.tick().isEmpty)
        clock.advance(by: .seconds(1))
        #expect(cluster.tick().map(\.kind) == [.returned])
    }

    @Test("A passing active check ends a passive ejection, as Envoy does by default")
    func checkUnejects() throws {
        let cluster = try Fixture.cluster([1, 1, 1, 1], .roundRobin)
        for _ in 0..<5 { cluster.recordOutcome(.gatewayFailure(reason: "reset"), backend: 2) }
        #expect(!cluster.names(8).contains("c"))
        let events = cluster.recordCheck(.success(), backend: 2)
        #expect(events.map(\.kind) == [.returned])
        #expect(cluster.snapshot.states[2] == .up)
        #expect(cluster.names(4).contains("c"))
        // A dead backend that was also ejected returns only when checks bring it up.
        for _ in 0..<5 { cluster.recordOutcome(.gatewayFailure(reason: "refused"), backend: 1) }
        cluster.markDown(1)
        #expect(cluster.recordCheck(.success(), backend: 1).isEmpty)
        #expect(Set(cluster.recordCheck(.success(), backend: 1).map(\.kind)) == [.returned, .up])
        #expect(cluster.snapshot.states[1] == .up)
    }

    @Test("At most half the cluster is ejected")
    func maxEjection() throws {
        let cluster = try Fixture.cluster([1, 1, 1, 1], .roundRobin)
        for backend in 0..<4 {
            for _ in 0..<5 { cluster.recordOutcome(.gatewayFailure(reason: "timeout"), backend: backend) }
        }
        let ejected = cluster.snapshot.states.filter { if case .ejected = $0 { true } else { false } }
        #expect(ejected.count == 2)
    }

    @Test("Slow start ramps a returning backend's share with Envoy's formula")
    func slowStart() throws {
        let clock = ManualClock()
        let cluster = try Fixture.cluster([1, 1], .roundRobin, clock: clock) {
            $0.slowStart = SlowStartSettings(window: .seconds(60), aggression: 1, minWeightPercent: 10)
        }
        cluster.markDown(1)
        cluster.markUp(1)
        #expect(cluster.snapshot.states[1] == .slowStart(factor: 0.1))
        func share() -> Double { Double(cluster.counts(20_000)["b", default: 0]) / 20_000 }
        let early = share()
        clock.advance(by: .seconds(30))
        cluster.tick()
        #expect(cluster.snapshot.states[1] == .slowStart(factor: 0.5))
        let middle = share()
        clock.advance(by: .seconds(30))
        #expect(cluster.tick().map(\.kind) == [.slowStartEnded])
        #expect(cluster.snapshot.states[1] == .up)
        let late = share()
        // Round robin with thinning: b takes f of its turns.
        #expect(abs(early - 0.1 / 1.1) < 0.02, "early share \(early)")
        #expect(abs(middle - 0.5 / 1.5) < 0.02, "middle share \(middle)")
        #expect(abs(late - 0.5) < 0.01, "late share \(late)")
    }

    @Test("Slow start ramps a hashed backend's keys too", arguments: [0.0, 1.25])
    func slowStartHash(_ bound: Double) throws {
        let clock = ManualClock()
        let cluster = try Fixture.cluster([1, 1, 1, 1], .hash(method: .ring, bound: bound == 0 ? nil : bound), clock: clock) {
            $0.slowStart = SlowStartSettings(window: .seconds(100), aggression: 1, minWeightPercent: 10)
        }
        func keysOnD() throws -> Int {
            var count = 0
            for k in 0..<4_000 {
                var context = Fixture.context(seed: UInt64(k))
                try Array("key-\(k)".utf8).withUnsafeBytes { key in
                    context.hashKey = key
                    if try #require(cluster.pick(&context).index) == 3 { count += 1 }
                }
            }
            return count
        }
        let full = try keysOnD()
        cluster.markDown(3)
        cluster.markUp(3)
        let ramping = try keysOnD()
        clock.advance(by: .seconds(50))
        cluster.tick()
        let half = try keysOnD()
        #expect(ramping < full / 4, "at 10%: \(ramping) of \(full)")
        #expect(half > ramping && half < full, "at 50%: \(half) of \(full)")
    }

    @Test("Panic: below the threshold, picks go to every primary")
    func panic() throws {
        let cluster = try Fixture.cluster([1, 1, 1, 1], .roundRobin)
        cluster.markDown(0)
        #expect(cluster.snapshot.mode == .normal)
        let events = cluster.markDownReturningEvents(1) + cluster.markDownReturningEvents(2)
        #expect(events.contains { $0.kind == .panicStarted })
        #expect(cluster.snapshot.mode == .panic)
        #expect(Set(cluster.names(8)) == ["a", "b", "c", "d"])
        cluster.markUp(1)
        #expect(cluster.snapshot.mode == .normal)
        #expect(Set(cluster.names(8)) == ["b", "d"])
    }

    @Test("With panic off, all down means unavailable at once")
    func allDown() throws {
        let cluster = try Fixture.cluster([1, 1], .roundRobin) { $0.panicThresholdPercent = 0 }
        cluster.markDown(0)
        cluster.markDown(1)
        var context = Fixture.context()
        #expect(cluster.pick(&context) == .unavailable(.noneAvailable))
        cluster.markUp(0)
        #expect(cluster.pick(&context) == .backend(0))
    }

    @Test("Draining: no new picks, except pinned requests when allowed")
    func drain() throws {
        for allow in [false, true] {
            let cluster = try Fixture.cluster([1, 1, 1], .roundRobin) { $0.allowStickyToDraining = allow }
            #expect(cluster.setAdminState(.draining, backend: 1).map(\.kind) == [.draining])
            #expect(!cluster.names(30).contains("b"))
            var context = Fixture.context()
            context.pinned = 1
            #expect((cluster.pick(&context) == .backend(1)) == allow)
            cluster.setAdminState(.enabled, backend: 1)
            #expect(cluster.names(3).contains("b"))
        }
    }

    @Test("Backups serve only when no primary can")
    func backups() throws {
        let cluster = try Fixture.cluster([1, 1, 1], .roundRobin, backups: [2]) { $0.panicThresholdPercent = 0 }
        #expect(!cluster.names(30).contains("c"))
        cluster.markDown(0)
        #expect(Set(cluster.names(10)) == ["b"])
        let events = cluster.markDownReturningEvents(1)
        #expect(events.contains { $0.kind == .backupsActive })
        #expect(Set(cluster.names(10)) == ["c"])
        cluster.markUp(0)
        #expect(Set(cluster.names(10)) == ["a"])
    }

    @Test("A weight-0 backend takes only pinned traffic")
    func weightZero() throws {
        let cluster = try Fixture.cluster([1, 0], .roundRobin)
        #expect(!cluster.names(20).contains("b"))
        var context = Fixture.context()
        context.pinned = 1
        #expect(cluster.pick(&context) == .backend(1))
    }

    @Test("Bad settings are refused with a clear message")
    func badSettings() {
        let error = #expect(throws: CoreError.self) {
            try Fixture.cluster([1], .roundRobin) { $0.panicThresholdPercent = 150 }
        }
        #expect(error?.message.contains("150") == true)
        #expect(throws: CoreError.self) {
            try Cluster(name: "t", backends: Fixture.backends([1]) + Fixture.backends([1]), clock: ManualClock())
        }
        #expect(throws: CoreError.self) {
            try Backend(address: BackendAddress(host: "127.0.0.1", port: 1), weight: 257)
        }
    }
}

extension Cluster {
    func markDownReturningEvents(_ index: Int) -> [ClusterEvent] {
        (0..<settings.fall).flatMap { _ in recordCheck(.failure(reason: "test"), backend: index) }
    }
}

@Suite("Snapshot readers")
struct SnapshotReaderTests {
    @Test("A reader rotates on its own and sees a new snapshot as soon as one is published")
    func readerFollowsPublication() throws {
        let cluster = try Fixture.cluster([1, 1, 1], .roundRobin)
        var first = SnapshotReader(cluster, seed: 0)
        var second = SnapshotReader(cluster, seed: 1)
        var context = Fixture.context()
        func names(_ reader: inout SnapshotReader, _ count: Int) -> String {
            (0..<count).map { _ in cluster.backends[reader.pick(&context).index!].id }.joined()
        }
        #expect(names(&first, 6) == "abcabc")
        #expect(names(&second, 3) == "bca")
        let before = first.current().generation
        cluster.markDown(1)
        #expect(first.current().generation > before)
        #expect(names(&first, 4) == "acac")
        // The shared counter was not touched by the readers.
        #expect(cluster.names(2).joined() == "ac")
    }
}

@Suite("Cluster event observers")
struct ClusterEventObserverTests {
    @Test("An observer sees every event a change reports, after the change")
    func observed() throws {
        let cluster = try Cluster(
            name: "api",
            backends: [try Backend(id: "b1", address: BackendAddress(host: "127.0.0.1", port: 9001))],
            settings: ClusterSettings(algorithm: .roundRobin)
        )
        let seen = Mutex<[String]>([])
        cluster.addEventObserver { event in seen.withLock { $0.append(event.description) } }
        let events = cluster.setAdminState(.draining, backend: 0)
        #expect(!events.isEmpty)
        #expect(seen.withLock { $0 } == events.map(\.description))
    }
}
