/// Floating-point functions computed with plain IEEE-754 arithmetic only.
///
/// Placement must be identical on every machine and in every release, and
/// platform `libm` implementations of `log` may differ in the last bit, which
/// can flip a close rendezvous comparison. These use only `+ − × ÷`, which
/// IEEE-754 defines exactly, so every machine gets the same bits.
package enum PortableMath {
    /// The natural logarithm of a positive finite `x`.
    ///
    /// x = m·2ᵉ with m in [√½, √2), so ln x = e·ln 2 + ln m, and
    /// ln m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …) with |s| = |m−1|/(m+1) < 0.172,
    /// which reaches double precision within 12 terms. Centring m on 1 keeps
    /// x near 1 free of cancellation. Accurate to a few ulps.
    package static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log needs a positive finite argument")
        var exponent = Double(x.exponent)
        var m = x.significand
        if m > 1.414_213_562_373_095_1 {
            m /= 2
            exponent += 1
        }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var term = s
        var sum = 0.0
        var k = 1.0
        for _ in 0..<12 {
            sum += term / k
            term *= s2
            k += 2
        }
        return exponent * 0.693_147_180_559_945_3 + 2 * sum
    }
}
