import Foundation
import FulcrumCore
import Testing

@Suite("Slow start (Envoy)")
struct SlowStartTests {
    static let window = Duration.seconds(10)

    /// |a − b| / |b|, or |a| when b is 0.
    static func relativeError(_ a: Double, _ b: Double) -> Double {
        b == 0 ? abs(a) : abs(a - b) / abs(b)
    }

    /// Envoy's formula with Foundation's pow, including its 1 ms floor.
    static func reference(fraction: Double, aggression: Double, minPercent: Double) -> Double {
        if fraction >= 1 { return 1 }
        let time = max(fraction, 0.001 / Self.window.seconds)
        return min(1, max(minPercent / 100, Foundation.pow(time, 1 / aggression)))
    }

    @Test("the defaults: off, linear, 10% floor")
    func defaults() throws {
        let settings = SlowStartSettings.defaults
        #expect(settings.window == .zero)
        #expect(settings.aggression == 1)
        #expect(settings.minWeightPercent == 10)
        #expect(!settings.isEnabled)
        try settings.validate()
    }

    @Test("disabled slow start gives a factor of 1 at any time", arguments: [Duration.zero, .nanoseconds(1), .seconds(5), .seconds(-1)])
    func disabled(elapsed: Duration) {
        #expect(SlowStartSettings.defaults.factor(elapsed: elapsed) == 1)
        #expect(SlowStartSettings(window: .zero, aggression: 3, minWeightPercent: 0).factor(elapsed: elapsed) == 1)
    }

    @Test(
        "factors at 0, 25%, 50% and 100% of the window agree with Foundation's pow",
        arguments: [1.0, 2.0, 0.5, 4.0], [0.0, 0.25, 0.5, 1.0]
    )
    func factorsMatchPow(aggression: Double, fraction: Double) {
        for minPercent in [0.0, 10.0] {
            let settings = SlowStartSettings(window: Self.window, aggression: aggression, minWeightPercent: minPercent)
            let elapsed = Duration.nanoseconds(Int64(fraction * Double(Self.window.nanoseconds)))
            let factor = settings.factor(elapsed: elapsed)
            let expected = Self.reference(fraction: fraction, aggression: aggression, minPercent: minPercent)
            #expect(Self.relativeError(factor, expected) <= 1e-12, "\(factor) vs \(expected)")
            #expect(factor > 0 && factor <= 1)
        }
    }

    @Test("the named points, for aggression 1 and 2")
    func namedPoints() {
        let linear = SlowStartSettings(window: Self.window)
        #expect(linear.factor(elapsed: .zero) == 0.1)
        #expect(linear.factor(elapsed: .milliseconds(2500)) == 0.25)
        #expect(linear.factor(elapsed: .seconds(5)) == 0.5)
        #expect(linear.factor(elapsed: .seconds(10)) == 1)
        #expect(linear.factor(elapsed: .seconds(11)) == 1)

        let square = SlowStartSettings(window: Self.window, aggression: 2)
        #expect(square.factor(elapsed: .zero) == 0.1)
        #expect(Self.relativeError(square.factor(elapsed: .milliseconds(2500)), 0.5) <= 1e-12)
        #expect(Self.relativeError(square.factor(elapsed: .seconds(5)), Foundation.sqrt(0.5)) <= 1e-12)
        #expect(square.factor(elapsed: .seconds(10)) == 1)
    }

    @Test("aggression 1 is exact: the factor is the fraction itself", arguments: [1, 3, 7, 1_234, 9_999])
    func linearIsExact(milliseconds: Int64) {
        let settings = SlowStartSettings(window: Self.window, minWeightPercent: 0)
        let fraction = Double(milliseconds * 1_000_000) / Double(Self.window.nanoseconds)
        #expect(settings.factor(elapsed: .milliseconds(milliseconds)) == fraction)
    }

    @Test("the minimum weight is a floor", arguments: [0.0, 5.0, 10.0, 50.0, 100.0])
    func minimumFloor(minPercent: Double) {
        let settings = SlowStartSettings(window: Self.window, aggression: 2, minWeightPercent: minPercent)
        for step in 0...100 {
            let factor = settings.factor(elapsed: .milliseconds(step * 100))
            #expect(factor >= minPercent / 100)
            #expect(factor <= 1)
        }
        // At 10% of the window the curve is √0.1 ≈ 0.316: the floor wins only above that.
        let expected = max(minPercent / 100, Foundation.sqrt(0.1))
        #expect(Self.relativeError(settings.factor(elapsed: .seconds(1)), expected) <= 1e-12)
    }

    @Test("with no floor, the factor at zero is still above zero (Envoy's 1 ms)")
    func neverZero() {
        let settings = SlowStartSettings(window: Self.window, minWeightPercent: 0)
        #expect(settings.factor(elapsed: .zero) == 1e-4)
        #expect(settings.factor(elapsed: .seconds(-5)) == 1e-4)
        #expect(settings.factor(elapsed: .microseconds(999)) == 1e-4)
    }

    @Test("the factor never falls as time passes", arguments: [0.25, 1.0, 2.0, 10.0])
    func monotonic(aggression: Double) {
        let settings = SlowStartSettings(window: .seconds(60), aggression: aggression, minWeightPercent: 0)
        var previous = 0.0
        for ms in stride(from: Int64(0), through: 61_000, by: 250) {
            let factor = settings.factor(elapsed: .milliseconds(ms))
            #expect(factor >= previous)
            previous = factor
        }
        #expect(previous == 1)
    }

    @Test(
        "out-of-range settings are rejected, naming the field and value",
        arguments: [
            (SlowStartSettings(window: .seconds(-1)), "window is"),
            (SlowStartSettings(aggression: 0), "aggression is 0.0"),
            (SlowStartSettings(aggression: -2), "aggression is -2.0"),
            (SlowStartSettings(aggression: .infinity), "aggression is inf"),
            (SlowStartSettings(aggression: .nan), "aggression is nan"),
            (SlowStartSettings(minWeightPercent: -1), "minWeightPercent is -1.0"),
            (SlowStartSettings(minWeightPercent: 100.5), "minWeightPercent is 100.5"),
            (SlowStartSettings(minWeightPercent: .nan), "minWeightPercent is nan"),
        ]
    )
    func invalidSettings(settings: SlowStartSettings, fragment: String) {
        do {
            try settings.validate()
            Issue.record("\(settings) was accepted")
        } catch {
            #expect(error.code == .invalidSetting)
            #expect(error.message.hasPrefix("slow start \(fragment)"), "\(error.message)")
        }
    }

    // MARK: The portable exp and pow

    @Test("exp agrees with Foundation's exp to a few ulps")
    func expAccuracy() {
        var rng = FastRandom(seed: 7)
        var worst = 0.0
        for _ in 0..<100_000 {
            let x = rng.unit() * 1_400 - 700
            let reference = Foundation.exp(x)
            worst = max(worst, abs(SlowStartMath.exp(x) - reference) / reference.ulp)
        }
        for x in [0.0, 1.0, -1.0, 1e-300, -1e-300, 0.5, -0.5, 709.78, -708.39] {
            let reference = Foundation.exp(x)
            worst = max(worst, abs(SlowStartMath.exp(x) - reference) / reference.ulp)
        }
        #expect(worst <= 4, "worst error \(worst) ulps")
        #expect(SlowStartMath.exp(0) == 1)
        #expect(SlowStartMath.exp(800) == .infinity)
        #expect(SlowStartMath.exp(-800) == 0)
        #expect(SlowStartMath.exp(.nan).isNaN)
    }

    @Test("pow agrees with Foundation's pow within 1e-12 relative")
    func powAccuracy() {
        var rng = FastRandom(seed: 11)
        var worst = 0.0
        for _ in 0..<100_000 {
            let x = max(rng.unit(), 1e-6)
            let y = 0.01 + rng.unit() * 3.99
            worst = max(worst, Self.relativeError(SlowStartMath.pow(x, y), Foundation.pow(x, y)))
        }
        #expect(worst <= 1e-12, "worst relative error \(worst)")
        #expect(SlowStartMath.pow(0, 2) == 0)
        #expect(SlowStartMath.pow(1, 0.3) == 1)
        #expect(SlowStartMath.pow(0.3, 0) == 1)
    }
}
