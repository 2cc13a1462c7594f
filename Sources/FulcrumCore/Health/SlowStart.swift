import FulcrumHashing

/// Envoy's slow start: a backend that has just come up (or joined) gets a
/// share of its weight that grows over a window, so a cold cache or JIT is
/// not hit with full traffic at once.
///
/// The factor is `max(minWeightPercent / 100, (elapsed / window)^(1 / aggression))`,
/// as in Envoy's `EdfLoadBalancerBase::applySlowStartFactor` (`slow_start_config`
/// of round-robin and least-request). Aggression 1 grows linearly; above 1
/// the weight rises quickly at first and slowly at the end; below 1 the
/// reverse. As in Envoy, the elapsed time counts as at least 1 ms, so the
/// factor stays above zero even with `minWeightPercent` 0 and the backend is
/// never unreachable. The tests compare the factors with Foundation's `pow`.
public struct SlowStartSettings: Sendable, Hashable {
    /// How long the ramp lasts; `.zero` turns slow start off.
    public var window: Duration
    /// The curve's shape, greater than 0; 1 is linear.
    public var aggression: Double
    /// The least share of the weight, in percent, 0–100. Envoy's default is
    /// 10: a backend that has just come up still gets some traffic to warm on.
    public var minWeightPercent: Double

    public static var defaults: Self { .init() }

    public init(window: Duration = .zero, aggression: Double = 1.0, minWeightPercent: Double = 10) {
        self.window = window
        self.aggression = aggression
        self.minWeightPercent = minWeightPercent
    }

    /// Whether there is a ramp at all.
    public var isEnabled: Bool { window > .zero }

    /// - Throws: ``CoreError`` with code `.invalidSetting`, naming the first
    ///   field out of range, its value and what is accepted.
    public func validate() throws(CoreError) {
        if window < .zero {
            throw Self.invalid("window is \(window); it must be zero (off) or longer")
        }
        if !(aggression > 0 && aggression.isFinite) {
            throw Self.invalid("aggression is \(aggression); it must be a finite number greater than 0 (1 is linear)")
        }
        if !(0...100).contains(minWeightPercent) {
            throw Self.invalid("minWeightPercent is \(minWeightPercent); it must be a number from 0 to 100")
        }
    }

    private static func invalid(_ message: String) -> CoreError {
        CoreError(code: .invalidSetting, message: "slow start " + message)
    }

    /// The share of its weight that a backend which came up `elapsed` ago
    /// gets, in (0, 1]; 1 when slow start is off or the window has passed.
    ///
    /// Settings are expected to be validated; an invalid aggression is
    /// treated as 1, as Envoy does, rather than trapping on the pick path.
    /// - Complexity: O(1). Aggression 1 is a single division; any other
    ///   value costs a logarithm and an exponential (about 40 multiplies).
    public func factor(elapsed: Duration) -> Double {
        guard isEnabled else { return 1 }
        let elapsedNanoseconds = max(elapsed.nanoseconds, Self.leastElapsedNanoseconds)
        let windowNanoseconds = window.nanoseconds
        guard elapsedNanoseconds < windowNanoseconds else { return 1 }
        let fraction = Double(elapsedNanoseconds) / Double(windowNanoseconds)
        let curve: Double
        if aggression == 1 || !(aggression > 0 && aggression.isFinite) {
            // Exact, and the common case: no pow, no rounding beyond the division.
            curve = fraction
        } else {
            curve = SlowStartMath.pow(fraction, 1 / aggression)
        }
        let floor = min(1, max(0, minWeightPercent / 100))
        return min(1, max(floor, curve))
    }

    /// Envoy counts the time in service as at least 1 ms.
    private static let leastElapsedNanoseconds: Int64 = 1_000_000
}

/// `exp` and `pow` from plain IEEE-754 arithmetic, because the core does not
/// link Foundation. Built on ``PortableMath/log`` from FulcrumHashing, so the
/// same inputs give the same bits on every machine, like the rest of the
/// balancing arithmetic.
package enum SlowStartMath {
    /// ln 2 split in two (Cody & Waite): `high` has trailing zero bits, so
    /// `k × high` is exact for the k that occur, and `low` restores the rest.
    /// These are fdlibm's constants.
    private static let ln2High = 6.931_471_803_691_238_164_90e-01
    private static let ln2Low = 1.908_214_929_270_587_700_02e-10
    private static let log2e = 1.442_695_040_888_963_387_00

    /// e^x.
    ///
    /// x = k·ln 2 + r with k whole and |r| ≤ ln 2 / 2, so e^x = 2^k · e^r, and
    /// e^r comes from its Taylor series, which within |r| < 0.35 reaches double
    /// precision by the 18th term (0.35¹⁸/18! < 10⁻²³). Accurate to a few ulps.
    /// - Complexity: O(1): 18 multiply-adds.
    package static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.782_712_893_384 { return .infinity }
        if x < -745.133_219_101_941_1 { return 0 }
        let k = (x * log2e).rounded()
        let r = (x - k * ln2High) - k * ln2Low
        // Horner's rule from the highest term down: 1 + r(1 + r/2(1 + r/3(…))).
        var sum = 1.0
        var n = 18.0
        while n >= 1 {
            sum = 1 + sum * r / n
            n -= 1
        }
        // Scale by 2^k in two steps, so that results near the ends of the
        // range (where 2^k alone would overflow or underflow) stay exact.
        let half = Int(k) / 2
        return sum * Double(sign: .plus, exponent: half, significand: 1)
            * Double(sign: .plus, exponent: Int(k) - half, significand: 1)
    }

    /// x^y for positive x, as e^(y·ln x); 0^y is 0 for positive y.
    /// - Complexity: O(1).
    package static func pow(_ x: Double, _ y: Double) -> Double {
        precondition(x >= 0, "pow is defined here for x ≥ 0")
        if y == 0 || x == 1 { return 1 }
        if x == 0 { return y > 0 ? 0 : .infinity }
        return exp(y * PortableMath.log(x))
    }
}
