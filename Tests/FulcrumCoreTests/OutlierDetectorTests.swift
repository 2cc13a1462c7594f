import FulcrumCore
import Testing

@Suite("Outlier detector (Envoy consecutive gateway failures)")
struct OutlierDetectorTests {
    static let start = Instant(nanoseconds: 1_000_000_000)
    static let failure = PassiveOutcome.gatewayFailure(reason: "HTTP 503")

    /// Feeds `count` gateway failures to `backend` and returns the last result.
    @discardableResult
    static func fail(
        _ detector: inout OutlierDetector,
        _ backend: Int,
        times count: Int,
        at now: Instant,
        reason: String = "HTTP 503"
    ) -> Ejection? {
        var last: Ejection?
        for _ in 0..<count {
            last = detector.record(.gatewayFailure(reason: reason), backend: backend, at: now)
        }
        return last
    }

    @Test("the defaults are Envoy's and valid")
    func defaults() throws {
        let settings = OutlierDetectionSettings.defaults
        #expect(settings.consecutiveGatewayFailures == 5)
        #expect(settings.baseEjectionTime == .seconds(30))
        #expect(settings.maxEjectionTime == .seconds(300))
        #expect(settings.maxEjectionPercent == 50)
        try settings.validate()
    }

    @Test("a backend is ejected on exactly the N-th failure in a row, not the (N−1)-th", arguments: [1, 2, 3, 5, 10])
    func ejectsAfterExactlyN(threshold: Int) {
        var detector = OutlierDetector(
            settings: .init(consecutiveGatewayFailures: threshold),
            backendCount: 3
        )
        #expect(Self.fail(&detector, 1, times: threshold - 1, at: Self.start) == nil)
        #expect(!detector.isEjected(1, at: Self.start))
        let ejection = detector.record(Self.failure, backend: 1, at: Self.start)
        #expect(ejection?.backend == 1)
        #expect(ejection?.count == 1)
        #expect(ejection?.until == Self.start + .seconds(30))
        #expect(detector.isEjected(1, at: Self.start))
        #expect(detector.ejectedCount == 1)
        #expect(!detector.isEjected(0, at: Self.start) && !detector.isEjected(2, at: Self.start))
    }

    @Test("a success resets the consecutive count")
    func successResets() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 2)
        for _ in 0..<10 {
            #expect(Self.fail(&detector, 0, times: 4, at: Self.start) == nil)
            #expect(detector.record(.success, backend: 0, at: Self.start) == nil)
        }
        #expect(detector.ejectedCount == 0)
        #expect(Self.fail(&detector, 0, times: 5, at: Self.start) != nil)
    }

    @Test("failures on other backends do not count toward this one")
    func perBackendCounts() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 2)
        for _ in 0..<4 {
            #expect(detector.record(Self.failure, backend: 0, at: Self.start) == nil)
            #expect(detector.record(Self.failure, backend: 1, at: Self.start) == nil)
        }
        #expect(detector.record(Self.failure, backend: 0, at: Self.start)?.backend == 0)
    }

    @Test("the reason names the count and the last failure")
    func reason() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 1)
        Self.fail(&detector, 0, times: 4, at: Self.start, reason: "connect refused")
        let ejection = detector.record(.gatewayFailure(reason: "HTTP 502"), backend: 0, at: Self.start)
        #expect(ejection?.reason == "5 consecutive gateway failures, last: HTTP 502")

        var single = OutlierDetector(settings: .init(consecutiveGatewayFailures: 1), backendCount: 1)
        let one = single.record(.gatewayFailure(reason: "reset before response"), backend: 0, at: Self.start)
        #expect(one?.reason == "1 consecutive gateway failure, last: reset before response")
    }

    @Test("consecutiveGatewayFailures 0 disables ejection")
    func zeroDisables() {
        var detector = OutlierDetector(settings: .init(consecutiveGatewayFailures: 0), backendCount: 2)
        #expect(!detector.settings.isEnabled)
        #expect(Self.fail(&detector, 0, times: 10_000, at: Self.start) == nil)
        #expect(detector.ejectedCount == 0)
        #expect(detector.ejectionCount(0) == 0)
    }

    @Test("ejection time is base × k: 30 s, 60 s, 90 s … capped at 300 s")
    func ejectionTimeGrows() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 1)
        var now = Self.start
        var durations: [Int64] = []
        for _ in 0..<13 {
            guard let ejection = Self.fail(&detector, 0, times: 5, at: now) else {
                Issue.record("no ejection")
                return
            }
            durations.append(ejection.until.since(now).nanoseconds / 1_000_000_000)
            now = ejection.until
            #expect(detector.expire(at: now) == [0])
        }
        #expect(durations == [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300, 300])
        // k stops at the first multiple that reaches the cap, as Envoy's backoff does.
        #expect(detector.ejectionCount(0) == 10)
        #expect(detector.totalEjections(0) == 13)
    }

    @Test("a maximum shorter than the base ejects for the base, as in Envoy")
    func maxShorterThanBase() {
        var detector = OutlierDetector(
            settings: .init(baseEjectionTime: .seconds(60), maxEjectionTime: .seconds(10)),
            backendCount: 1
        )
        let first = Self.fail(&detector, 0, times: 5, at: Self.start)
        #expect(first?.until == Self.start + .seconds(60))
        _ = detector.expire(at: Self.start + .seconds(60))
        let second = Self.fail(&detector, 0, times: 5, at: Self.start + .seconds(60))
        #expect(second?.until == Self.start + .seconds(120))
        #expect(second?.count == 1)
    }

    @Test("an ejection ends at exactly its until, not a nanosecond before")
    func expiryAtExactlyUntil() {
        let clock = ManualClock(Self.start)
        var detector = OutlierDetector(settings: .defaults, backendCount: 2)
        let ejection = Self.fail(&detector, 1, times: 5, at: clock.now)
        #expect(detector.ejectedUntil(1) == ejection?.until)
        clock.advance(by: .seconds(30) - .nanoseconds(1))
        #expect(detector.expire(at: clock.now) == [])
        #expect(detector.isEjected(1, at: clock.now))
        #expect(detector.ejectedCount == 1)
        clock.advance(by: .nanoseconds(1))
        #expect(clock.now == ejection?.until)
        #expect(!detector.isEjected(1, at: clock.now))
        #expect(detector.expire(at: clock.now) == [1])
        #expect(detector.ejectedCount == 0)
        #expect(detector.ejectedUntil(1) == nil)
        #expect(detector.expire(at: clock.now) == [])
    }

    @Test("expire returns every due backend, in order, and leaves the others")
    func expireSeveral() {
        var detector = OutlierDetector(settings: .init(maxEjectionPercent: 100), backendCount: 4)
        Self.fail(&detector, 3, times: 5, at: Self.start)
        Self.fail(&detector, 0, times: 5, at: Self.start + .seconds(1))
        Self.fail(&detector, 2, times: 5, at: Self.start + .seconds(5))
        #expect(detector.ejectedCount == 3)
        #expect(detector.expire(at: Self.start + .seconds(31)) == [0, 3])
        #expect(detector.ejectedCount == 1)
        #expect(detector.isEjected(2, at: Self.start + .seconds(31)))
    }

    @Test("outcomes for an ejected backend are ignored, and it starts afresh on return")
    func ejectedIgnoresOutcomes() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 2)
        Self.fail(&detector, 0, times: 5, at: Self.start)
        #expect(Self.fail(&detector, 0, times: 20, at: Self.start + .seconds(1)) == nil)
        // Even after `until`, until expire(at:) has returned it.
        #expect(Self.fail(&detector, 0, times: 20, at: Self.start + .seconds(40)) == nil)
        #expect(detector.ejectionCount(0) == 1)
        #expect(detector.expire(at: Self.start + .seconds(40)) == [0])
        #expect(Self.fail(&detector, 0, times: 4, at: Self.start + .seconds(40)) == nil)
        #expect(Self.fail(&detector, 0, times: 1, at: Self.start + .seconds(40))?.count == 2)
    }

    @Test("with 4 backends at 50%, two may be ejected and the third is refused")
    func maxEjectionPercent() {
        var detector = OutlierDetector(settings: .init(maxEjectionPercent: 50), backendCount: 4)
        #expect(Self.fail(&detector, 0, times: 5, at: Self.start) != nil)
        #expect(Self.fail(&detector, 1, times: 5, at: Self.start) != nil)
        #expect(Self.fail(&detector, 2, times: 5, at: Self.start) == nil)
        #expect(detector.ejectedCount == 2)
        #expect(detector.refusedEjections == 1)
        #expect(!detector.isEjected(2, at: Self.start))
        // As in Envoy, reaching the threshold reset the count: once there is
        // room, backend 2 needs a fresh run of five.
        #expect(detector.expire(at: Self.start + .seconds(30)) == [0, 1])
        #expect(Self.fail(&detector, 2, times: 4, at: Self.start + .seconds(30)) == nil)
        #expect(Self.fail(&detector, 2, times: 1, at: Self.start + .seconds(30))?.backend == 2)
    }

    @Test("one backend may always be ejected, however small the percentage", arguments: [0, 10])
    func atLeastOne(percent: Int) {
        var detector = OutlierDetector(settings: .init(maxEjectionPercent: percent), backendCount: 2)
        #expect(Self.fail(&detector, 0, times: 5, at: Self.start)?.backend == 0)
        #expect(Self.fail(&detector, 1, times: 5, at: Self.start) == nil)
        #expect(detector.ejectedCount == 1)
        #expect(detector.refusedEjections == 1)
        // Once the first returns, the other may go.
        _ = detector.expire(at: Self.start + .seconds(30))
        #expect(Self.fail(&detector, 1, times: 5, at: Self.start + .seconds(30))?.backend == 1)
    }

    @Test("k decays by one after base × k in service, once per period")
    func multiplierDecay() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 1)
        // Two ejections: k = 2, the second lasting 60 s.
        var now = Self.start
        now = Self.fail(&detector, 0, times: 5, at: now)!.until
        _ = detector.expire(at: now)
        let second = Self.fail(&detector, 0, times: 5, at: now)!
        #expect(second.count == 2)
        #expect(second.until.since(now) == .seconds(60))
        let returned = second.until
        #expect(detector.expire(at: returned) == [0])

        // k = 2: the first decrement comes 60 s after the return.
        #expect(detector.expire(at: returned + (.seconds(60) - .nanoseconds(1))) == [])
        #expect(detector.ejectionCount(0) == 2)
        _ = detector.expire(at: returned + .seconds(60))
        #expect(detector.ejectionCount(0) == 1)
        // At most once per period: the next needs a further 30 s (base × 1).
        _ = detector.expire(at: returned + .seconds(60))
        _ = detector.expire(at: returned + .seconds(89))
        #expect(detector.ejectionCount(0) == 1)
        _ = detector.expire(at: returned + .seconds(90))
        #expect(detector.ejectionCount(0) == 0)
        _ = detector.expire(at: returned + .seconds(10_000))
        #expect(detector.ejectionCount(0) == 0)
        #expect(detector.totalEjections(0) == 2)

        // Fully decayed: the next ejection is a first one again.
        let third = Self.fail(&detector, 0, times: 5, at: returned + .seconds(10_000))
        #expect(third?.count == 1)
        #expect(third?.until == returned + .seconds(10_030))
    }

    @Test("a late expire catches up on every decay period that has passed")
    func decayCatchUp() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 1)
        var now = Self.start
        for _ in 0..<3 {
            now = Self.fail(&detector, 0, times: 5, at: now)!.until
            _ = detector.expire(at: now)
        }
        #expect(detector.ejectionCount(0) == 3)
        // Periods of 90 s, 60 s, 30 s: after 150 s two have passed.
        _ = detector.expire(at: now + .seconds(150))
        #expect(detector.ejectionCount(0) == 1)
        #expect(Self.fail(&detector, 0, times: 5, at: now + .seconds(150))?.until == now + .seconds(150 + 60))
    }

    @Test("a new ejection restarts the decay and no decay runs while ejected")
    func decayRestartsOnEjection() {
        var detector = OutlierDetector(settings: .defaults, backendCount: 1)
        let first = Self.fail(&detector, 0, times: 5, at: Self.start)!
        _ = detector.expire(at: first.until)
        // 29 s into the 30 s period, ejected again: k = 2, 60 s.
        let second = Self.fail(&detector, 0, times: 5, at: first.until + .seconds(29))!
        #expect(second.count == 2)
        _ = detector.expire(at: second.until + .nanoseconds(-1))
        #expect(detector.ejectionCount(0) == 2)
        _ = detector.expire(at: second.until)
        _ = detector.expire(at: second.until + .seconds(59))
        #expect(detector.ejectionCount(0) == 2)
        _ = detector.expire(at: second.until + .seconds(60))
        #expect(detector.ejectionCount(0) == 1)
    }

    @Test(
        "out-of-range settings are rejected, naming the field and value",
        arguments: [
            (OutlierDetectionSettings(consecutiveGatewayFailures: -1), "consecutiveGatewayFailures is -1"),
            (OutlierDetectionSettings(baseEjectionTime: .zero), "baseEjectionTime is"),
            (OutlierDetectionSettings(baseEjectionTime: .seconds(-3)), "baseEjectionTime is"),
            (OutlierDetectionSettings(maxEjectionTime: .zero), "maxEjectionTime is"),
            (OutlierDetectionSettings(maxEjectionPercent: -1), "maxEjectionPercent is -1"),
            (OutlierDetectionSettings(maxEjectionPercent: 101), "maxEjectionPercent is 101"),
        ]
    )
    func invalidSettings(settings: OutlierDetectionSettings, fragment: String) {
        do {
            try settings.validate()
            Issue.record("\(settings) was accepted")
        } catch {
            #expect(error.code == .invalidSetting)
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.message.contains("must"), "\(error.message)")
        }
    }

    @Test("boundary settings are accepted", arguments: [
        OutlierDetectionSettings(consecutiveGatewayFailures: 0),
        OutlierDetectionSettings(maxEjectionPercent: 0),
        OutlierDetectionSettings(maxEjectionPercent: 100),
        OutlierDetectionSettings(baseEjectionTime: .nanoseconds(1), maxEjectionTime: .nanoseconds(1)),
    ])
    func boundarySettings(settings: OutlierDetectionSettings) throws {
        try settings.validate()
    }
}
